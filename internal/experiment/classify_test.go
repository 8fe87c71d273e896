package experiment

import (
	"context"
	"errors"
	"fmt"
	"testing"

	atomixerrors "github.com/atomix/atomix/api/errors"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

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
