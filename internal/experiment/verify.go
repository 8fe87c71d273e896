package experiment

import (
	"context"
	"fmt"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// Verifier reads a trial's key back after the failover.
type Verifier interface {
	// Verify returns the verification result and when its answer arrived
	// (zero when no answer arrived before ctx ended).
	Verify(ctx context.Context, key, value string) (results.Verify, time.Time)
}

// GetVerifier reads the key with Get, retrying failed reads with short
// per-attempt deadlines until ctx ends. An answer (the value, another value,
// or not found) ends the verification; only errors are retried.
type GetVerifier struct {
	// Map is the map read.
	Map cluster.Map
	// AttemptTimeout is each Get's deadline.
	AttemptTimeout time.Duration
	// Interval is the least spacing of attempt starts.
	Interval time.Duration
}

// Verify implements Verifier.
func (v GetVerifier) Verify(ctx context.Context, key, value string) (results.Verify, time.Time) {
	var out results.Verify
	var lastErr error
	for {
		began := time.Now()
		out.Attempts++
		actx, cancel := context.WithTimeout(ctx, v.AttemptTimeout)
		e, err := v.Map.Get(actx, key)
		cancel()
		at := time.Now()
		switch {
		case err == nil:
			out.Value = e.Value
			out.Status = results.VerifyOK
			if e.Value != value {
				out.Status = results.VerifyMismatch
			}
			return out, at
		case isNotFound(err):
			out.Status = results.VerifyMissing
			return out, at
		}
		lastErr = err
		wait := time.NewTimer(v.Interval - time.Since(began))
		select {
		case <-ctx.Done():
			wait.Stop()
			out.Status = results.VerifyError
			out.Error = fmt.Sprintf("no answer after %d attempts: %v (last attempt: %v)", out.Attempts, ctx.Err(), lastErr)
			return out, time.Time{}
		case <-wait.C:
		}
	}
}
