package faketarget

import (
	"context"
	"testing"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/cluster/clustertest"
)

// TestContract runs the cluster.Target contract on the fake store.
func TestContract(t *testing.T) {
	cfg := DefaultConfig()
	// The election outlasts the suite's refused kill right after its kill,
	// and the victim comes back after it (a restart also elects).
	cfg.ElectionDelay, cfg.RestartDelay = 500*time.Millisecond, 700*time.Millisecond
	tgt := New(cfg)
	clustertest.Run(t, clustertest.Harness{Target: tgt, Name: "fake", Timeout: 5 * time.Second, Running: func() []string {
		// The fake's own state: every member is a member of every partition.
		ls, _ := tgt.Leaders(context.Background())
		var uids []string
		for _, l := range ls {
			for _, m := range append(l.Followers, l.Leader) {
				if m.PID != 0 {
					uids = append(uids, m.UID)
				}
			}
		}
		return uids
	}})
}
