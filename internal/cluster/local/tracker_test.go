package local

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestTrackerApply(t *testing.T) {
	t0 := time.Now()
	ev := func(group int, reporter, term, leader uint64) leaderEvent {
		return leaderEvent{Group: group, Reporter: reporter, Term: term, Leader: leader, At: t0}
	}
	type step struct {
		event   *leaderEvent
		down    uint64 // member killed before the event
		changed bool
	}
	tests := []struct {
		name       string
		steps      []step
		wantTerm   uint64
		wantLeader uint64
	}{
		{
			name:       "first leader",
			steps:      []step{{event: ptr(ev(1, 1, 2, 3)), changed: true}},
			wantTerm:   2,
			wantLeader: 3,
		},
		{
			name: "every member confirms the same leader",
			steps: []step{
				{event: ptr(ev(1, 1, 2, 3)), changed: true},
				{event: ptr(ev(1, 2, 2, 3))},
				{event: ptr(ev(1, 3, 2, 3))},
			},
			wantTerm: 2, wantLeader: 3,
		},
		{
			name: "election running: higher term without leader clears it",
			steps: []step{
				{event: ptr(ev(1, 1, 2, 3)), changed: true},
				{event: ptr(ev(1, 2, 3, 0)), changed: true},
			},
			wantTerm: 3, wantLeader: 0,
		},
		{
			name: "leader learned after the election started",
			steps: []step{
				{event: ptr(ev(1, 1, 2, 3)), changed: true},
				{event: ptr(ev(1, 2, 3, 0)), changed: true},
				{event: ptr(ev(1, 2, 3, 2)), changed: true},
				{event: ptr(ev(1, 1, 3, 0))},
			},
			wantTerm: 3, wantLeader: 2,
		},
		{
			name: "stale lower term is ignored",
			steps: []step{
				{event: ptr(ev(1, 1, 5, 1)), changed: true},
				{event: ptr(ev(1, 3, 4, 3))},
				{event: ptr(ev(1, 3, 2, 0))},
			},
			wantTerm: 5, wantLeader: 1,
		},
		{
			name: "out-of-order events keep the highest term",
			steps: []step{
				{event: ptr(ev(1, 2, 7, 2)), changed: true},
				{event: ptr(ev(1, 1, 6, 1))},
			},
			wantTerm: 7, wantLeader: 2,
		},
		{
			name: "killed leader leaves the group leaderless",
			steps: []step{
				{event: ptr(ev(1, 1, 2, 1)), changed: true},
				{down: 1, changed: true},
			},
			wantTerm: 2, wantLeader: 0,
		},
		{
			name: "stale claim of the killed leader's term is ignored after its restart",
			steps: []step{
				{event: ptr(ev(1, 1, 2, 1)), changed: true},
				{down: 1, changed: true},
				{event: ptr(ev(1, 1, 2, 1))},
				{event: ptr(ev(1, 2, 2, 1))},
			},
			wantTerm: 2, wantLeader: 0,
		},
		{
			name: "the restarted member may lead a later term",
			steps: []step{
				{event: ptr(ev(1, 1, 2, 1)), changed: true},
				{down: 1, changed: true},
				{event: ptr(ev(1, 1, 4, 1)), changed: true},
			},
			wantTerm: 4, wantLeader: 1,
		},
		{
			name: "killing a follower changes nothing",
			steps: []step{
				{event: ptr(ev(1, 1, 2, 1)), changed: true},
				{down: 3},
			},
			wantTerm: 2, wantLeader: 1,
		},
		{
			name:     "unknown group is ignored",
			steps:    []step{{event: ptr(ev(9, 1, 2, 1))}},
			wantTerm: 0, wantLeader: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker(1)
			for i, s := range tt.steps {
				_, changed := tr.snapshot()
				var got bool
				if s.down != 0 {
					tr.memberDown(s.down, t0)
				}
				if s.event != nil {
					got = tr.apply(*s.event)
				}
				woke := isClosed(changed)
				if s.event != nil && got != s.changed {
					t.Errorf("step %d: apply changed = %v, want %v", i, got, s.changed)
				}
				if woke != s.changed {
					t.Errorf("step %d: waiters woken = %v, want %v", i, woke, s.changed)
				}
			}
			g, _ := tr.get(1)
			if g.Term != tt.wantTerm || g.Leader != tt.wantLeader {
				t.Errorf("term %d leader %d, want term %d leader %d", g.Term, g.Leader, tt.wantTerm, tt.wantLeader)
			}
		})
	}
}

func TestTrackerTermNeverDecreases(t *testing.T) {
	tr := newTracker(2)
	var maxTerm uint64
	for i, term := range []uint64{3, 1, 5, 5, 2, 8, 7, 0, 9} {
		tr.apply(leaderEvent{Group: 2, Reporter: uint64(i%3 + 1), Term: term, Leader: uint64(i%3 + 1)})
		if term > maxTerm {
			maxTerm = term
		}
		if g, _ := tr.get(2); g.Term != maxTerm {
			t.Fatalf("after term %d: tracked term %d, want %d", term, g.Term, maxTerm)
		}
	}
}

func TestTrackerWaitFor(t *testing.T) {
	tr := newTracker(1)
	tr.apply(leaderEvent{Group: 1, Reporter: 1, Term: 2, Leader: 1})
	done := make(chan groupState, 1)
	go func() {
		v, err := tr.waitFor(context.Background(), func(v map[int]groupState) bool { return v[1].Term > 2 && v[1].Leader != 0 })
		if err != nil {
			t.Error(err)
		}
		done <- v[1]
	}()
	tr.apply(leaderEvent{Group: 1, Reporter: 2, Term: 3, Leader: 0})
	select {
	case <-done:
		t.Fatal("waiter returned during the election")
	case <-time.After(20 * time.Millisecond):
	}
	at := time.Now()
	tr.apply(leaderEvent{Group: 1, Reporter: 2, Term: 3, Leader: 2, At: at})
	g := <-done
	if g.Leader != 2 || g.Term != 3 || !g.ObservedAt.Equal(at) {
		t.Errorf("woke with %+v, want leader 2 term 3 observed at %v", g, at)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.waitFor(ctx, func(map[int]groupState) bool { return false }); !errors.Is(err, context.Canceled) {
		t.Errorf("waitFor on a cancelled context: %v, want context.Canceled", err)
	}
}

func ptr[T any](v T) *T { return &v }

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
