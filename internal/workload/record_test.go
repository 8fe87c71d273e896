package workload

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
	"github.com/atomix-failover/atomix-failover/internal/history"
)

// TestRecordRealHistory records one real history for the checker's
// benchmark when WORKLOAD_RECORD names the file to write (appended to): the
// workload with 8 clients on the real 3×3 store for WORKLOAD_RECORD_SECONDS
// (default 60) at WORKLOAD_RECORD_RATE ops/s (default DefaultRate; "inf":
// no limit), with WORKLOAD_RECORD_KILLS (default 3) leader kills spread
// evenly over the run, partition 1, 2, 3, … in turn, each its own trial and
// preceded by a wait for a healthy store, then the final reads. The killed
// nodes come back by the store's restart policy. Kill and restart records go
// to the history like the campaign's. Skipped without WORKLOAD_RECORD.
func TestRecordRealHistory(t *testing.T) {
	path := os.Getenv("WORKLOAD_RECORD")
	if path == "" {
		t.Skip("set WORKLOAD_RECORD to the history file to record")
	}
	seconds := envInt(t, "WORKLOAD_RECORD_SECONDS", 60)
	kills := envInt(t, "WORKLOAD_RECORD_KILLS", 3)
	rate := float64(DefaultRate)
	if s := os.Getenv("WORKLOAD_RECORD_RATE"); s != "" {
		var err error
		if rate, err = strconv.ParseFloat(s, 64); err != nil {
			t.Fatalf("WORKLOAD_RECORD_RATE: %v", err)
		}
	}
	dur := time.Duration(seconds) * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), dur+3*time.Minute)
	defer cancel()
	log := zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))
	store, err := local.Start(ctx, local.DefaultConfig(), log)
	if err != nil {
		t.Fatalf("starting the store: %v", err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			t.Errorf("closing the store: %v", err)
		}
	}()
	hist, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hist.Close() }()
	runID := "record-" + newInstance()
	cfg := Config{RunID: runID, Clients: 8, Rate: rate, OpTimeout: DefaultOpTimeout}
	clock := NewClock()
	w, err := Start(ctx, cfg, store, hist, clock, log)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	began := time.Now()
	var restarts []func()
	for i := range kills {
		at := began.Add(dur * time.Duration(i+1) / time.Duration(kills+1))
		if _, err := store.WaitHealthy(ctx, cluster.HealthSpec{}); err != nil {
			t.Fatalf("waiting for a healthy store before kill %d: %v", i+1, err)
		}
		time.Sleep(time.Until(at))
		trial := i + 1
		w.SetTrial(trial)
		p := i%store.Info().Partitions + 1
		k, err := store.KillLeader(ctx, p)
		if err != nil {
			t.Fatalf("kill %d of partition %d's leader: %v", trial, p, err)
		}
		end := clock.At(k.DoneAt)
		if err := hist.Append(history.Fault{RunID: runID, Trial: trial, Fault: history.FaultKill,
			Target: k.Victim.Pod, Partition: p, StartNS: clock.At(k.SentAt), EndNS: &end}); err != nil {
			t.Fatal(err)
		}
		if err := hist.Append(history.Fault{RunID: runID, Trial: trial, Fault: history.FaultRestart,
			Target: k.Victim.Pod, Partition: p, StartNS: clock.At(k.DoneAt)}); err != nil {
			t.Fatal(err)
		}
		t.Logf("kill %d: partition %d, %s, term %d, at %s", trial, p, k.Victim, k.Term, time.Since(began).Round(time.Millisecond))
		restarts = append(restarts, func() {
			if _, err := store.Restored(ctx, k); err != nil {
				t.Errorf("kill %d: %v", trial, err)
			}
		})
	}
	time.Sleep(time.Until(began.Add(dur)))
	if err := w.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	elapsed := time.Since(began)
	w.SetTrial(0)
	for _, r := range restarts {
		r()
	}
	if err := w.FinalRead(ctx); err != nil {
		t.Fatalf("FinalRead: %v", err)
	}
	if err := hist.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	t.Logf("run %s: %+v in %s: %.0f ops/s", runID, st, elapsed.Round(time.Millisecond), float64(st.Total())/elapsed.Seconds())
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	ops, faults, _, err := history.ReadAll(f, runID)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := check.Check(ops, check.Options{Faults: faults})
	t.Logf("check of %d ops: %s in %s; %d stale reads, %d lost writes", len(ops), res.Verdict,
		time.Since(start).Round(time.Millisecond), len(res.StaleReads), len(res.LostWrites))
	for _, k := range res.Keys {
		if k.Verdict != check.Linearizable {
			t.Logf("key %s: %s %s (%d ops)", k.Key, k.Verdict, k.Reason, k.Ops)
		}
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}
