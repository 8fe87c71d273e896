package experiment

import (
	"context"
	"fmt"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// Prober measures when a partition accepts writes again.
type Prober interface {
	// FirstSuccess returns the moment the first successful probe returned and the attempts started.
	FirstSuccess(ctx context.Context) (time.Time, int, error)
}

// PutProbe writes a probe key of the killed partition, starting a new
// attempt every Interval whether or not earlier ones returned, so that
// recovery is observed within Interval of happening rather than behind the
// client's own retry backoff (0.5 s ×1.5). Each attempt has a long deadline
// (Timeout, ≥ 1 s), so that a slow success of an earlier attempt is never
// discarded by the overlap.
type PutProbe struct {
	// Map is the map the probe writes to.
	Map cluster.Map
	// Key is the probe key; it must route to the partition under test.
	Key string
	// Interval is the spacing of attempt starts.
	Interval time.Duration
	// Timeout is each attempt's deadline.
	Timeout time.Duration
}

type probeResult struct {
	at  time.Time
	err error
}

// FirstSuccess implements Prober.
func (p PutProbe) FirstSuccess(ctx context.Context) (time.Time, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := make(chan probeResult)
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	started, pending := 0, 0
	var lastErr error
	launch := func() {
		started++
		pending++
		go p.attempt(ctx, fmt.Sprintf("probe-%d", started), res)
	}
	drain := func() {
		cancel()
		for ; pending > 0; pending-- {
			<-res
		}
	}
	launch()
	for {
		select {
		case <-ctx.Done():
			drain()
			if lastErr != nil {
				return time.Time{}, started, fmt.Errorf("%w (last attempt: %w)", ctx.Err(), lastErr)
			}
			return time.Time{}, started, ctx.Err()
		case <-tick.C:
			launch()
		case r := <-res:
			pending--
			if r.err == nil {
				drain()
				return r.at, started, nil
			}
			lastErr = r.err
		}
	}
}

func (p PutProbe) attempt(ctx context.Context, value string, res chan<- probeResult) {
	actx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	_, err := p.Map.Put(actx, p.Key, value)
	res <- probeResult{time.Now(), err}
}
