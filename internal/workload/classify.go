package workload

import (
	"context"
	"errors"

	atomixerrors "github.com/atomix/atomix/api/errors"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// Status classifies an operation's error for the history log: nil is ok;
// a refusal by the map state machine itself (NotFound, Conflict,
// AlreadyExists), after which the operation certainly did not take effect,
// is fail; anything else (deadline, cancellation, Unavailable, Timeout,
// Internal, Forbidden, Invalid, an untyped error, …) is unknown, since the
// operation may have been applied: a wrong "fail" would drop an applied
// write from the linearizability check and turn a read of it into a false
// violation.
func Status(err error) string {
	if err == nil {
		return history.StatusOK
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return history.StatusUnknown
	}
	var typed *atomixerrors.TypedError
	if !errors.As(err, &typed) {
		return history.StatusUnknown
	}
	switch typed.Type {
	case atomixerrors.NotFound, atomixerrors.Conflict, atomixerrors.AlreadyExists:
		// The map state machine's own refusals: provably not applied. rsm
		// answers a retried proposal on an expired session with Forbidden
		// ("session not found") although the first try may have been
		// applied, so Forbidden, Invalid and the rest are unknown.
		return history.StatusFail
	default:
		return history.StatusUnknown
	}
}

// IsNotFound reports whether err is Atomix's NotFound: a get of an absent
// key, or an update of one.
func IsNotFound(err error) bool {
	var typed *atomixerrors.TypedError
	return errors.As(err, &typed) && typed.Type == atomixerrors.NotFound
}
