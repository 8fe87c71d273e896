package local

import (
	"context"
	"testing"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// BenchmarkPutLinkProxies measures Put latency through the full client path
// with the link and client proxies on (compare BenchmarkPut).
func BenchmarkPutLinkProxies(b *testing.B) {
	cfg := DefaultConfig()
	cfg.LinkProxies = true
	s, stop := benchStoreWith(b, cfg)
	defer stop()
	benchPuts(b, s, "bench-put-proxied")
}

// BenchmarkIsolateFromPeers cuts a partition's leader off its peers for 6 s
// at default Raft timings and measures the cut until the new leader, the
// heal until the healed node reports a leader in the new term or later, and
// the heal until the store is healthy.
func BenchmarkIsolateFromPeers(b *testing.B) {
	const cut = 6 * time.Second
	cfg := DefaultConfig()
	cfg.LinkProxies = true
	s, stop := benchStoreWith(b, cfg)
	defer stop()
	var elect, rejoin, healthy []time.Duration
	for i := 0; i < b.N; i++ {
		e, r, h := isolateOnce(b, s, i%s.cfg.Partitions+1, cut)
		elect, rejoin, healthy = append(elect, e), append(rejoin, r), append(healthy, h)
	}
	b.StopTimer()
	reportPercentiles(b, elect, "elect-ms")
	reportPercentiles(b, rejoin, "rejoin-ms")
	reportPercentiles(b, healthy, "healthy-ms")
}

func isolateOnce(b *testing.B, s *Store, partition int, cut time.Duration) (elect, rejoin, healthy time.Duration) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := s.WaitHealthy(ctx, cluster.HealthSpec{Partition: partition}); err != nil {
		b.Fatal(err)
	}
	before, err := s.Leader(ctx, partition)
	if err != nil {
		b.Fatal(err)
	}
	started := make(chan cluster.Disruption, 1)
	done := make(chan error, 1)
	var iz cluster.Disruption
	go func() {
		var err error
		iz, err = s.IsolateLeader(ctx, partition, cut, cluster.SidePeers, func(d cluster.Disruption) { started <- d })
		done <- err
	}()
	sent := (<-started).SentAt
	after, err := s.WaitForLeader(ctx, partition, before.Term)
	if err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	view, err := s.tracker.waitFor(ctx, func(v map[int]groupState) bool {
		r := v[partition].Reports[iz.Victim.ID]
		return r.Term >= after.Term && r.Leader != 0 && r.Leader != iz.Victim.ID
	})
	if err != nil {
		b.Fatal(err)
	}
	h, err := s.WaitHealthy(ctx, cluster.HealthSpec{})
	if err != nil {
		b.Fatal(err)
	}
	return after.ObservedAt.Sub(sent), view[partition].Reports[iz.Victim.ID].At.Sub(iz.EndedAt), h.At.Sub(iz.EndedAt)
}
