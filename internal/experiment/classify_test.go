package experiment

import (
	"context"
	"errors"
	"fmt"
	"testing"

	atomixerrors "github.com/atomix/atomix/api/errors"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		write, verify string
		want          string
	}{
		{results.WriteOK, results.VerifyOK, results.OutcomeDurable},
		{results.WriteOK, results.VerifyMissing, results.OutcomeLost},
		{results.WriteOK, results.VerifyMismatch, results.OutcomeLost},
		{results.WriteOK, results.VerifyError, results.OutcomeInconclusive},
		{results.WriteError, results.VerifyOK, results.OutcomeIndeterminateApplied},
		{results.WriteUnknown, results.VerifyOK, results.OutcomeIndeterminateApplied},
		{results.WriteError, results.VerifyMissing, results.OutcomeIndeterminateAbsent},
		{results.WriteUnknown, results.VerifyMissing, results.OutcomeIndeterminateAbsent},
		{results.WriteUnknown, results.VerifyMismatch, results.OutcomeIndeterminateAbsent},
		{results.WriteError, results.VerifyError, results.OutcomeInconclusive},
		{results.WriteUnknown, results.VerifyError, results.OutcomeInconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.write+"/"+tt.verify, func(t *testing.T) {
			got := DurabilityValidator{}.Classify(results.Write{Status: tt.write}, results.Verify{Status: tt.verify})
			if got != tt.want {
				t.Fatalf("Classify = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestWriteStatus(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, results.WriteOK},
		{context.DeadlineExceeded, results.WriteUnknown},
		{fmt.Errorf("put: %w", context.Canceled), results.WriteUnknown},
		{atomixerrors.NewUnavailable("not the leader"), results.WriteUnknown},
		{atomixerrors.NewTimeout("t"), results.WriteUnknown},
		{atomixerrors.NewInternal("i"), results.WriteUnknown},
		{atomixerrors.NewUnknown("u"), results.WriteUnknown},
		{errors.New("transport is closing"), results.WriteUnknown},
		{atomixerrors.NewInvalid("bad key"), results.WriteError},
		{atomixerrors.NewForbidden("no"), results.WriteError},
		{atomixerrors.NewConflict("c"), results.WriteError},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			if got := WriteStatus(tt.err); got != tt.want {
				t.Fatalf("WriteStatus(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
}
