package experiment

import (
	"context"
	"testing"
	"time"

	atomixerrors "github.com/atomix/atomix/api/errors"
	_map "github.com/atomix/go-sdk/pkg/primitive/map"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// recoveringMap hangs every request (as the Atomix client does while it
// retries Unavailable) until upAt, then answers from value.
type recoveringMap struct {
	cluster.Map
	upAt  time.Time
	value *string
}

func (m recoveringMap) wait(ctx context.Context) error {
	t := time.NewTimer(time.Until(m.upAt))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return atomixerrors.NewTimeout("%v", ctx.Err())
	case <-t.C:
		return nil
	}
}

func (m recoveringMap) Put(ctx context.Context, key, value string, _ ..._map.PutOption) (*_map.Entry[string, string], error) {
	if err := m.wait(ctx); err != nil {
		return nil, err
	}
	return &_map.Entry[string, string]{Key: key}, nil
}

func (m recoveringMap) Get(ctx context.Context, key string, _ ..._map.GetOption) (*_map.Entry[string, string], error) {
	if err := m.wait(ctx); err != nil {
		return nil, err
	}
	if m.value == nil {
		return nil, atomixerrors.NewNotFound("no %s", key)
	}
	e := &_map.Entry[string, string]{Key: key}
	e.Value = *m.value
	return e, nil
}

func TestPutProbeSeesRecoveryPromptly(t *testing.T) {
	tests := []struct {
		name     string
		down     time.Duration
		interval time.Duration
		timeout  time.Duration
	}{
		{"up already", 0, 25 * time.Millisecond, 50 * time.Millisecond},
		{"down 300ms", 300 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond},
		{"down 300ms, attempts overlap", 300 * time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upAt := time.Now().Add(tt.down)
			p := PutProbe{Map: recoveringMap{upAt: upAt}, Key: "k", Interval: tt.interval, Timeout: tt.timeout}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			at, attempts, err := p.FirstSuccess(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if at.Before(upAt) {
				t.Fatalf("success %s before recovery", upAt.Sub(at))
			}
			if lag := at.Sub(upAt); lag > tt.interval+20*time.Millisecond {
				t.Errorf("recovery seen %s late, want within the probe interval %s", lag, tt.interval)
			}
			if min := int(tt.down / tt.interval); attempts < min {
				t.Errorf("%d attempts, want at least %d", attempts, min)
			}
		})
	}
}

func TestPutProbeGivesUp(t *testing.T) {
	p := PutProbe{Map: recoveringMap{upAt: time.Now().Add(time.Hour)}, Key: "k", Interval: 10 * time.Millisecond, Timeout: 20 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := p.FirstSuccess(ctx); err == nil {
		t.Fatal("probe succeeded on a partition that never recovers")
	}
}

func TestGetVerifier(t *testing.T) {
	ours, other := "v1", "v0"
	tests := []struct {
		name     string
		down     time.Duration
		value    *string
		budget   time.Duration
		status   string
		answered bool
	}{
		{"our value", 0, &ours, time.Second, results.VerifyOK, true},
		{"other value", 0, &other, time.Second, results.VerifyMismatch, true},
		{"missing", 0, nil, time.Second, results.VerifyMissing, true},
		{"answers after retries", 150 * time.Millisecond, &ours, time.Second, results.VerifyOK, true},
		{"never answers", time.Hour, &ours, 150 * time.Millisecond, results.VerifyError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := GetVerifier{Map: recoveringMap{upAt: time.Now().Add(tt.down), value: tt.value}, AttemptTimeout: 40 * time.Millisecond, Interval: 10 * time.Millisecond}
			ctx, cancel := context.WithTimeout(context.Background(), tt.budget)
			defer cancel()
			got, at := v.Verify(ctx, "k", ours)
			if got.Status != tt.status || at.IsZero() == tt.answered {
				t.Fatalf("Verify = %+v at %v, want status %s answered %v", got, at, tt.status, tt.answered)
			}
			if tt.down > 0 && tt.down < tt.budget && got.Attempts < 2 {
				t.Errorf("%d attempts, want retries", got.Attempts)
			}
			if !tt.answered && got.Error == "" {
				t.Error("no error recorded for an unanswered verification")
			}
		})
	}
}
