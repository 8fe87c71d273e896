package local

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// reportPercentiles reports p50 and p99 of samples as custom benchmark metrics.
func reportPercentiles(b *testing.B, samples []time.Duration, unit string) {
	b.Helper()
	if len(samples) == 0 {
		return
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	at := func(q float64) time.Duration { return samples[int(q*float64(len(samples)-1))] }
	b.ReportMetric(float64(at(0.50).Microseconds())/1000, "p50-"+unit)
	b.ReportMetric(float64(at(0.99).Microseconds())/1000, "p99-"+unit)
}

// BenchmarkColdStart measures starting a 3×3 store until every partition has a leader.
func BenchmarkColdStart(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s, err := Start(context.Background(), DefaultConfig(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func benchStore(b *testing.B) (*Store, func()) {
	b.Helper()
	return benchStoreWith(b, DefaultConfig())
}

// benchStoreWith starts a store with cfg and returns it with its stop.
func benchStoreWith(b *testing.B, cfg Config) (*Store, func()) {
	b.Helper()
	s, err := Start(context.Background(), cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	return s, func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	}
}

// BenchmarkPut measures Put latency through go-sdk → sidecar → runtime → rsm client → Raft.
func BenchmarkPut(b *testing.B) {
	s, stop := benchStore(b)
	defer stop()
	benchPuts(b, s, "bench-put")
}

// benchPuts measures b.N Puts on the store's map name and reports their percentiles.
func benchPuts(b *testing.B, s *Store, name string) {
	b.Helper()
	ctx := context.Background()
	m, err := s.Map(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		t0 := time.Now()
		_, err := m.Put(cctx, fmt.Sprintf("key-%d", i%1000), "value")
		lat = append(lat, time.Since(t0))
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportPercentiles(b, lat, "ms")
}

// BenchmarkGet measures Get latency through the full client path.
func BenchmarkGet(b *testing.B) {
	s, stop := benchStore(b)
	defer stop()
	ctx := context.Background()
	m, err := s.Map(ctx, "bench-get")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if _, err := m.Put(ctx, fmt.Sprintf("key-%d", i), "value"); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		t0 := time.Now()
		_, err := m.Get(cctx, fmt.Sprintf("key-%d", i%100))
		lat = append(lat, time.Since(t0))
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportPercentiles(b, lat, "ms")
}

// BenchmarkKillToNewLeader measures SIGKILL of a partition leader until the
// new leader is observed on a Watch stream, at default Raft timings.
func BenchmarkKillToNewLeader(b *testing.B) {
	s, stop := benchStore(b)
	defer stop()
	ctx := context.Background()
	var elections []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := i%s.cfg.Partitions + 1
		k, err := s.KillLeader(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		l, err := s.WaitForLeader(wctx, p, k.Term)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		elections = append(elections, l.ObservedAt.Sub(k.SentAt))
		b.StopTimer()
		hctx, hcancel := context.WithTimeout(ctx, time.Minute)
		if _, err := s.WaitHealthy(hctx, cluster.HealthSpec{}); err != nil {
			b.Fatal(err)
		}
		hcancel()
		b.StartTimer()
	}
	b.StopTimer()
	reportPercentiles(b, elections, "ms")
}
