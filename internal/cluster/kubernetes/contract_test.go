package kubernetes_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/atomix-failover/atomix-failover/internal/cluster/clustertest"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes/fakecluster"
)

// TestContract runs the cluster.Target contract on a store of each era on
// the fake API server, which replaces a deleted pod and fails over the
// partitions it led as a real cluster does.
func TestContract(t *testing.T) {
	tests := []struct {
		era        string
		build      func(f *fakecluster.Fake)
		noDataPath string
	}{
		{era: "raft", build: func(f *fakecluster.Fake) { f.AddRaftStore("s", "c", 3, 3) },
			noDataPath: "no Raft node runs behind the fake API server"},
		{era: "consensus", build: func(f *fakecluster.Fake) { f.AddConsensusStore("s", 3, 3) },
			noDataPath: "a consensus-era store has no data path"},
	}
	for _, tc := range tests {
		t.Run(tc.era, func(t *testing.T) {
			f := fakecluster.New(ns, tc.era)
			tc.build(f)
			f.EnforceDeletePreconditions(true)
			// The election outlasts the suite's refused kill right after its kill.
			f.ElectAfter = 500 * time.Millisecond
			tgt := open(t, f)
			clustertest.Run(t, clustertest.Harness{Target: tgt, Name: "kubernetes", Running: runningPods(t, f),
				NoDataPath: tc.noDataPath, Timeout: 10 * time.Second})
		})
	}
}

// runningPods returns the UIDs of the running pods that are not being
// deleted, read from the fake API server's store.
func runningPods(t *testing.T, f *fakecluster.Fake) func() []string {
	return func() []string {
		obj, err := f.Kube.Tracker().List(corev1.SchemeGroupVersion.WithResource("pods"), corev1.SchemeGroupVersion.WithKind("Pod"), ns)
		if err != nil {
			t.Fatalf("listing pods: %v", err)
		}
		var uids []string
		for _, p := range obj.(*corev1.PodList).Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				uids = append(uids, string(p.UID))
			}
		}
		return uids
	}
}
