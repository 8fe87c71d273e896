package kubernetes_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes"
)

// repoRoot is the module root, where the manifests live.
const repoRoot = "../../.."

// decodeManifest decodes every document of a manifest: built-in kinds with
// client-go's scheme, custom resources as unstructured objects.
func decodeManifest(t *testing.T, name string) []runtime.Object {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var out []runtime.Object
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if runtime.IsNotRegisteredError(err) {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(doc, &u.Object); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			obj = u
		} else if err != nil {
			t.Fatalf("%s: decoding %q: %v", name, doc, err)
		}
		out = append(out, obj)
	}
	return out
}

func customResources(objs []runtime.Object) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if u, ok := o.(*unstructured.Unstructured); ok {
			out[u.GetKind()] = u
		}
	}
	return out
}

func str(t *testing.T, u *unstructured.Unstructured, path ...string) string {
	t.Helper()
	v, _, err := unstructured.NestedFieldNoCopy(u.Object, path...)
	if err != nil {
		t.Fatalf("%s %v: %v", u.GetKind(), path, err)
	}
	s, _ := v.(string)
	if s == "" && v != nil {
		if b, err := yaml.Marshal(v); err == nil {
			s = strings.TrimSpace(string(b))
		}
	}
	return s
}

const (
	wantNamespace = "atomix-failover"
	wantStore     = "consensus-store"
	wantProfile   = "enhanced-failover-experiment"
)

func TestStoreManifest(t *testing.T) {
	crs := customResources(decodeManifest(t, "consensus-store.yaml"))
	cl, st := crs["RaftCluster"], crs["RaftStore"]
	if cl == nil || st == nil {
		t.Fatalf("want a RaftCluster and a RaftStore, got %v", crs)
	}
	for _, u := range []*unstructured.Unstructured{cl, st} {
		if u.GetAPIVersion() != "raft.atomix.io/v1beta3" || u.GetNamespace() != wantNamespace {
			t.Errorf("%s %s: apiVersion %s namespace %s", u.GetKind(), u.GetName(), u.GetAPIVersion(), u.GetNamespace())
		}
	}
	if str(t, cl, "spec", "replicas") != "3" || str(t, cl, "spec", "persistence", "enabled") != "true" {
		t.Errorf("RaftCluster: want 3 replicas with persistence, got %v", cl.Object["spec"])
	}
	if st.GetName() != wantStore || str(t, st, "spec", "partitions") != "3" || str(t, st, "spec", "cluster", "name") != cl.GetName() {
		t.Errorf("RaftStore: want %s with 3 partitions on %s, got %v", wantStore, cl.GetName(), st.Object)
	}
}

func TestStorageProfileManifest(t *testing.T) {
	sp := customResources(decodeManifest(t, "storage-profile.yaml"))["StorageProfile"]
	if sp == nil || sp.GetAPIVersion() != "atomix.io/v3beta4" || sp.GetName() != wantProfile || sp.GetNamespace() != wantNamespace {
		t.Fatalf("StorageProfile: %v", sp)
	}
	routes, _, _ := unstructured.NestedSlice(sp.Object, "spec", "routes")
	if len(routes) != 1 {
		t.Fatalf("routes: %v", routes)
	}
	route := &unstructured.Unstructured{Object: routes[0].(map[string]any)}
	if str(t, route, "store", "name") != wantStore || str(t, route, "store", "namespace") != wantNamespace {
		t.Errorf("route store: %v", route.Object["store"])
	}
	rules, _, _ := unstructured.NestedSlice(route.Object, "rules")
	if len(rules) != 1 {
		t.Fatalf("rules: %v", rules)
	}
	rule := &unstructured.Unstructured{Object: rules[0].(map[string]any)}
	if str(t, rule, "kind") != "Map" || str(t, rule, "apiVersion") != "v1" || str(t, rule, "config", "cache", "enabled") != "false" {
		t.Errorf("rule: want Map v1 with the cache off, got %v", rule.Object)
	}
}

type grant struct{ group, resource, verb string }

func TestDeploymentManifest(t *testing.T) {
	objs := decodeManifest(t, "deployment.yaml")
	var (
		nsObj *corev1.Namespace
		sa    *corev1.ServiceAccount
		role  *rbacv1.Role
		rb    *rbacv1.RoleBinding
		dep   *appsv1.Deployment
	)
	for _, o := range objs {
		switch v := o.(type) {
		case *corev1.Namespace:
			nsObj = v
		case *corev1.ServiceAccount:
			sa = v
		case *rbacv1.Role:
			role = v
		case *rbacv1.RoleBinding:
			rb = v
		case *appsv1.Deployment:
			dep = v
		default:
			t.Errorf("unexpected object %T", o)
		}
	}
	if nsObj == nil || sa == nil || role == nil || rb == nil || dep == nil {
		t.Fatalf("want Namespace, ServiceAccount, Role, RoleBinding and Deployment; got %d objects", len(objs))
	}
	if nsObj.Name != wantNamespace || sa.Namespace != wantNamespace || role.Namespace != wantNamespace || rb.Namespace != wantNamespace || dep.Namespace != wantNamespace {
		t.Errorf("objects not all in namespace %s", wantNamespace)
	}

	granted := map[grant]bool{}
	for _, r := range role.Rules {
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %+v: resourceNames / nonResourceURLs not expected", r)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					if g == "*" || res == "*" || v == "*" {
						t.Errorf("rule %+v uses a wildcard", r)
					}
					granted[grant{g, res, v}] = true
				}
			}
		}
	}
	needed := map[grant]bool{}
	for _, p := range kubernetes.RequiredPermissions {
		for _, v := range p.Verbs {
			needed[grant{p.APIGroup, p.Resource, v}] = true
		}
	}
	for g := range granted {
		if !needed[g] {
			t.Errorf("Role grants %v, which the code never calls", g)
		}
	}
	for g := range needed {
		if !granted[g] {
			t.Errorf("Role lacks %v, which the code calls", g)
		}
	}

	if rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != role.Name || len(rb.Subjects) != 1 ||
		rb.Subjects[0].Kind != "ServiceAccount" || rb.Subjects[0].Name != sa.Name || rb.Subjects[0].Namespace != wantNamespace {
		t.Errorf("RoleBinding %+v does not bind Role %s to ServiceAccount %s", rb, role.Name, sa.Name)
	}

	if dep.Name != "enhanced-failover-experiment" {
		t.Errorf("Deployment name %s", dep.Name)
	}
	pt := dep.Spec.Template
	if pt.Labels["sidecar.atomix.io/inject"] != "true" || pt.Labels["runtime.atomix.io/profile"] != wantProfile {
		t.Errorf("pod labels %v: want sidecar injection and profile %s", pt.Labels, wantProfile)
	}
	if pt.Spec.ServiceAccountName != sa.Name {
		t.Errorf("serviceAccountName %q, want %q", pt.Spec.ServiceAccountName, sa.Name)
	}
	if len(pt.Spec.Containers) != 1 {
		t.Fatalf("want one container (the sidecar is injected), got %d", len(pt.Spec.Containers))
	}
	c := pt.Spec.Containers[0]
	if pt.Annotations["kubectl.kubernetes.io/default-container"] != c.Name {
		t.Errorf("default-container annotation %q, want %q", pt.Annotations["kubectl.kubernetes.io/default-container"], c.Name)
	}
	sc := c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container security context %+v: want non-root, read-only root filesystem, no privilege escalation", sc)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("no %s request", r)
		}
		if _, ok := c.Resources.Limits[r]; !ok {
			t.Errorf("no %s limit", r)
		}
	}
	var logsVolume string
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/app/logs" {
			logsVolume = m.Name
		}
	}
	found := false
	for _, v := range pt.Spec.Volumes {
		if v.Name == logsVolume && v.EmptyDir != nil {
			found = true
		}
	}
	if !found {
		t.Errorf("no emptyDir mounted at /app/logs")
	}
	cmd := strings.Join(append(slices.Clone(c.Command), c.Args...), " ")
	for _, want := range []string{"--target=kubernetes", "--store=" + wantStore} {
		if !strings.Contains(cmd, want) {
			t.Errorf("container command %q lacks %s", cmd, want)
		}
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"AS build", "CGO_ENABLED=1", "WORKDIR /app", "USER 65532", "/app/logs"} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if n := strings.Count(s, "\nFROM "); n < 2 {
		t.Errorf("Dockerfile has %d stages, want a multi-stage build", n)
	}
}

// TestRunScriptShellcheck runs shellcheck on run.sh when it is installed (CI installs it).
func TestRunScriptShellcheck(t *testing.T) {
	path, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck not installed (apt-get install -y shellcheck)")
	}
	out, err := exec.Command(path, filepath.Join(repoRoot, "run.sh")).CombinedOutput()
	if err != nil {
		t.Fatalf("shellcheck run.sh: %v\n%s", err, out)
	}
}
