package kubernetes_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes/fakecluster"
)

// store builds a 3-partition, 3-replica store of the era.
func store(era string) *fakecluster.Fake {
	f := fakecluster.New(ns, era)
	if era == "raft" {
		f.AddRaftStore("s", "c", 3, 3)
	} else {
		f.AddConsensusStore("s", 3, 3)
	}
	return f
}

func setDeleting(deleting bool) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if deleting {
			now := metav1.Now()
			p.DeletionTimestamp = &now
		} else {
			p.DeletionTimestamp = nil
		}
	}
}

// agreeing is the status of replica s-1-<r> agreeing with partition 1 (term 1, leader s-1-1).
func agreeing(role string) fakecluster.MemberStatus {
	return fakecluster.MemberStatus{State: "Ready", Role: role, Leader: "s-1-1", Term: 1}
}

type healthResult struct {
	h   cluster.Health
	err error
}

func TestWaitHealthy(t *testing.T) {
	tests := []struct {
		name  string
		era   string
		setup func(f *fakecluster.Fake)
		spec  cluster.HealthSpec
		// steps are applied one by one; WaitHealthy must not return before the last.
		steps []func(f *fakecluster.Fake)
		check func(t *testing.T, h cluster.Health, lastStep time.Time)
	}{
		{name: "raft: healthy at once", era: "raft"},
		{name: "consensus: healthy at once", era: "consensus"},
		{name: "raft: replicas reporting the partition's leader and term", era: "raft",
			setup: func(f *fakecluster.Fake) {
				f.SetMemberStatus(fakecluster.RaftReplicas, "s-1-1", agreeing("Leader"))
				f.SetMemberStatus(fakecluster.RaftReplicas, "s-1-2", agreeing("Follower"))
				f.SetMemberStatus(fakecluster.RaftReplicas, "s-1-3", agreeing("Follower"))
			}},
		{name: "raft: a NotReady replica with a stale report is left to its pod", era: "raft",
			setup: func(f *fakecluster.Fake) {
				f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 3, "s-1-2")
				f.SetMemberStatus(fakecluster.RaftReplicas, "s-1-1", fakecluster.MemberStatus{State: "NotReady", Role: "Leader", Leader: "s-1-1", Term: 1})
				f.SetMemberStatus(fakecluster.RaftReplicas, "s-1-3", fakecluster.MemberStatus{State: "NotReady"})
			}},
		{name: "raft: waits for a not-ready pod", era: "raft",
			setup: func(f *fakecluster.Fake) { f.SetPodReady("c-1", false) },
			steps: []func(f *fakecluster.Fake){func(f *fakecluster.Fake) { f.SetPodReady("c-1", true) }}},
		{name: "raft: waits for a pod whose container is not ready", era: "raft",
			setup: func(f *fakecluster.Fake) {
				f.UpdatePod("c-2", func(p *corev1.Pod) { p.Status.ContainerStatuses[0].Ready = false })
			},
			steps: []func(f *fakecluster.Fake){func(f *fakecluster.Fake) { f.SetPodReady("c-2", true) }}},
		{name: "raft: waits for a pod being deleted to be replaced", era: "raft",
			setup: func(f *fakecluster.Fake) { f.UpdatePod("c-0", setDeleting(true)) },
			steps: []func(f *fakecluster.Fake){func(f *fakecluster.Fake) { f.UpdatePod("c-0", setDeleting(false)) }}},
		{name: "consensus: waits for a not-ready pod", era: "consensus",
			setup: func(f *fakecluster.Fake) { f.SetPodReady("s-2", false) },
			steps: []func(f *fakecluster.Fake){func(f *fakecluster.Fake) { f.SetPodReady("s-2", true) }}},
		{name: "raft: waits for a leaderless partition", era: "raft",
			setup: func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftPartitions, "s-2", 2, "") },
			steps: []func(f *fakecluster.Fake){func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftPartitions, "s-2", 2, "s-2-3") }},
			check: func(t *testing.T, h cluster.Health, _ time.Time) {
				if l := h.Leaders[1]; l.Term != 2 || l.Leader.Name != "s-2-3" {
					t.Errorf("partition 2: %+v, want s-2-3 in term 2", l)
				}
			}},
		{name: "consensus: waits for a leaderless group", era: "consensus",
			setup: func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftGroups, "s-3", 4, "") },
			steps: []func(f *fakecluster.Fake){func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftGroups, "s-3", 4, "s-3-1") }}},
		{name: "raft: waits for a replica re-added after its pod's kill", era: "raft",
			setup: func(f *fakecluster.Fake) { f.Delete(fakecluster.RaftReplicas, "s-1-3") },
			steps: []func(f *fakecluster.Fake){func(f *fakecluster.Fake) { f.AddRaftReplica("s", "c", 1, 3, 4, "c-2") }}},
		{name: "raft: waits for a Ready replica that reports another leader", era: "raft",
			setup: func(f *fakecluster.Fake) {
				f.SetMemberStatus(fakecluster.RaftReplicas, "s-1-2", fakecluster.MemberStatus{State: "Ready", Role: "Follower", Leader: "s-1-3", Term: 1})
			},
			steps: []func(f *fakecluster.Fake){func(f *fakecluster.Fake) {
				f.SetMemberStatus(fakecluster.RaftReplicas, "s-1-2", agreeing("Follower"))
			}}},
		{name: "raft: waits for a Ready replica still in an earlier term", era: "raft",
			setup: func(f *fakecluster.Fake) {
				f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 2, "s-1-1")
				f.SetMemberStatus(fakecluster.RaftReplicas, "s-1-3", agreeing("Follower"))
			},
			steps: []func(f *fakecluster.Fake){func(f *fakecluster.Fake) {
				f.SetMemberStatus(fakecluster.RaftReplicas, "s-1-3", fakecluster.MemberStatus{State: "Ready", Role: "Follower", Leader: "s-1-1", Term: 2})
			}}},
		{name: "raft: waits for the partition to catch up with a replica's later term", era: "raft",
			setup: func(f *fakecluster.Fake) {
				f.SetMemberStatus(fakecluster.RaftReplicas, "s-1-2", fakecluster.MemberStatus{State: "NotReady", Role: "Leader", Leader: "s-1-2", Term: 2})
			},
			steps: []func(f *fakecluster.Fake){func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 2, "s-1-2") }}},
		{name: "raft: waits out MinLeaderAge", era: "raft",
			spec: cluster.HealthSpec{Partition: 2, MinLeaderAge: 300 * time.Millisecond},
			check: func(t *testing.T, h cluster.Health, _ time.Time) {
				if h.LeaderAge < 300*time.Millisecond || h.LeaderAge != h.At.Sub(h.Leaders[1].ObservedAt) {
					t.Errorf("leader age %s (at %v, observed %v), want ≥ 300ms", h.LeaderAge, h.At, h.Leaders[1].ObservedAt)
				}
			}},
		{name: "raft: a new leader restarts the MinLeaderAge wait", era: "raft",
			spec:  cluster.HealthSpec{Partition: 1, MinLeaderAge: 250 * time.Millisecond},
			steps: []func(f *fakecluster.Fake){func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 2, "s-1-2") }},
			check: func(t *testing.T, h cluster.Health, lastStep time.Time) {
				l := h.Leaders[0]
				if l.Term != 2 || l.Leader.Name != "s-1-2" || l.ObservedAt.Before(lastStep) {
					t.Errorf("partition 1: %+v, want s-1-2 in term 2 observed after the change", l)
				}
				if h.LeaderAge < 250*time.Millisecond || h.At.Sub(lastStep) < 250*time.Millisecond {
					t.Errorf("healthy %s after the new leader, leader age %s; want ≥ 250ms", h.At.Sub(lastStep), h.LeaderAge)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := store(tc.era)
			if tc.setup != nil {
				tc.setup(f)
			}
			tgt := open(t, f, withStore("s"))
			got := make(chan healthResult, 1)
			go func() {
				h, err := tgt.WaitHealthy(ctxT(t), tc.spec)
				got <- healthResult{h, err}
			}()
			var lastStep time.Time
			for _, step := range tc.steps {
				select {
				case r := <-got:
					t.Fatalf("WaitHealthy returned early: %+v, %v", r.h, r.err)
				case <-time.After(50 * time.Millisecond):
				}
				lastStep = time.Now()
				step(f)
			}
			r := <-got
			if r.err != nil {
				t.Fatal(r.err)
			}
			if len(r.h.Leaders) != 3 || r.h.At.IsZero() || r.h.At.Before(lastStep) {
				t.Fatalf("health %+v (last step at %v)", r.h, lastStep)
			}
			for i, l := range r.h.Leaders {
				if l.Partition != i+1 || !l.HasLeader() || l.Term == 0 || l.Leader.Pod == "" {
					t.Errorf("partition %d: %+v, want a resolved leader", i+1, l)
				}
			}
			if tc.check != nil {
				tc.check(t, r.h, lastStep)
			}
		})
	}
}

func TestWaitHealthyContextEndNamesTheProblem(t *testing.T) {
	tests := []struct {
		name  string
		era   string
		setup func(f *fakecluster.Fake)
		spec  cluster.HealthSpec
		want  []string
	}{
		{name: "pod not ready", era: "raft", setup: func(f *fakecluster.Fake) { f.SetPodReady("c-1", false) },
			want: []string{"pod c-1 is not ready (phase Pending)"}},
		{name: "pod being deleted", era: "raft", setup: func(f *fakecluster.Fake) { f.UpdatePod("c-2", setDeleting(true)) },
			want: []string{"pod c-2 is being deleted"}},
		{name: "pod missing", era: "raft",
			setup: func(f *fakecluster.Fake) {
				_ = f.Kube.CoreV1().Pods(ns).Delete(context.Background(), "c-2", metav1.DeleteOptions{})
			},
			want: []string{"pod c-2 (of RaftReplica s-1-3) does not exist"}},
		{name: "partition without leader", era: "raft",
			setup: func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftPartitions, "s-3", 7, "") },
			want:  []string{"partition 3 has no leader (term 7)"}},
		{name: "group without leader and a pod not ready", era: "consensus",
			setup: func(f *fakecluster.Fake) {
				f.SetPartitionStatus(fakecluster.RaftGroups, "s-2", 2, "")
				f.SetPodReady("s-0", false)
			},
			want: []string{"pod s-0 is not ready", "partition 2 has no leader (term 2)"}},
		{name: "replica missing", era: "raft", setup: func(f *fakecluster.Fake) { f.Delete(fakecluster.RaftReplicas, "s-2-1") },
			want: []string{"partition 2 has 2 of 3 RaftReplica objects"}},
		{name: "leader replica missing", era: "raft", setup: func(f *fakecluster.Fake) { f.Delete(fakecluster.RaftReplicas, "s-1-1") },
			want: []string{"partition 1: leader s-1-1 is not a live RaftReplica of it"}},
		{name: "replica disagrees", era: "raft",
			setup: func(f *fakecluster.Fake) {
				f.SetMemberStatus(fakecluster.RaftReplicas, "s-1-3", fakecluster.MemberStatus{State: "Ready", Leader: "s-1-2", Term: 1})
			},
			want: []string{"RaftReplica s-1-3 reports leader s-1-2 in term 1, partition 1 names s-1-1"}},
		{name: "consensus member disagrees", era: "consensus",
			setup: func(f *fakecluster.Fake) {
				f.SetMemberStatus(fakecluster.RaftMembers, "s-2-1", fakecluster.MemberStatus{State: "Ready", Role: "Leader", Leader: "s-2-1", Term: 1})
			},
			want: []string{"RaftMember s-2-1 reports leader s-2-1 in term 1, partition 2 names s-2-2"}},
		{name: "leader too young", era: "raft", setup: withoutSetup, spec: cluster.HealthSpec{Partition: 1, MinLeaderAge: time.Hour},
			want: []string{"the leader of partition 1 has been in office for", "less than 1h0m0s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := store(tc.era)
			tc.setup(f)
			tgt := open(t, f, withStore("s"))
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			_, err := tgt.WaitHealthy(ctx, tc.spec)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want deadline exceeded", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to say %q", err, w)
				}
			}
		})
	}
}

func withoutSetup(*fakecluster.Fake) {}

func TestWaitHealthyRejectsBadPartition(t *testing.T) {
	tgt := open(t, store("raft"))
	if _, err := tgt.WaitHealthy(ctxT(t), cluster.HealthSpec{Partition: 4}); err == nil || !strings.Contains(err.Error(), "partitions 1..3") {
		t.Fatalf("err = %v", err)
	}
}

func TestRestored(t *testing.T) {
	tests := []struct {
		name     string
		era      string
		pending  bool // the replacement starts Pending and is made ready later
		recreate bool
		// comeBack brings the pod back when the replacement is not created by the delete.
		comeBack func(f *fakecluster.Fake)
		victim   string
	}{
		{name: "raft: replacement created pending, then ready", era: "raft", recreate: true, pending: true, victim: "c-0"},
		{name: "consensus: replacement created pending, then ready", era: "consensus", recreate: true, pending: true, victim: "s-0"},
		{name: "raft: replacement created later, ready at once", era: "raft", victim: "c-0",
			comeBack: func(f *fakecluster.Fake) { f.AddPod("c-0", f.RaftPodLabels("c")) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := store(tc.era)
			f.ReplacementsPending = tc.pending
			f.EnforceDeletePreconditions(tc.recreate)
			tgt := open(t, f, withStore("s"))
			k, err := tgt.KillLeader(ctxT(t), 1)
			if err != nil || k.Unconfirmed != nil || k.Victim.Pod != tc.victim {
				t.Fatalf("kill %+v, %v", k, err)
			}
			type result struct {
				r   cluster.Restart
				err error
			}
			got := make(chan result, 1)
			go func() {
				r, err := tgt.Restored(ctxT(t), k)
				got <- result{r, err}
			}()
			select {
			case r := <-got:
				t.Fatalf("Restored returned before the pod was ready: %+v, %v", r.r, r.err)
			case <-time.After(50 * time.Millisecond):
			}
			before := time.Now()
			if tc.pending {
				f.SetPodReady(tc.victim, true)
			} else {
				tc.comeBack(f)
			}
			r := <-got
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.r.Began.Before(k.SentAt) || r.r.Back.Before(r.r.Began) || r.r.Back.Before(before) {
				t.Fatalf("restart %+v; kill sent %v, pod made ready at %v", r.r, k.SentAt, before)
			}
			if tc.pending && !r.r.Began.Before(before) {
				t.Errorf("began %v: want the replacement's creation, before it was made ready at %v", r.r.Began, before)
			}
			if p := f.Pod(tc.victim); p == nil || string(p.UID) == k.Victim.UID {
				t.Fatalf("pod %+v is not a new incarnation", p)
			}
		})
	}
}

func TestRestoredContextEnd(t *testing.T) {
	tests := []struct {
		name     string
		recreate bool
		pending  bool
		want     string
	}{
		{name: "pod not recreated", want: "waiting for pod c-0 to come back: no pod of that name"},
		{name: "replacement not ready", recreate: true, pending: true, want: "not ready: phase Pending"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := store("raft")
			f.ReplacementsPending = tc.pending
			f.EnforceDeletePreconditions(tc.recreate)
			tgt := open(t, f)
			k, err := tgt.KillLeader(ctxT(t), 1)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err = tgt.Restored(ctx, k)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want deadline exceeded saying %q", err, tc.want)
			}
		})
	}
	t.Run("not replaced yet", func(t *testing.T) {
		f := store("raft")
		tgt := open(t, f)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		p := f.Pod("c-0")
		_, err := tgt.Restored(ctx, cluster.Kill{Partition: 1, Victim: cluster.Member{Pod: "c-0", UID: string(p.UID)}})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "still the killed incarnation") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no victim", func(t *testing.T) {
		tgt := open(t, store("raft"))
		if _, err := tgt.Restored(ctxT(t), cluster.Kill{}); err == nil {
			t.Fatal("a kill without a victim accepted")
		}
	})
}

// acceptDeleteKeepPod makes pod deletes succeed while the pod stays, marked
// terminating, as with a grace period the node outlives.
func acceptDeleteKeepPod(f *fakecluster.Fake) {
	f.Kube.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		d := a.(k8stesting.DeleteActionImpl)
		obj, err := f.Kube.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), d.Namespace, d.Name)
		if err != nil {
			return true, nil, err
		}
		p := obj.(*corev1.Pod).DeepCopy()
		now := metav1.Now()
		p.DeletionTimestamp = &now
		return true, nil, f.Kube.Tracker().Update(corev1.SchemeGroupVersion.WithResource("pods"), p, d.Namespace)
	})
}

func TestKillUnconfirmedIsNotAnError(t *testing.T) {
	for _, era := range []string{"raft", "consensus"} {
		t.Run(era, func(t *testing.T) {
			f := store(era)
			acceptDeleteKeepPod(f)
			tgt := open(t, f, func(c *kubernetes.Config) { c.GracePeriod = 30 })
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			k, err := tgt.KillLeader(ctx, 1)
			if err != nil {
				t.Fatalf("err = %v: a sent kill must not return an error", err)
			}
			if k.SentAt.IsZero() || !k.DoneAt.IsZero() || k.Term != 1 || k.Victim.Pod == "" {
				t.Fatalf("kill %+v, want sent and not done", k)
			}
			if !errors.Is(k.Unconfirmed, context.DeadlineExceeded) || !strings.Contains(k.Unconfirmed.Error(), "accepted, not yet confirmed") {
				t.Fatalf("unconfirmed = %v", k.Unconfirmed)
			}
			if d := deletes(f); len(d) != 1 || d[0].Name != k.Victim.Pod {
				t.Fatalf("deletes %+v", d)
			}
		})
	}
}

func TestKillLed(t *testing.T) {
	tests := []struct {
		name  string
		era   string
		setup func(f *fakecluster.Fake)
		// wait is a partition and term the cache must have seen before the kill.
		waitPartition int
		waitTerm      uint64
		want          map[int]uint64
	}{
		{name: "raft: leads the killed partition only", era: "raft", setup: withoutSetup, want: map[int]uint64{1: 1}},
		{name: "raft: leads two partitions", era: "raft",
			setup:         func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftPartitions, "s-2", 5, "s-2-1") },
			waitPartition: 2, waitTerm: 5, want: map[int]uint64{1: 1, 2: 5}},
		{name: "raft: leads all three", era: "raft",
			setup: func(f *fakecluster.Fake) {
				f.SetPartitionStatus(fakecluster.RaftPartitions, "s-2", 2, "s-2-1")
				f.SetPartitionStatus(fakecluster.RaftPartitions, "s-3", 4, "s-3-1")
			},
			waitPartition: 3, waitTerm: 4, want: map[int]uint64{1: 1, 2: 2, 3: 4}},
		{name: "consensus: leads two groups", era: "consensus",
			setup:         func(f *fakecluster.Fake) { f.SetPartitionStatus(fakecluster.RaftGroups, "s-3", 3, "s-3-1") },
			waitPartition: 3, waitTerm: 3, want: map[int]uint64{1: 1, 3: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := store(tc.era)
			f.EnforceDeletePreconditions(true)
			tgt := open(t, f, withStore("s"))
			tc.setup(f)
			if tc.waitPartition != 0 {
				if _, err := tgt.WaitForLeader(ctxT(t), tc.waitPartition, tc.waitTerm-1); err != nil {
					t.Fatal(err)
				}
			}
			k, err := tgt.KillLeader(ctxT(t), 1)
			if err != nil || k.Unconfirmed != nil {
				t.Fatalf("kill: %v / %v", err, k.Unconfirmed)
			}
			if !maps.Equal(k.Led, tc.want) {
				t.Fatalf("led %v, want %v", k.Led, tc.want)
			}
		})
	}
}
