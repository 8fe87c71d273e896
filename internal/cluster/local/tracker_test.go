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
		up      uint64 // member restarted before the event
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
			name: "the leader's own report of a higher term without a leader clears it",
			steps: []step{
				{event: ptr(ev(1, 3, 2, 3)), changed: true},
				{event: ptr(ev(1, 3, 3, 0)), changed: true},
			},
			wantTerm: 3, wantLeader: 0,
		},
		{
			name: "a candidate's higher term does not depose a leader that still leads",
			steps: []step{
				{event: ptr(ev(1, 3, 2, 3)), changed: true},
				{event: ptr(ev(1, 1, 2, 3))},
				{event: ptr(ev(1, 2, 3, 0))},
				{event: ptr(ev(1, 2, 4, 0))},
			},
			wantTerm: 2, wantLeader: 3,
		},
		{
			name: "a follower's claim stands until the leader itself moves on",
			steps: []step{
				{event: ptr(ev(1, 1, 2, 3)), changed: true},
				{event: ptr(ev(1, 2, 3, 0))},
			},
			wantTerm: 2, wantLeader: 3,
		},
		{
			name: "leader learned after the election started",
			steps: []step{
				{event: ptr(ev(1, 3, 2, 3)), changed: true},
				{event: ptr(ev(1, 3, 3, 0)), changed: true},
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
				{event: ptr(ev(1, 2, 2, 1))},
				{up: 1, event: ptr(ev(1, 1, 2, 1))},
				{event: ptr(ev(1, 3, 2, 1))},
			},
			wantTerm: 2, wantLeader: 0,
		},
		{
			name: "a killed member's last words are ignored",
			steps: []step{
				{event: ptr(ev(1, 2, 2, 2)), changed: true},
				{down: 1},
				{event: ptr(ev(1, 1, 3, 1))},
			},
			wantTerm: 2, wantLeader: 2,
		},
		{
			name: "the restarted member may lead a later term",
			steps: []step{
				{event: ptr(ev(1, 1, 2, 1)), changed: true},
				{down: 1, changed: true},
				{up: 1, event: ptr(ev(1, 1, 4, 1)), changed: true},
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
				if s.up != 0 {
					tr.memberUp(s.up)
				}
				if s.event != nil {
					got = tr.apply(*s.event)
				}
				woke := isClosed(changed)
				if s.event != nil && got != s.changed {
					t.Errorf("step %d: apply changed = %v, want %v", i, got, s.changed)
				}
				if s.changed && !woke {
					t.Errorf("step %d: leadership changed but waiters were not woken", i)
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

func TestGroupDisagreement(t *testing.T) {
	members := []uint64{1, 2, 3}
	agree := map[uint64]report{1: {Term: 4, Leader: 2}, 2: {Term: 4, Leader: 2}, 3: {Term: 4, Leader: 2}}
	tests := []struct {
		name string
		g    groupState
		want string
	}{
		{"all agree", groupState{Term: 4, Leader: 2, Reports: agree}, ""},
		{"no leader", groupState{Term: 5, Reports: agree}, "no leader (term 5)"},
		{"one silent", groupState{Term: 4, Leader: 2, Reports: map[uint64]report{1: {Term: 4, Leader: 2}, 2: {Term: 4, Leader: 2}}},
			"leader 2 in term 4, but member 3 has not reported"},
		{"one campaigning", groupState{Term: 4, Leader: 2, Reports: map[uint64]report{1: {Term: 4, Leader: 2}, 2: {Term: 4, Leader: 2}, 3: {Term: 5}}},
			"leader 2 in term 4, but member 3 reports leader 0 in term 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.g.disagreement(members); got != tt.want {
				t.Errorf("disagreement = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSpreadPlan(t *testing.T) {
	members := []uint64{1, 2, 3}
	tests := []struct {
		name     string
		leaders  map[int]uint64
		avoid    int
		group    int
		from, to uint64
	}{
		{"one node leads all", map[int]uint64{1: 2, 2: 2, 3: 2}, 0, 1, 2, 1},
		{"avoid the trial's partition", map[int]uint64{1: 2, 2: 2, 3: 2}, 1, 2, 2, 1},
		{"two leaders are enough", map[int]uint64{1: 2, 2: 3, 3: 2}, 0, 0, 0, 0},
		{"three leaders", map[int]uint64{1: 1, 2: 2, 3: 3}, 0, 0, 0, 0},
		{"one group cannot be spread", map[int]uint64{1: 3}, 0, 0, 0, 0},
		{"two groups on one node", map[int]uint64{1: 3, 2: 3}, 2, 1, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, from, to := spreadPlan(tt.leaders, members, tt.avoid)
			if g != tt.group || from != tt.from || to != tt.to {
				t.Errorf("spreadPlan = group %d from %d to %d, want %d %d %d", g, from, to, tt.group, tt.from, tt.to)
			}
		})
	}
}
