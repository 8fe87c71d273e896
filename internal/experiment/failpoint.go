package experiment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// Injection is the result of firing a failpoint.
type Injection struct {
	// Kill is the kill: victim, its term, sent and (when confirmed) done moments.
	Kill cluster.Kill
	// Unconfirmed is why a kill that was sent (Kill.SentAt set) was not
	// confirmed; Kill.DoneAt is then zero.
	Unconfirmed error
	// Before is the leadership seen before the write.
	Before cluster.Leadership
	// Reread is the partition's leadership read just before the kill.
	Reread cluster.Leadership
	// Retargeted is true when the victim is not the leader (or term) seen before the write.
	Retargeted bool
	// Attempts counts the kill attempts (more than one when the leader moved under us).
	Attempts int
}

// Failpoint is the fault a trial injects.
type Failpoint interface {
	// Name names the failpoint in logs.
	Name() string
	// Inject fires the fault on partition; before is the leadership seen before the write.
	Inject(ctx context.Context, partition int, before cluster.Leadership) (Injection, error)
}

// LeaderKill kills the verified current leader of the partition, re-reading
// leader and term just before the kill and re-targeting when they moved.
type LeaderKill struct {
	// Target is the store whose leaders are killed.
	Target cluster.Target
	// Attempts bounds the kills tried when the target refuses because the leader moved (default 3).
	Attempts int
}

// Name implements Failpoint.
func (LeaderKill) Name() string { return "kill-leader" }

// Inject implements Failpoint.
func (f LeaderKill) Inject(ctx context.Context, partition int, before cluster.Leadership) (Injection, error) {
	attempts := f.Attempts
	if attempts < 1 {
		attempts = 3
	}
	inj := Injection{Before: before}
	var lastErr error
	for inj.Attempts < attempts {
		inj.Attempts++
		cur, err := f.Target.Leader(ctx, partition)
		if errors.Is(err, cluster.ErrNoLeader) {
			after := uint64(0)
			if cur.Term > 0 {
				after = cur.Term - 1
			}
			cur, err = f.Target.WaitForLeader(ctx, partition, after)
		}
		if err != nil {
			return inj, fmt.Errorf("re-reading the leader of partition %d: %w", partition, err)
		}
		inj.Reread = cur
		k, err := f.Target.KillLeader(ctx, partition)
		if err == nil || !k.SentAt.IsZero() {
			inj.Kill = k
			inj.Unconfirmed = err
			inj.Retargeted = before.Leader.ID != 0 && (k.Victim.ID != before.Leader.ID || k.Term != before.Term)
			return inj, nil
		}
		lastErr = err
		if !errors.Is(err, cluster.ErrNotLeader) && !errors.Is(err, cluster.ErrNoLeader) {
			break
		}
	}
	return inj, fmt.Errorf("killing the leader of partition %d (%d attempts): %w", partition, inj.Attempts, lastErr)
}

// Prober measures when a partition accepts writes again.
type Prober interface {
	// FirstSuccess returns the moment the first successful probe returned and the attempts made.
	FirstSuccess(ctx context.Context) (time.Time, int, error)
}

// PutProbe writes a probe key of the killed partition with short per-attempt
// deadlines, starting a new attempt every Interval whether or not earlier
// ones returned, so that recovery is observed within Interval of happening
// rather than behind the client's own retry backoff (0.5 s ×1.5).
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

// FirstSuccess implements Prober.
func (p PutProbe) FirstSuccess(ctx context.Context) (time.Time, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		at  time.Time
		err error
	}
	res := make(chan result)
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	started, pending := 0, 0
	var lastErr error
	launch := func() {
		started++
		pending++
		value := fmt.Sprintf("probe-%d", started)
		go func() {
			actx, acancel := context.WithTimeout(ctx, p.Timeout)
			_, err := p.Map.Put(actx, p.Key, value)
			acancel()
			res <- result{time.Now(), err}
		}()
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
