package experiment

import (
	"context"
	"fmt"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// Timed is a fault undone after a set time: the leader paused
// (cluster.Pauser) or cut off (cluster.Isolator). Inject returns once the
// fault is in effect; Injection.Heal follows it to its end.
type Timed struct {
	// Fault is results.FaultPauseLeader or results.FaultIsolateLeader.
	Fault string
	// Target is the store; it must implement the fault's capability.
	Target cluster.Target
	// Duration is how long the fault lasts.
	Duration time.Duration
	// From is what an isolation cuts the leader off from.
	From cluster.Side
	// Attempts bounds the tries refused because the leader moved (default 5).
	Attempts int
}

// Name implements Failpoint.
func (f Timed) Name() string { return f.Fault }

// applyFunc applies a timed fault, calling started once it is in effect.
type applyFunc func(ctx context.Context, partition int, d time.Duration, started func(cluster.Disruption)) (cluster.Disruption, error)

// apply is the target's implementation of the fault.
func (f Timed) apply() (applyFunc, error) {
	switch f.Fault {
	case results.FaultPauseLeader:
		if p, ok := f.Target.(cluster.Pauser); ok {
			return p.PauseLeader, nil
		}
	case results.FaultIsolateLeader:
		if i, ok := f.Target.(cluster.Isolator); ok {
			return func(ctx context.Context, partition int, d time.Duration, started func(cluster.Disruption)) (cluster.Disruption, error) {
				return i.IsolateLeader(ctx, partition, d, f.From, started)
			}, nil
		}
	default:
		return nil, fmt.Errorf("%q is not a timed fault", f.Fault)
	}
	return nil, fmt.Errorf("the %s target cannot %s: %w; it needs the local target", f.Target.Info().Target, f.Fault, ErrUnsupported)
}

// Inject implements Failpoint.
func (f Timed) Inject(ctx context.Context, partition int, before cluster.Leadership) (Injection, error) {
	apply, err := f.apply()
	if err != nil {
		return Injection{Before: before}, err
	}
	return retryOnLeader(ctx, f.Target, partition, before, f.Attempts, func(ctx context.Context) (Injection, error) {
		return f.start(ctx, apply, partition)
	})
}

// start runs the fault in the background and returns once it is in effect
// or has failed; the fault itself outlives ctx (it ends with Heal.Wait).
func (f Timed) start(ctx context.Context, apply applyFunc, partition int) (Injection, error) {
	started := make(chan cluster.Disruption, 1)
	h := &Heal{done: make(chan healed, 1)}
	var hctx context.Context
	hctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		d, err := apply(hctx, partition, f.Duration, func(d cluster.Disruption) { started <- d })
		h.done <- healed{d, err}
	}()
	select {
	case d := <-started:
		return injected(h, d), nil
	case r := <-h.done:
		h.cancel()
		select {
		case d := <-started:
			h.res = &r
			return injected(h, d), nil
		default:
		}
		if r.err == nil {
			r.err = fmt.Errorf("the %s ended without taking effect", f.Fault)
		}
		return Injection{}, r.err
	case <-ctx.Done():
		h.cancel()
		<-h.done
		return Injection{}, fmt.Errorf("waiting for the %s to take effect: %w", f.Fault, ctx.Err())
	}
}

// injected is the Injection of a timed fault in effect.
func injected(h *Heal, d cluster.Disruption) Injection {
	return Injection{Heal: h, Kill: cluster.Kill{
		Partition: d.Partition, Victim: d.Victim, Term: d.Term, SentAt: d.SentAt, DoneAt: d.SentAt, Led: d.Led,
	}}
}

type healed struct {
	d   cluster.Disruption
	err error
}

// Heal follows a timed fault in effect to its end.
type Heal struct {
	done   chan healed
	cancel context.CancelFunc
	res    *healed
}

// Wait returns the fault's record once it is undone; when ctx ends first it
// undoes the fault at once. It may be called again and returns the same.
func (h *Heal) Wait(ctx context.Context) (cluster.Disruption, error) {
	if h.res == nil {
		select {
		case r := <-h.done:
			h.res = &r
		case <-ctx.Done():
			h.cancel()
			r := <-h.done
			h.res = &r
		}
		h.cancel()
	}
	return h.res.d, h.res.err
}
