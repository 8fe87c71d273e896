package local

import (
	"context"
	"sync"
	"time"
)

// leaderEvent is one LeaderUpdated event as reported by one member.
type leaderEvent struct {
	Group    int
	Reporter uint64
	Term     uint64
	Leader   uint64
	At       time.Time
}

// groupState is the tracker's view of one Raft group.
type groupState struct {
	Term       uint64
	Leader     uint64
	ObservedAt time.Time
	// deposed is the highest term whose leader was killed: claims of
	// leadership in that term or earlier are stale.
	deposed uint64
}

// tracker folds the LeaderUpdated events of every member into one view per
// group: the highest term seen and its leader (0 while an election runs).
// Waiters are woken by a broadcast channel closed on every change.
type tracker struct {
	mu      sync.Mutex
	groups  map[int]*groupState
	changed chan struct{}
}

func newTracker(groups int) *tracker {
	t := &tracker{groups: make(map[int]*groupState, groups), changed: make(chan struct{})}
	for g := 1; g <= groups; g++ {
		t.groups[g] = &groupState{}
	}
	return t
}

// apply folds one event in and reports whether the view changed.
func (t *tracker) apply(e leaderEvent) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.groups[e.Group]
	if !ok {
		return false
	}
	switch {
	case e.Term < g.Term:
		return false
	case e.Leader != 0 && e.Term <= g.deposed:
		return false
	case e.Term > g.Term:
		g.Term, g.Leader, g.ObservedAt = e.Term, e.Leader, e.At
	case e.Leader != 0 && g.Leader == 0:
		g.Leader, g.ObservedAt = e.Leader, e.At
	default:
		// Same term: a member that has not heard from the leader yet (0) or
		// one that confirms it; Raft allows one leader per term.
		return false
	}
	t.broadcastLocked()
	return true
}

// memberDown records that member was killed: the groups it led have no
// leader until an event for a later term arrives.
func (t *tracker) memberDown(member uint64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	changed := false
	for _, g := range t.groups {
		if g.Leader == member {
			g.deposed = g.Term
			g.Leader, g.ObservedAt = 0, at
			changed = true
		}
	}
	if changed {
		t.broadcastLocked()
	}
}

// poke wakes every waiter without changing the view (a process came back).
func (t *tracker) poke() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.broadcastLocked()
}

func (t *tracker) broadcastLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// get returns a copy of a group's state.
func (t *tracker) get(group int) (groupState, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.groups[group]
	if !ok {
		return groupState{}, false
	}
	return *g, true
}

// snapshot returns a copy of every group's state and the channel closed on the next change.
func (t *tracker) snapshot() (map[int]groupState, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int]groupState, len(t.groups))
	for id, g := range t.groups {
		out[id] = *g
	}
	return out, t.changed
}

// waitFor blocks until cond holds for the current view, or ctx ends.
func (t *tracker) waitFor(ctx context.Context, cond func(map[int]groupState) bool) (map[int]groupState, error) {
	for {
		view, changed := t.snapshot()
		if cond(view) {
			return view, nil
		}
		select {
		case <-ctx.Done():
			return view, ctx.Err()
		case <-changed:
		}
	}
}
