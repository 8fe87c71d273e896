package workload

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
	"github.com/atomix-failover/atomix-failover/internal/history"
)

// BenchmarkWorkloadThroughput measures the sustained throughput of 8
// clients, each over a session of its own, on a real 3-node × 3-partition
// store without a fault, with no rate limit (Rate +Inf): every client issues
// its next operation as soon as the last one is answered. b.N is the number
// of operations; ns/op is the wall time per operation of all clients
// together. It reports ops/s and the p50/p99 latency of the answered (ok)
// operations, all and by kind (get; put and cas together as writes). Store
// start and the clients' sessions are outside the timer. The aim:
// at least 500 ops/s on 2 cores. Use -benchtime Nx (e.g. 20000x) to run one
// measurement instead of the framework's ramp of store starts.
func BenchmarkWorkloadThroughput(b *testing.B) {
	if testing.Short() {
		b.Skip("starts a real Atomix Raft store (3 node processes); run without -short")
	}
	b.StopTimer()
	ctx := context.Background()
	store, err := local.Start(ctx, local.DefaultConfig(), zap.NewNop())
	if err != nil {
		b.Fatalf("starting the store: %v", err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			b.Errorf("closing the store: %v", err)
		}
	}()
	path := filepath.Join(b.TempDir(), "history.jsonl")
	hist, err := history.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = hist.Close() }()
	cfg := Config{RunID: "throughput", Clients: 8, Rate: math.Inf(1), OpTimeout: 2 * time.Second}
	w, err := Start(ctx, cfg, store, hist, NewClock(), zap.NewNop())
	if err != nil {
		b.Fatalf("Start: %v", err)
	}
	b.StartTimer()
	began := time.Now()
	for w.Stats().Total() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	// Stop waits for the operations in flight: they count too.
	if err := w.Stop(); err != nil {
		b.Fatalf("Stop: %v", err)
	}
	elapsed := time.Since(began)
	b.StopTimer()
	if err := hist.Close(); err != nil {
		b.Fatal(err)
	}
	st := w.Stats()
	b.ReportMetric(float64(st.Total())/elapsed.Seconds(), "ops/s")
	if st.Total() > 0 {
		b.ReportMetric(float64(st.Fail)/float64(st.Total()), "fail/op")
		b.ReportMetric(float64(st.Unknown)/float64(st.Total()), "unknown/op")
	}
	var all, gets, writes []time.Duration
	for _, op := range readHistory(b, path, cfg.RunID) {
		if op.Status != history.StatusOK || op.CompleteNS == nil {
			continue
		}
		d := time.Duration(*op.CompleteNS - op.InvokeNS)
		all = append(all, d)
		if op.Op == history.OpGet {
			gets = append(gets, d)
		} else {
			writes = append(writes, d)
		}
	}
	reportLatency(b, all, "")
	reportLatency(b, gets, "get-")
	reportLatency(b, writes, "write-")
}

// reportLatency reports the p50 and p99 of samples in milliseconds.
func reportLatency(b *testing.B, samples []time.Duration, prefix string) {
	b.Helper()
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	at := func(q float64) float64 { return float64(samples[int(q*float64(len(samples)-1))]) / 1e6 }
	b.ReportMetric(at(0.50), "p50-"+prefix+"ms")
	b.ReportMetric(at(0.99), "p99-"+prefix+"ms")
}
