package local

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/atomix-failover/atomix-failover/internal/cluster/clustertest"
)

// TestContract runs the cluster.Target contract on a real store: one kill,
// one restart.
func TestContract(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real store (-short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, DefaultConfig(), zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	clustertest.Run(t, clustertest.Harness{Target: s, Name: "local", Running: s.runningUIDs, Timeout: time.Minute})
}

// runningUIDs returns the UIDs of the node processes not yet reaped.
func (s *Store) runningUIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var uids []string
	for _, p := range s.procs {
		if p != nil && p.alive() {
			uids = append(uids, p.uid())
		}
	}
	return uids
}
