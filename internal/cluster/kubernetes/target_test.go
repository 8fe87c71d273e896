package kubernetes_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes/fakecluster"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const ns = "failover"

func open(t *testing.T, f *fakecluster.Fake, mutate ...func(*kubernetes.Config)) *kubernetes.Target {
	t.Helper()
	tgt, err := tryOpen(t, f, mutate...)
	if err != nil {
		t.Fatalf("opening the target: %v", err)
	}
	return tgt
}

func tryOpen(t *testing.T, f *fakecluster.Fake, mutate ...func(*kubernetes.Config)) (*kubernetes.Target, error) {
	t.Helper()
	cfg := kubernetes.DefaultConfig()
	cfg.Namespace = ns
	cfg.CallTimeout = 5 * time.Second
	cfg.SyncTimeout = 10 * time.Second
	for _, m := range mutate {
		m(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tgt, err := kubernetes.New(ctx, kubernetes.Clients{Kube: f.Kube, Dynamic: f.Dynamic}, cfg, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
	if err == nil {
		t.Cleanup(func() {
			if err := tgt.Close(); err != nil {
				t.Errorf("closing: %v", err)
			}
		})
	}
	return tgt, err
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func withStore(name string) func(*kubernetes.Config) {
	return func(c *kubernetes.Config) { c.Store = name }
}

func withKind(kind string) func(*kubernetes.Config) {
	return func(c *kubernetes.Config) { c.StoreKind = kind }
}

func TestDiscovery(t *testing.T) {
	tests := []struct {
		name      string
		served    []string
		build     func(f *fakecluster.Fake)
		cfg       []func(*kubernetes.Config)
		wantKind  string
		wantStore string
		wantErr   string
	}{
		{name: "raft era", served: []string{"raft"}, build: func(f *fakecluster.Fake) { f.AddRaftStore("s", "c", 3, 3) },
			cfg: []func(*kubernetes.Config){withStore("s")}, wantKind: "RaftStore", wantStore: "s"},
		{name: "consensus era", served: []string{"consensus"}, build: func(f *fakecluster.Fake) { f.AddConsensusStore("cs", 3, 3) },
			cfg: []func(*kubernetes.Config){withStore("cs")}, wantKind: "ConsensusStore", wantStore: "cs"},
		{name: "both eras served, store is consensus", served: []string{"raft", "consensus"}, build: func(f *fakecluster.Fake) { f.AddConsensusStore("cs", 2, 3) },
			cfg: []func(*kubernetes.Config){withStore("cs")}, wantKind: "ConsensusStore", wantStore: "cs"},
		{name: "only store found without --store", served: []string{"raft", "consensus"}, build: func(f *fakecluster.Fake) { f.AddRaftStore("only", "c", 3, 3) },
			wantKind: "RaftStore", wantStore: "only"},
		{name: "forced raft kind", served: []string{"raft", "consensus"},
			build: func(f *fakecluster.Fake) { f.AddRaftStore("s", "c", 3, 3); f.AddConsensusStore("cs", 3, 3) },
			cfg:   []func(*kubernetes.Config){withKind(kubernetes.KindRaft)}, wantKind: "RaftStore", wantStore: "s"},
		{name: "forced consensus kind, API absent", served: []string{"raft"}, build: func(f *fakecluster.Fake) { f.AddRaftStore("s", "c", 3, 3) },
			cfg: []func(*kubernetes.Config){withKind(kubernetes.KindConsensus)}, wantErr: "consensus.atomix.io/v1beta1 is not served"},
		{name: "no Atomix", served: nil, build: func(*fakecluster.Fake) {}, wantErr: "is Atomix installed"},
		{name: "store missing", served: []string{"raft"}, build: func(f *fakecluster.Fake) { f.AddRaftStore("s", "c", 3, 3) },
			cfg: []func(*kubernetes.Config){withStore("nope")}, wantErr: `store "nope" not found`},
		{name: "several stores", served: []string{"raft"},
			build:   func(f *fakecluster.Fake) { f.AddRaftStore("a", "c1", 1, 3); f.AddRaftStore("b", "c2", 1, 3) },
			wantErr: "choose one with --store"},
		{name: "bad kind", served: []string{"raft"}, build: func(*fakecluster.Fake) {},
			cfg: []func(*kubernetes.Config){withKind("etcd")}, wantErr: "want auto, raft or consensus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakecluster.New(ns, tc.served...)
			tc.build(f)
			tgt, err := tryOpen(t, f, tc.cfg...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			info := tgt.Info()
			if info.Store != tc.wantStore || info.Versions["store-kind"] != tc.wantKind || info.Target != "kubernetes" {
				t.Fatalf("info = %+v, want store %s of kind %s", info, tc.wantStore, tc.wantKind)
			}
		})
	}
}

func TestLeaders(t *testing.T) {
	tests := []struct {
		name       string
		era        string
		build      func(f *fakecluster.Fake)
		partitions int
		// wantLeaders[p-1] = leader pod, member ID
		wantPods    []string
		wantMembers []uint64
	}{
		{name: "raft", era: "raft", build: func(f *fakecluster.Fake) { f.AddRaftStore("s", "c", 3, 3) }, partitions: 3,
			wantPods: []string{"c-0", "c-1", "c-2"}, wantMembers: []uint64{1, 2, 3}},
		{name: "consensus", era: "consensus", build: func(f *fakecluster.Fake) { f.AddConsensusStore("s", 3, 3) }, partitions: 3,
			wantPods: []string{"s-0", "s-1", "s-2"}, wantMembers: []uint64{1, 2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakecluster.New(ns, tc.era)
			tc.build(f)
			tgt := open(t, f, withStore("s"))
			info := tgt.Info()
			if info.Partitions != tc.partitions || info.Replicas != 3 {
				t.Fatalf("info = %+v", info)
			}
			ls, err := tgt.Leaders(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(ls) != tc.partitions {
				t.Fatalf("%d leaderships, want %d", len(ls), tc.partitions)
			}
			for i, l := range ls {
				if l.Partition != i+1 || l.Term != 1 || l.Leader.Pod != tc.wantPods[i] || l.Leader.ID != tc.wantMembers[i] {
					t.Errorf("partition %d: %+v, want leader %s member %d in term 1", i+1, l, tc.wantPods[i], tc.wantMembers[i])
				}
				if l.Leader.UID == "" || !strings.HasSuffix(l.Leader.Address, ":5678") {
					t.Errorf("partition %d: leader pod UID %q / address %q not resolved", i+1, l.Leader.UID, l.Leader.Address)
				}
				if len(l.Followers) != 2 {
					t.Errorf("partition %d: followers %+v, want 2", i+1, l.Followers)
				}
				for _, fl := range l.Followers {
					if fl.ID == l.Leader.ID || fl.Pod == "" {
						t.Errorf("partition %d: bad follower %+v", i+1, fl)
					}
				}
			}
		})
	}
}

func TestLeaderNoLeader(t *testing.T) {
	f := fakecluster.New(ns, "raft")
	f.AddRaftStore("s", "c", 3, 3)
	f.SetPartitionStatus(fakecluster.RaftPartitions, "s-2", 4, "")
	tgt := open(t, f)
	l, err := tgt.Leader(ctxT(t), 2)
	if !errors.Is(err, cluster.ErrNoLeader) || l.Term != 4 {
		t.Fatalf("Leader = %+v, %v; want ErrNoLeader in term 4", l, err)
	}
	if _, err := tgt.Leader(ctxT(t), 4); err == nil {
		t.Fatal("partition 4 of 3 accepted")
	}
}

func TestWaitForLeaderByWatch(t *testing.T) {
	tests := []struct {
		name      string
		era       string
		build     func(f *fakecluster.Fake)
		partition string
		gvr       func() any
		steps     []func(f *fakecluster.Fake)
		wantPod   string
		wantID    uint64
		wantTerm  uint64
	}{
		{
			name: "raft: election, then a replica re-added under a new member ID leads", era: "raft",
			build: func(f *fakecluster.Fake) { f.AddRaftStore("s", "c", 3, 3) },
			steps: []func(f *fakecluster.Fake){
				func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 2, "") },
				func(f *fakecluster.Fake) { f.Delete(fakecluster.RaftReplicas, "s-1-2") },
				func(f *fakecluster.Fake) { f.AddRaftReplica("s", "c", 1, 2, 4, "c-1") },
				func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 3, "s-1-2") },
			},
			wantPod: "c-1", wantID: 4, wantTerm: 3,
		},
		{
			name: "consensus: new leader in a higher term", era: "consensus",
			build: func(f *fakecluster.Fake) { f.AddConsensusStore("s", 2, 3) },
			steps: []func(f *fakecluster.Fake){
				func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftGroups, "s-1", 1, "s-1-1") },
				func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftGroups, "s-1", 2, "s-1-3") },
			},
			wantPod: "s-2", wantID: 3, wantTerm: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakecluster.New(ns, tc.era)
			tc.build(f)
			tgt := open(t, f)
			type result struct {
				l   cluster.Leadership
				err error
			}
			got := make(chan result, 1)
			go func() {
				l, err := tgt.WaitForLeader(ctxT(t), 1, 1)
				got <- result{l, err}
			}()
			start := time.Now()
			for _, step := range tc.steps {
				select {
				case r := <-got:
					t.Fatalf("WaitForLeader returned early: %+v, %v", r.l, r.err)
				case <-time.After(20 * time.Millisecond):
				}
				step(f)
			}
			r := <-got
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.l.Term != tc.wantTerm || r.l.Leader.Pod != tc.wantPod || r.l.Leader.ID != tc.wantID {
				t.Fatalf("new leader %+v, want pod %s member %d term %d", r.l, tc.wantPod, tc.wantID, tc.wantTerm)
			}
			if r.l.ObservedAt.Before(start) {
				t.Fatalf("ObservedAt %v before the change", r.l.ObservedAt)
			}
		})
	}
}

func TestWaitForLeaderHonoursContext(t *testing.T) {
	f := fakecluster.New(ns, "raft")
	f.AddRaftStore("s", "c", 1, 3)
	tgt := open(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := tgt.WaitForLeader(ctx, 1, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func deletes(f *fakecluster.Fake) []k8stesting.DeleteActionImpl {
	var out []k8stesting.DeleteActionImpl
	for _, a := range f.Kube.Actions() {
		if d, ok := a.(k8stesting.DeleteActionImpl); ok {
			out = append(out, d)
		}
	}
	return out
}

func TestKillGuards(t *testing.T) {
	tests := []struct {
		name      string
		era       string
		partition int
		setup     func(f *fakecluster.Fake)
		want      error
		wantText  string
	}{
		{name: "election running", era: "raft", partition: 1,
			setup: func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 2, "") }, want: cluster.ErrNoLeader},
		{name: "leader replica gone", era: "raft", partition: 1,
			setup: func(f *fakecluster.Fake) { f.Delete(fakecluster.RaftReplicas, "s-1-1") }, want: cluster.ErrNotLeader},
		{name: "leader replica of another partition", era: "raft", partition: 1,
			setup: func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 2, "s-2-1") }, want: cluster.ErrNotLeader},
		{name: "leader replica of another store", era: "raft", partition: 1,
			setup: func(f *fakecluster.Fake) {
				f.AddRaftStore("other", "oc", 1, 3)
				f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 2, "other-1-1")
			}, want: cluster.ErrNotMember},
		{name: "pod gone", era: "raft", partition: 1,
			setup: func(f *fakecluster.Fake) {
				_ = f.Kube.CoreV1().Pods(ns).Delete(context.Background(), "c-0", metav1.DeleteOptions{})
			}, want: cluster.ErrNotLeader},
		{name: "pod without the cluster label", era: "raft", partition: 1,
			setup: func(f *fakecluster.Fake) {
				f.Mutate(fakecluster.RaftReplicas, "s-1-1", func(u *unstructured.Unstructured) {
					_ = unstructured.SetNestedField(u.Object, "bystander", "spec", "pod", "name")
				})
				f.AddPod("bystander", map[string]string{"app": "web"})
			}, want: cluster.ErrNotMember},
		{name: "pod of another cluster", era: "raft", partition: 1,
			setup: func(f *fakecluster.Fake) {
				f.Mutate(fakecluster.RaftReplicas, "s-1-1", func(u *unstructured.Unstructured) {
					_ = unstructured.SetNestedField(u.Object, "x-0", "spec", "pod", "name")
				})
				f.AddPod("x-0", f.RaftPodLabels("x"))
			}, want: cluster.ErrNotMember},
		{name: "pod already terminating", era: "raft", partition: 1,
			setup: func(f *fakecluster.Fake) {
				p := f.Pod("c-0")
				now := metav1.Now()
				p.DeletionTimestamp = &now
				_, _ = f.Kube.CoreV1().Pods(ns).Update(context.Background(), p, metav1.UpdateOptions{})
			}, want: cluster.ErrNotLeader},
		{name: "leader replica of an earlier incarnation of the pod", era: "raft", partition: 1,
			setup: func(f *fakecluster.Fake) {
				f.Mutate(fakecluster.RaftReplicas, "s-1-1", func(u *unstructured.Unstructured) {
					u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: "c-0", UID: "c-0-old"}})
				})
			}, want: cluster.ErrNotLeader},
		{name: "leader replica being removed", era: "raft", partition: 1,
			setup: func(f *fakecluster.Fake) {
				f.Mutate(fakecluster.RaftReplicas, "s-1-1", func(u *unstructured.Unstructured) {
					now := metav1.Now()
					u.SetDeletionTimestamp(&now)
				})
			}, want: cluster.ErrNotLeader},
		{name: "replica names no pod", era: "raft", partition: 1,
			setup: func(f *fakecluster.Fake) {
				f.Mutate(fakecluster.RaftReplicas, "s-1-1", func(u *unstructured.Unstructured) {
					unstructured.RemoveNestedField(u.Object, "spec", "pod")
				})
			}, want: cluster.ErrNotMember},
		{name: "consensus: pod without the store label", era: "consensus", partition: 2,
			setup: func(f *fakecluster.Fake) {
				p := f.Pod("s-1")
				delete(p.Labels, "store")
				_, _ = f.Kube.CoreV1().Pods(ns).Update(context.Background(), p, metav1.UpdateOptions{})
			}, want: cluster.ErrNotMember},
		{name: "consensus: leader member not owned by the group", era: "consensus", partition: 1,
			setup: func(f *fakecluster.Fake) {
				f.Mutate(fakecluster.RaftMembers, "s-1-1", func(u *unstructured.Unstructured) { u.SetOwnerReferences(nil) })
			}, want: cluster.ErrNotMember},
		{name: "partition out of range", era: "raft", partition: 4, setup: func(*fakecluster.Fake) {}, wantText: "partitions 1..3"},
	}
	for _, tc := range tests {
		for _, dry := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/dry-run=%v", tc.name, dry), func(t *testing.T) {
				f := fakecluster.New(ns, tc.era)
				if tc.era == "raft" {
					f.AddRaftStore("s", "c", 3, 3)
				} else {
					f.AddConsensusStore("s", 3, 3)
				}
				f.EnforceDeletePreconditions(false)
				tgt := open(t, f, withStore("s"))
				tc.setup(f)
				before := len(deletes(f))
				var err error
				if dry {
					_, err = tgt.PlanKill(ctxT(t), tc.partition)
				} else {
					_, err = tgt.KillLeader(ctxT(t), tc.partition)
				}
				if tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if tc.wantText != "" && (err == nil || !strings.Contains(err.Error(), tc.wantText)) {
					t.Fatalf("err = %v, want %q", err, tc.wantText)
				}
				if d := deletes(f); len(d) != before {
					t.Fatalf("refused kill issued deletes: %+v", d[before:])
				}
			})
		}
	}
}

func TestKillRefusedWhenPodReplacedBeforeDelete(t *testing.T) {
	f := fakecluster.New(ns, "raft")
	f.AddRaftStore("s", "c", 3, 3)
	f.EnforceDeletePreconditions(false)
	tgt := open(t, f)
	// Replace c-0 between verification and deletion: the UID precondition must stop the delete.
	var replaced bool
	f.Kube.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtimeObject, error) {
		if !replaced {
			replaced = true
			obj, _ := f.Kube.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), ns, "c-0")
			p := obj.(*corev1.Pod).DeepCopy()
			_ = f.Kube.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("pods"), ns, "c-0")
			p.UID, p.ResourceVersion = "c-0-new", ""
			_ = f.Kube.Tracker().Create(corev1.SchemeGroupVersion.WithResource("pods"), p, ns)
		}
		return false, nil, nil
	})
	_, err := tgt.KillLeader(ctxT(t), 1)
	if !errors.Is(err, cluster.ErrNotLeader) {
		t.Fatalf("err = %v, want ErrNotLeader", err)
	}
	if p := f.Pod("c-0"); p == nil || p.UID != "c-0-new" {
		t.Fatalf("the replacement pod was deleted: %+v", p)
	}
}

func TestKillLeader(t *testing.T) {
	tests := []struct {
		name      string
		era       string
		partition int
		grace     int64
		recreate  bool
		wantPod   string
		wantID    uint64
	}{
		{name: "raft, pod gone", era: "raft", partition: 1, wantPod: "c-0", wantID: 1},
		{name: "raft, pod replaced by its StatefulSet", era: "raft", partition: 2, recreate: true, wantPod: "c-1", wantID: 2},
		{name: "raft, grace period 5", era: "raft", partition: 3, grace: 5, wantPod: "c-2", wantID: 3},
		{name: "consensus", era: "consensus", partition: 2, recreate: true, wantPod: "s-1", wantID: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakecluster.New(ns, tc.era)
			if tc.era == "raft" {
				f.AddRaftStore("s", "c", 3, 3)
			} else {
				f.AddConsensusStore("s", 3, 3)
			}
			f.EnforceDeletePreconditions(tc.recreate)
			tgt := open(t, f, func(c *kubernetes.Config) { c.GracePeriod = tc.grace })
			uid := f.Pod(tc.wantPod).UID

			plan, err := tgt.PlanKill(ctxT(t), tc.partition)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Leader.Pod != tc.wantPod || plan.Leader.ID != tc.wantID || plan.Leader.UID != string(uid) {
				t.Fatalf("plan %+v, want pod %s member %d uid %s", plan.Leader, tc.wantPod, tc.wantID, uid)
			}
			if d := deletes(f); len(d) != 0 {
				t.Fatalf("dry run deleted: %+v", d)
			}

			k, err := tgt.KillLeader(ctxT(t), tc.partition)
			if err != nil {
				t.Fatal(err)
			}
			if k.Victim.Pod != tc.wantPod || k.Victim.ID != tc.wantID || k.Term != 1 || k.Partition != tc.partition {
				t.Fatalf("kill %+v", k)
			}
			if k.SentAt.IsZero() || k.DoneAt.Before(k.SentAt) || k.Unconfirmed != nil {
				t.Fatalf("kill times sent %v done %v, unconfirmed %v", k.SentAt, k.DoneAt, k.Unconfirmed)
			}
			if k.Led[tc.partition] != 1 {
				t.Fatalf("led %v, want partition %d in term 1", k.Led, tc.partition)
			}
			d := deletes(f)
			if len(d) != 1 || d[0].Name != tc.wantPod {
				t.Fatalf("deletes %+v, want exactly pod %s", d, tc.wantPod)
			}
			o := d[0].DeleteOptions
			if o.GracePeriodSeconds == nil || *o.GracePeriodSeconds != tc.grace || o.Preconditions == nil || o.Preconditions.UID == nil || *o.Preconditions.UID != uid {
				t.Fatalf("delete options %+v, want grace %d and UID precondition %s", o, tc.grace, uid)
			}
			if p := f.Pod(tc.wantPod); tc.recreate != (p != nil) || (p != nil && p.UID == uid) {
				t.Fatalf("after kill pod = %+v (recreate %v)", p, tc.recreate)
			}
		})
	}
}

func TestMapRefusedForConsensusEra(t *testing.T) {
	f := fakecluster.New(ns, "consensus")
	f.AddConsensusStore("s", 1, 3)
	tgt := open(t, f)
	if _, err := tgt.Map(ctxT(t), "m"); err == nil || !strings.Contains(err.Error(), "raft-era store") {
		t.Fatalf("err = %v", err)
	}
}

type callKey struct{ group, resource, verb string }

// driveTarget calls every method that reaches the API, on the data path
// that auto chooses in pod "experiment" (embedded, on fake clients).
func driveTarget(t *testing.T, f *fakecluster.Fake, era, store string) {
	t.Helper()
	tgt := open(t, f, withStore(store), withDataPath(kubernetes.DataPathAuto), withPod("experiment"))
	kubernetes.SetStartClient(tgt, newFakeClients().start)
	if _, err := tgt.Leaders(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := tgt.Map(ctxT(t), "m"); (err == nil) != (era == "raft") {
		t.Fatalf("%s era: Map: %v", era, err)
	}
	if _, err := tgt.PlanKill(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	if store != "" {
		if _, err := tgt.KillLeader(ctxT(t), 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := tgt.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRequiredPermissionsMatchCalls drives every method in both eras and checks
// that the API calls made are exactly RequiredPermissions.
func TestRequiredPermissionsMatchCalls(t *testing.T) {
	seen := map[callKey]bool{}
	for _, era := range []string{"raft", "consensus"} {
		f := fakecluster.New(ns, "raft", "consensus")
		if era == "raft" {
			f.AddRaftStore("s", "c", 2, 3)
		} else {
			f.AddConsensusStore("s", 2, 3)
		}
		f.EnforceDeletePreconditions(true)
		if era == "raft" {
			f.PublishDataStore("s")
		}
		f.AddPod("experiment", map[string]string{"app": "experiment"})
		for _, store := range []string{"", "s"} {
			driveTarget(t, f, era, store)
		}
		for _, a := range append(f.Kube.Actions(), f.Dynamic.Actions()...) {
			r := a.GetResource()
			if r.Resource == "resource" && r.Group == "" {
				continue // API discovery: allowed to every authenticated user
			}
			if a.GetVerb() == "create" || a.GetVerb() == "update" {
				continue // the fixture's own writes
			}
			seen[callKey{r.Group, r.Resource, a.GetVerb()}] = true
		}
	}
	declared := map[callKey]bool{}
	for _, p := range kubernetes.RequiredPermissions {
		if !sort.StringsAreSorted(p.Verbs) {
			t.Errorf("%s verbs %v not sorted", p.Resource, p.Verbs)
		}
		for _, v := range p.Verbs {
			declared[callKey{p.APIGroup, p.Resource, v}] = true
		}
	}
	var extra, unused []string
	for k := range seen {
		if !declared[k] {
			extra = append(extra, fmt.Sprint(k))
		}
	}
	for k := range declared {
		if !seen[k] {
			unused = append(unused, fmt.Sprint(k))
		}
	}
	slices.Sort(extra)
	slices.Sort(unused)
	if len(extra) > 0 || len(unused) > 0 {
		t.Fatalf("calls not declared: %v; declared but never called: %v", extra, unused)
	}
}

type runtimeObject = runtime.Object
