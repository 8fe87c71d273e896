package workload

import (
	"context"
	"errors"

	atomixerrors "github.com/atomix/atomix/api/errors"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// Status classifies an operation's error for the history log: nil is ok;
// a definite refusal by the store (NotFound, Conflict, AlreadyExists,
// Invalid, Forbidden, Unauthorized, NotSupported), after which the
// operation certainly did not take effect, is fail; anything else
// (deadline, cancellation, Unavailable, Timeout, Internal, an untyped
// error, …) is unknown, since the operation may have been applied.
//
// It mirrors experiment.WriteStatus, except that an Atomix error type it
// does not know is unknown rather than a definite failure: a wrong "fail"
// would drop an applied write from the linearizability check.
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
	case atomixerrors.NotFound, atomixerrors.Conflict, atomixerrors.AlreadyExists,
		atomixerrors.Invalid, atomixerrors.Forbidden, atomixerrors.Unauthorized,
		atomixerrors.NotSupported:
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
