package experiment

import (
	"context"
	"errors"

	atomixerrors "github.com/atomix/atomix/api/errors"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// WriteStatus classifies a write's error: nil is ok; an error after which
// the write may or may not have been applied (deadline, cancellation,
// unavailability, timeout, unknown, internal, fault) is unknown; any other
// error is a definite failure.
func WriteStatus(err error) string {
	if err == nil {
		return results.WriteOK
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return results.WriteUnknown
	}
	var typed *atomixerrors.TypedError
	if !errors.As(err, &typed) {
		return results.WriteUnknown
	}
	switch typed.Type {
	case atomixerrors.Canceled, atomixerrors.Unavailable, atomixerrors.Timeout,
		atomixerrors.Unknown, atomixerrors.Internal, atomixerrors.Fault:
		return results.WriteUnknown
	default:
		return results.WriteError
	}
}

// isNotFound reports whether err says the key is absent.
func isNotFound(err error) bool {
	var typed *atomixerrors.TypedError
	return errors.As(err, &typed) && typed.Type == atomixerrors.NotFound
}
