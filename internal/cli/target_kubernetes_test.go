package cli

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes/fakecluster"
)

// useFakeKubernetes makes --target kubernetes open f and records the config it was given.
func useFakeKubernetes(t *testing.T, f *fakecluster.Fake) *kubernetes.Config {
	t.Helper()
	var got kubernetes.Config
	saved := openKubernetes
	openKubernetes = func(ctx context.Context, cfg kubernetes.Config, log *zap.Logger) (cluster.Target, error) {
		got = cfg
		tgt, err := kubernetes.New(ctx, kubernetes.Clients{Kube: f.Kube, Dynamic: f.Dynamic}, cfg, log)
		if err != nil {
			return nil, err
		}
		return tgt.ClusterTarget(), nil
	}
	t.Cleanup(func() { openKubernetes = saved })
	return &got
}

func raftFake() *fakecluster.Fake {
	f := fakecluster.New("failover", "raft")
	f.AddRaftStore("s", "c", 3, 3)
	f.EnforceDeletePreconditions(true)
	return f
}

func podDeletes(f *fakecluster.Fake) int {
	n := 0
	for _, a := range f.Kube.Actions() {
		if a.GetVerb() == "delete" && a.GetResource().Resource == "pods" {
			n++
		}
	}
	return n
}

var k8sFlags = []string{"--target", "kubernetes", "--namespace", "failover", "--store", "s", "--log-level", "error"}

func TestKubernetesFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, cfg kubernetes.Config)
	}{
		{name: "defaults (no store in namespace default)", args: []string{"leaders", "--target", "kubernetes", "--log-level", "error"}, wantCode: ExitUsage,
			check: func(t *testing.T, cfg kubernetes.Config) {
				if cfg.StoreKind != kubernetes.KindAuto || cfg.GracePeriod != 0 || cfg.Store != "" || cfg.Kubeconfig != "" || cfg.DataPath != kubernetes.DataPathAuto {
					t.Errorf("config %+v", cfg)
				}
			}},
		{name: "all flags", args: []string{"leaders", "--target", "kubernetes", "--namespace", "failover", "--store", "s",
			"--kubeconfig", "/k", "--grace-period", "3", "--store-kind", "raft", "--data-path", "sidecar", "--log-level", "error"}, wantCode: ExitOK,
			check: func(t *testing.T, cfg kubernetes.Config) {
				if cfg.StoreKind != "raft" || cfg.GracePeriod != 3 || cfg.Store != "s" || cfg.Kubeconfig != "/k" || cfg.Namespace != "failover" || cfg.DataPath != "sidecar" {
					t.Errorf("config %+v", cfg)
				}
			}},
		{name: "bad store kind", args: []string{"leaders", "--target", "kubernetes", "--store-kind", "etcd"}, wantCode: ExitUsage},
		{name: "negative grace period", args: []string{"leaders", "--target", "kubernetes", "--grace-period", "-1"}, wantCode: ExitUsage},
		{name: "bad data path", args: []string{"leaders", "--target", "kubernetes", "--data-path", "direct"}, wantCode: ExitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := raftFake()
			got := useFakeKubernetes(t, f)
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr)
			}
			if tc.check != nil {
				tc.check(t, *got)
			}
		})
	}
}

func TestKubernetesLeaders(t *testing.T) {
	f := raftFake()
	useFakeKubernetes(t, f)
	code, out, stderr := runCLI(t, append([]string{"leaders"}, k8sFlags...)...)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(out, "store s (kubernetes target): 3 partitions × 3 replicas") {
		t.Fatalf("no header:\n%s", out)
	}
	row := regexp.MustCompile(`(?m)^(\d)\s+(\d) s-\d-\d\s+(c-\d)\s+-\s+10\.0\.0\.\d+:5678\s+1\s+\d:c-\d,\d:c-\d$`)
	rows := row.FindAllStringSubmatch(out, -1)
	if len(rows) != 3 {
		t.Fatalf("want 3 partition rows, got %d:\n%s", len(rows), out)
	}
	for i, r := range rows {
		if want := []string{"c-0", "c-1", "c-2"}[i]; r[3] != want {
			t.Errorf("partition %s: leader pod %s, want %s", r[1], r[3], want)
		}
	}
}

func TestKubernetesKillLeaderDryRun(t *testing.T) {
	f := raftFake()
	useFakeKubernetes(t, f)
	code, out, stderr := runCLI(t, append([]string{"kill-leader", "--partition", "2", "--dry-run"}, k8sFlags...)...)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(out, "dry run: would kill c-1 (member 2), leader of partition 2 in term 1") {
		t.Fatalf("unexpected output:\n%s", out)
	}
	if n := podDeletes(f); n != 0 {
		t.Fatalf("dry run deleted %d pods", n)
	}
}

func TestKubernetesKillLeader(t *testing.T) {
	f := raftFake()
	// The controller's view after the kill: replica s-1-2 (pod c-1) wins term 2.
	f.Kube.PrependReactor("delete", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		go f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 2, "s-1-2")
		return false, nil, nil
	})
	useFakeKubernetes(t, f)
	code, out, stderr := runCLI(t, append([]string{"kill-leader", "--partition", "1", "--wait", "10s"}, k8sFlags...)...)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s\nstdout:\n%s", code, stderr, out)
	}
	for _, want := range []string{
		"killed     c-0 (member 1), leader of partition 1 in term 1",
		"new leader c-1 (member 2) in term 2",
		"election ",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if p := f.Pod("c-0"); p == nil || p.UID == "" {
		t.Fatalf("c-0 was not replaced: %+v", p)
	}
}

func TestKubernetesKillLeaderRefused(t *testing.T) {
	f := raftFake()
	f.AddPod("bystander", map[string]string{"app": "web"})
	f.Mutate(fakecluster.RaftReplicas, "s-1-1", func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, "bystander", "spec", "pod", "name")
	})
	useFakeKubernetes(t, f)
	for _, dry := range []string{"--dry-run=true", "--dry-run=false"} {
		code, _, stderr := runCLI(t, append([]string{"kill-leader", "--partition", "1", dry}, k8sFlags...)...)
		if code != ExitUsage || !strings.Contains(stderr, cluster.ErrNotMember.Error()) {
			t.Fatalf("%s: exit %d, stderr:\n%s", dry, code, stderr)
		}
	}
	if _, err := f.Kube.CoreV1().Pods("failover").Get(context.Background(), "bystander", metav1.GetOptions{}); err != nil {
		t.Fatalf("bystander pod: %v", err)
	}
	if n := podDeletes(f); n != 0 {
		t.Fatalf("refused kill deleted %d pods", n)
	}
}

// TestKubernetesRunWithoutDataStore: the embedded data path without the
// store's DataStore is a target failure (exit 2) that names the DataStore.
func TestKubernetesRunWithoutDataStore(t *testing.T) {
	f := raftFake()
	useFakeKubernetes(t, f)
	out := filepath.Join(t.TempDir(), "results.log")
	code, _, stderr := runCLI(t, append([]string{"run", "--data-path", "embedded", "--out", out}, k8sFlags...)...)
	if code != ExitUsage || !strings.Contains(stderr, "DataStore failover/s not found") {
		t.Fatalf("exit %d, want %d naming the DataStore; stderr:\n%s", code, ExitUsage, stderr)
	}
	if n := podDeletes(f); n != 0 {
		t.Fatalf("%d pods deleted without a data path", n)
	}
}
