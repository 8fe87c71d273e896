// Package realapi runs the Kubernetes target against a real kube-apiserver and
// etcd (built from the module proxy) with only the Role from deployment.yaml.
// It is a separate module so that its Kubernetes v1.34 build never touches the
// main module; run it with: cd hack/realapi && go test -count=1 -timeout 40m ./...
package realapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

const (
	repoRoot   = "../.."
	namespace  = "atomix-failover"
	store      = "consensus-store"
	cluster    = "consensus-cluster"
	adminToken = "admin-token"
	userToken  = "experiment-token"
	saUser     = "system:serviceaccount:atomix-failover:enhanced-failover-experiment"
)

var (
	crdGVR       = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	podGVR       = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	partitionGVR = schema.GroupVersionResource{Group: "raft.atomix.io", Version: "v1beta3", Resource: "raftpartitions"}
	replicaGVR   = schema.GroupVersionResource{Group: "raft.atomix.io", Version: "v1beta3", Resource: "raftreplicas"}
	kinds        = map[string]schema.GroupVersionResource{
		"Namespace":      {Version: "v1", Resource: "namespaces"},
		"ServiceAccount": {Version: "v1", Resource: "serviceaccounts"},
		"Role":           {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
		"RoleBinding":    {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
		"Deployment":     {Group: "apps", Version: "v1", Resource: "deployments"},
		"RaftCluster":    {Group: "raft.atomix.io", Version: "v1beta3", Resource: "raftclusters"},
		"RaftStore":      {Group: "raft.atomix.io", Version: "v1beta3", Resource: "raftstores"},
	}
)

// binDir holds kube-apiserver and etcd; they are built there when missing.
func binDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("REALAPI_BIN")
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(c, "atomix-failover-realapi")
	}
	for name, pkg := range map[string]string{"etcd": "go.etcd.io/etcd/server/v3", "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			continue
		}
		t.Logf("building %s (first run only)", name)
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", name, err, out)
		}
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs a server process until the test ends.
func start(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir(t), name), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("%s log tail:\n%s", name, b)
		}
	})
}

func startAPIServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	etcdClient, etcdPeer, apiPort := freePort(t), freePort(t), freePort(t)
	start(t, dir, "etcd", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--advertise-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPeer),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPeer),
		"--initial-cluster", fmt.Sprintf("default=http://127.0.0.1:%d", etcdPeer))

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "sa.key")
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	tokens := fmt.Sprintf("%s,admin,admin,\"system:masters\"\n%s,%s,experiment,\"system:serviceaccounts,system:serviceaccounts:%s\"\n",
		adminToken, userToken, saUser, namespace)
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(keyFile, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(tokens), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, dir, "kube-apiserver",
		"--etcd-servers", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--bind-address", "127.0.0.1", "--secure-port", fmt.Sprint(apiPort),
		"--cert-dir", filepath.Join(dir, "certs"),
		"--authorization-mode", "RBAC", "--token-auth-file", tokenFile,
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", keyFile, "--service-account-signing-key-file", keyFile,
		"--service-cluster-ip-range", "10.0.0.0/24",
		"--disable-admission-plugins", "ServiceAccount")
	host := fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	cfg := adminConfig(host)
	rc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequest(http.MethodGet, host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := rc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return host
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kube-apiserver not ready: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func adminConfig(host string) *rest.Config {
	return &rest.Config{Host: host, BearerToken: adminToken, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 10 * time.Second}
}

func crd(plural, kind string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": plural + ".raft.atomix.io"},
		"spec": map[string]any{
			"group": "raft.atomix.io", "scope": "Namespaced",
			"names": map[string]any{"plural": plural, "kind": kind, "listKind": kind + "List", "singular": strings.ToLower(kind)},
			"versions": []any{map[string]any{
				"name": "v1beta3", "served": true, "storage": true,
				"subresources": map[string]any{"status": map[string]any{}},
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true,
				}},
			}},
		},
	}}
}

func applyFile(t *testing.T, dyn dynamic.Interface, name string) {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatal(err)
		}
		gvr, ok := kinds[u.GetKind()]
		if !ok {
			t.Fatalf("%s: unexpected kind %s", name, u.GetKind())
		}
		var res dynamic.ResourceInterface = dyn.Resource(gvr)
		if u.GetNamespace() != "" {
			res = dyn.Resource(gvr).Namespace(u.GetNamespace())
		}
		if _, err := res.Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("%s: creating %s %s: %v", name, u.GetKind(), u.GetName(), err)
		}
	}
}

func createWithStatus(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, u *unstructured.Unstructured) {
	t.Helper()
	res := dyn.Resource(gvr).Namespace(namespace)
	status := u.Object["status"]
	created, err := res.Create(context.Background(), u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating %s %s: %v", gvr.Resource, u.GetName(), err)
	}
	if status != nil {
		created.Object["status"] = status
		if _, err := res.UpdateStatus(context.Background(), created, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("setting the status of %s %s: %v", gvr.Resource, u.GetName(), err)
		}
	}
}

func setLeader(t *testing.T, dyn dynamic.Interface, partition int, term int64, replica string) {
	t.Helper()
	res := dyn.Resource(partitionGVR).Namespace(namespace)
	u, err := res.Get(context.Background(), fmt.Sprintf("%s-%d", store, partition), metav1.GetOptions{})
	if err != nil {
		t.Error(err)
		return
	}
	u.Object["status"] = map[string]any{"state": "Ready", "term": term, "leader": map[string]any{"name": replica}}
	if _, err := res.UpdateStatus(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Error(err)
	}
}

// seedStore creates what the Atomix raft controller would: pods, partitions and replicas.
func seedStore(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	for i := range 3 {
		createWithStatus(t, dyn, podGVR, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": fmt.Sprintf("%s-%d", cluster, i), "labels": map[string]any{
				"raft.atomix.io/cluster": cluster, "raft.atomix.io/namespace": namespace}},
			"spec": map[string]any{"containers": []any{map[string]any{"name": "atomix-raft-node", "image": "atomix/raft-node"}}},
		}})
	}
	for p := 1; p <= 3; p++ {
		labels := map[string]any{"atomix.io/store": store, "raft.atomix.io/store": store, "raft.atomix.io/cluster": cluster,
			"raft.atomix.io/namespace": namespace, "raft.atomix.io/partition-id": fmt.Sprint(p), "raft.atomix.io/group-id": fmt.Sprint(p)}
		createWithStatus(t, dyn, partitionGVR, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "raft.atomix.io/v1beta3", "kind": "RaftPartition",
			"metadata": map[string]any{"name": fmt.Sprintf("%s-%d", store, p), "labels": labels},
			"spec":     map[string]any{"partitionID": int64(p), "groupID": int64(p), "replicas": int64(3)},
			"status":   map[string]any{"state": "Ready", "term": int64(1), "leader": map[string]any{"name": fmt.Sprintf("%s-%d-%d", store, p, p)}},
		}})
		for r := 1; r <= 3; r++ {
			rl := map[string]any{}
			for k, v := range labels {
				rl[k] = v
			}
			pod := fmt.Sprintf("%s-%d", cluster, (3*p+r-1)%3)
			rl["raft.atomix.io/pod"], rl["raft.atomix.io/replica-id"], rl["raft.atomix.io/member-id"] = pod, fmt.Sprint(r), fmt.Sprint(r)
			createWithStatus(t, dyn, replicaGVR, &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "raft.atomix.io/v1beta3", "kind": "RaftReplica",
				"metadata": map[string]any{"name": fmt.Sprintf("%s-%d-%d", store, p, r), "labels": rl},
				"spec": map[string]any{"groupID": int64(p), "replicaID": int64(r), "memberID": int64(r),
					"pod": map[string]any{"name": pod}, "type": "Voter", "peers": int64(3)},
			}})
		}
	}
}

func writeKubeconfig(t *testing.T, host string) string {
	t.Helper()
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: real
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: experiment
  user: {token: %q}
contexts:
- name: experiment
  context: {cluster: real, user: experiment, namespace: %s}
current-context: experiment
`, host, userToken, namespace)
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func buildTool(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "atomix-failover")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = repoRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building atomix-failover: %v\n%s", err, b)
	}
	return out
}

func runTool(t *testing.T, tool, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	args = append(args, "--target", "kubernetes", "--kubeconfig", kubeconfig, "--namespace", namespace, "--store", store, "--log-level", "warn")
	cmd := exec.Command(tool, args...)
	cmd.Env = append(os.Environ(), "KUBERNETES_SERVICE_HOST=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	t.Logf("$ atomix-failover %s\n%s%s", strings.Join(args, " "), out.String(), errb.String())
	return out.String(), err
}

func TestTargetAgainstRealAPIServerWithOnlyTheRole(t *testing.T) {
	tool := buildTool(t)
	host := startAPIServer(t)
	dyn, err := dynamic.NewForConfig(adminConfig(host))
	if err != nil {
		t.Fatal(err)
	}
	for plural, kind := range map[string]string{"raftclusters": "RaftCluster", "raftstores": "RaftStore", "raftpartitions": "RaftPartition", "raftreplicas": "RaftReplica"} {
		if _, err := dyn.Resource(crdGVR).Create(context.Background(), crd(plural, kind), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := dyn.Resource(replicaGVR).Namespace("default").List(context.Background(), metav1.ListOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRDs not served: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	applyFile(t, dyn, "deployment.yaml")
	applyFile(t, dyn, "consensus-store.yaml")
	seedStore(t, dyn)
	kubeconfig := writeKubeconfig(t, host)

	user, err := dynamic.NewForConfig(&rest.Config{Host: host, BearerToken: userToken, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	secrets := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	if _, err := user.Resource(secrets).Namespace(namespace).List(context.Background(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the experiment's user listed secrets (err %v): RBAC is not what deployment.yaml grants", err)
	}
	if _, err := user.Resource(podGVR).Namespace("default").List(context.Background(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the experiment's user listed pods outside its namespace (err %v)", err)
	}

	out, err := runTool(t, tool, kubeconfig, "leaders")
	if err != nil {
		t.Fatalf("leaders: %v", err)
	}
	if !strings.Contains(out, "store consensus-store (kubernetes target): 3 partitions × 3 replicas") {
		t.Fatalf("leaders header missing:\n%s", out)
	}
	rows := regexp.MustCompile(`(?m)^(\d)\s+(\d) consensus-store-\d-\d\s+(consensus-cluster-\d)\s+-\s+-\s+1\s+\S+$`).FindAllStringSubmatch(out, -1)
	if len(rows) != 3 {
		t.Fatalf("want 3 partition rows, got:\n%s", out)
	}
	for i, r := range rows {
		if r[1] != fmt.Sprint(i+1) || r[2] != fmt.Sprint(i+1) || r[3] != fmt.Sprintf("%s-%d", cluster, (3*(i+1)+i)%3) {
			t.Errorf("row %d: %q", i, r[0])
		}
	}

	out, err = runTool(t, tool, kubeconfig, "kill-leader", "--partition", "2", "--dry-run")
	if err != nil || !strings.Contains(out, "dry run: would kill consensus-cluster-1 (member 2), leader of partition 2 in term 1") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}

	// The controller's part after the kill: a new leader in term 2.
	go func() {
		w, err := dyn.Resource(podGVR).Namespace(namespace).Watch(context.Background(), metav1.ListOptions{FieldSelector: "metadata.name=consensus-cluster-0"})
		if err != nil {
			t.Error(err)
			return
		}
		defer w.Stop()
		for ev := range w.ResultChan() {
			if ev.Type == "DELETED" {
				setLeader(t, dyn, 1, 2, "consensus-store-1-2")
				return
			}
		}
	}()
	out, err = runTool(t, tool, kubeconfig, "kill-leader", "--partition", "1", "--wait", "30s")
	if err != nil {
		t.Fatalf("kill-leader: %v\n%s", err, out)
	}
	for _, want := range []string{"killed     consensus-cluster-0 (member 1), leader of partition 1 in term 1", "new leader consensus-cluster-1 (member 2) in term 2"} {
		if !strings.Contains(out, want) {
			t.Fatalf("kill-leader output lacks %q:\n%s", want, out)
		}
	}
	if _, err := dyn.Resource(podGVR).Namespace(namespace).Get(context.Background(), "consensus-cluster-0", metav1.GetOptions{}); err == nil {
		t.Fatal("the leader's pod still exists")
	}
}
