package local

import (
	"context"
	"fmt"
	"sort"
	"strings"
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

// report is the latest leadership one member reported for one group.
type report struct {
	Term   uint64
	Leader uint64
	At     time.Time
}

// groupState is the tracker's view of one Raft group.
type groupState struct {
	// Term is the leader's term, or while no leader is known the highest term seen.
	Term uint64
	// Leader is the member that leads in Term; 0 while no leader is known.
	Leader uint64
	// ObservedAt is when the tracker first held this Term and Leader.
	ObservedAt time.Time
	// Reports holds each live member's latest report.
	Reports map[uint64]report
	// deposed is the highest term whose leader was killed: claims of
	// leadership in that term or earlier are stale.
	deposed uint64
}

func (g groupState) clone() groupState {
	out := g
	out.Reports = make(map[uint64]report, len(g.Reports))
	for m, r := range g.Reports {
		out.Reports[m] = r
	}
	return out
}

// tracker folds the LeaderUpdated events of every member into one view per
// group, keeping each member's own latest report. A member's claim that L
// leads term T holds while L is up and L's own latest report is not for a
// later term: a candidate's report (a higher term, no leader) does not
// depose a leader that still leads. Waiters are woken by a broadcast channel
// closed on every change of any report.
type tracker struct {
	mu      sync.Mutex
	groups  map[int]*groupState
	down    map[uint64]bool
	changed chan struct{}
}

func newTracker(groups int) *tracker {
	t := &tracker{groups: make(map[int]*groupState, groups), down: map[uint64]bool{}, changed: make(chan struct{})}
	for g := 1; g <= groups; g++ {
		t.groups[g] = &groupState{Reports: map[uint64]report{}}
	}
	return t
}

// apply folds one event in and reports whether the group's leadership view changed.
func (t *tracker) apply(e leaderEvent) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.groups[e.Group]
	if !ok || t.down[e.Reporter] {
		return false
	}
	if prev, ok := g.Reports[e.Reporter]; ok && (e.Term < prev.Term || (e.Term == prev.Term && e.Leader == prev.Leader)) {
		return false
	}
	g.Reports[e.Reporter] = report{Term: e.Term, Leader: e.Leader, At: e.At}
	changed := t.recomputeLocked(g, e.At)
	t.broadcastLocked()
	return changed
}

// recomputeLocked derives the group's leadership from the reports and
// reports whether it changed.
func (t *tracker) recomputeLocked(g *groupState, at time.Time) bool {
	var best report
	var maxTerm uint64
	for _, r := range g.Reports {
		maxTerm = max(maxTerm, r.Term)
		if r.Leader == 0 || r.Term <= g.deposed || t.down[r.Leader] || r.Term <= best.Term {
			continue
		}
		if own, ok := g.Reports[r.Leader]; ok && (own.Term > r.Term || (own.Term == r.Term && own.Leader != r.Leader)) {
			continue
		}
		best = r
	}
	term, leader := best.Term, best.Leader
	if leader == 0 {
		term = max(g.Term, maxTerm)
	}
	if term == g.Term && leader == g.Leader {
		return false
	}
	g.Term, g.Leader, g.ObservedAt = term, leader, at
	return true
}

// memberDown records that member was killed: its reports are dropped and
// ignored until memberUp, and the groups it led have no leader until a
// claim for a later term holds.
func (t *tracker) memberDown(member uint64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.down[member] = true
	for _, g := range t.groups {
		if g.Leader == member {
			g.deposed = g.Term
		}
		delete(g.Reports, member)
		t.recomputeLocked(g, at)
	}
	t.broadcastLocked()
}

// memberUp records that member runs again: its reports count from now on.
func (t *tracker) memberUp(member uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.down, member)
	t.broadcastLocked()
}

// reset forgets every report and deposed term: the store was wiped.
func (t *tracker) reset(at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, g := range t.groups {
		*g = groupState{Reports: map[uint64]report{}, ObservedAt: at}
	}
	t.broadcastLocked()
}

// leadersOf returns the groups member leads, with their terms.
func (t *tracker) leadersOf(member uint64) map[int]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[int]uint64{}
	for id, g := range t.groups {
		if g.Leader == member {
			out[id] = g.Term
		}
	}
	return out
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
	return g.clone(), true
}

// snapshot returns a copy of every group's state and the channel closed on the next change.
func (t *tracker) snapshot() (map[int]groupState, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int]groupState, len(t.groups))
	for id, g := range t.groups {
		out[id] = g.clone()
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

// disagreement says why the members' reports of a group do not all name its
// leader and term; members lists every member that must report. It returns
// "" when they agree.
func (g groupState) disagreement(members []uint64) string {
	if g.Leader == 0 {
		return fmt.Sprintf("no leader (term %d)", g.Term)
	}
	var off []string
	for _, m := range members {
		r, ok := g.Reports[m]
		switch {
		case !ok:
			off = append(off, fmt.Sprintf("member %d has not reported", m))
		case r.Term != g.Term || r.Leader != g.Leader:
			off = append(off, fmt.Sprintf("member %d reports leader %d in term %d", m, r.Leader, r.Term))
		}
	}
	if len(off) == 0 {
		return ""
	}
	sort.Strings(off)
	return fmt.Sprintf("leader %d in term %d, but %s", g.Leader, g.Term, strings.Join(off, ", "))
}
