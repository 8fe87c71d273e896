package experiment

import (
	"context"
	"runtime"
	"time"
)

// Waiter waits until a deadline on the monotonic clock.
type Waiter interface {
	// WaitUntil returns the moment it woke, at or after deadline, or ctx's error.
	WaitUntil(ctx context.Context, deadline time.Time) (time.Time, error)
}

// DefaultSpin is how long before the deadline PrecisionWaiter stops sleeping and spins.
const DefaultSpin = 2 * time.Millisecond

// PrecisionWaiter sleeps until Spin before the deadline, then spins on the
// monotonic clock until the deadline, so that it wakes within microseconds
// of it even when timers fire late. With Realtime, the spin runs on a locked
// OS thread under SCHED_FIFO (Linux, when permitted; otherwise it silently
// spins at normal priority, yielding with runtime.Gosched), so that other
// processes cannot preempt it on an oversubscribed machine.
type PrecisionWaiter struct {
	// Spin is the final stretch spent spinning instead of sleeping.
	Spin time.Duration
	// Realtime raises the spinning thread to SCHED_FIFO for the spin.
	Realtime bool
}

// WaitUntil implements Waiter.
func (w PrecisionWaiter) WaitUntil(ctx context.Context, deadline time.Time) (time.Time, error) {
	if sleep := time.Until(deadline) - w.Spin; sleep > 0 {
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return time.Now(), ctx.Err()
		case <-t.C:
		}
	}
	rt := false
	if w.Realtime && time.Now().Before(deadline) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if restore, ok := enterRealtime(); ok {
			defer restore()
			rt = true
		}
	}
	for i := 0; ; i++ {
		now := time.Now()
		if !now.Before(deadline) {
			return now, nil
		}
		if i%64 == 0 && ctx.Err() != nil {
			return now, ctx.Err()
		}
		if !rt {
			runtime.Gosched()
		}
	}
}

// RealtimeAvailable reports whether this process may raise a thread to
// SCHED_FIFO for PrecisionWaiter's spin.
func RealtimeAvailable() bool {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	restore, ok := enterRealtime()
	if ok {
		restore()
	}
	return ok
}

// SleepWaiter waits with a plain timer; it is the baseline PrecisionWaiter is measured against.
type SleepWaiter struct{}

// WaitUntil implements Waiter.
func (SleepWaiter) WaitUntil(ctx context.Context, deadline time.Time) (time.Time, error) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return time.Now(), ctx.Err()
	case <-t.C:
		return time.Now(), nil
	}
}
