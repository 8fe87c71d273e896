package experiment

import (
	"context"
	"errors"

	atomixerrors "github.com/atomix/atomix/api/errors"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// Validator classifies a trial from its write and verification results.
type Validator interface {
	// Classify returns the trial's outcome class (results.Outcome*).
	Classify(write results.Write, verify results.Verify) string
}

// DurabilityValidator applies DESIGN.md's outcome table: Jepsen's ok / fail /
// info applied to durability.
type DurabilityValidator struct{}

// Classify implements Validator.
func (DurabilityValidator) Classify(write results.Write, verify results.Verify) string {
	switch verify.Status {
	case results.VerifyOK:
		if write.Status == results.WriteOK {
			return results.OutcomeDurable
		}
		return results.OutcomeIndeterminateApplied
	case results.VerifyMissing, results.VerifyMismatch:
		if write.Status == results.WriteOK {
			return results.OutcomeLost
		}
		return results.OutcomeIndeterminateAbsent
	default:
		return results.OutcomeInconclusive
	}
}

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
