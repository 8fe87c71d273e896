package workload

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
	"github.com/atomix-failover/atomix-failover/internal/history"
)

// TestRealStoreHistoryIsLinearizable runs the workload on the real embedded
// store, every client over a session of its own, without a fault: the
// recorded history must check linearizable, with no stale read and no lost
// write — the negative control of the checker on real histories.
func TestRealStoreHistoryIsLinearizable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Atomix Raft store")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := local.Start(ctx, local.DefaultConfig(), zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("starting the store: %v", err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			t.Errorf("closing the store: %v", err)
		}
	}()
	path := filepath.Join(t.TempDir(), "history.jsonl")
	hist, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hist.Close() }()
	cfg := Config{RunID: "real", Clients: 4, Rate: 200, HotKeysPerPartition: 2, OpTimeout: 2 * time.Second}
	w, err := Start(ctx, cfg, store, hist, NewClock(), zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	time.Sleep(2 * time.Second)
	if err := w.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := w.FinalRead(ctx); err != nil {
		t.Fatalf("FinalRead: %v", err)
	}
	if err := hist.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if !st.Sessions || st.OK == 0 {
		t.Fatalf("stats %+v: want own sessions and answered operations", st)
	}
	ops := readHistory(t, path, cfg.RunID)
	assertShape(t, ops)
	res := check.Check(ops, check.Options{Timeout: 30 * time.Second})
	if res.Verdict != check.Linearizable || len(res.StaleReads) > 0 || len(res.LostWrites) > 0 {
		t.Fatalf("verdict %s, violations %v, %d stale reads, %d lost writes over %d ops (stats %+v)",
			res.Verdict, res.Violations, len(res.StaleReads), len(res.LostWrites), len(ops), st)
	}
	t.Logf("%d operations (%+v): %s", len(ops), st, res.Verdict)
}
