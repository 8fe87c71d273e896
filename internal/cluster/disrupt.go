package cluster

import (
	"context"
	"time"
)

// Disruption is the record of one timed fault on a partition's leader: a
// pause or an isolation, undone after a set time.
type Disruption struct {
	// Partition is the partition whose leader was disrupted.
	Partition int
	// Victim is the member disrupted, verified to lead Partition at Term.
	Victim Member
	// Term is the term in which Victim led Partition when the fault began.
	Term uint64
	// SentAt is taken just before the fault was applied (monotonic).
	SentAt time.Time
	// EndedAt is when the fault was undone (resume, heal; monotonic); zero
	// when it could not be (the victim exited meanwhile).
	EndedAt time.Time
	// Led lists the partitions Victim led when the fault began, with the term of each.
	Led map[int]uint64
}

// Pauser is implemented by targets that can freeze a partition's leader and let it run again (the local target).
type Pauser interface {
	// PauseLeader pauses the member verified, right before the pause, to lead
	// the partition, keeps it paused for d and resumes it; started, when not
	// nil, is called once the pause is in effect. It refuses (ErrNotLeader,
	// ErrNotMember, ErrNoLeader) without pausing anything when the
	// verification fails: an error with a zero SentAt means nothing was
	// paused. When ctx ends during the pause it resumes the member at once
	// and returns the Disruption with ctx's error wrapped.
	PauseLeader(ctx context.Context, partition int, d time.Duration, started func(Disruption)) (Disruption, error)
}

// Side names what an isolated leader is cut off from.
type Side string

// Sides of an isolation.
const (
	// SidePeers cuts the leader's Raft links to and from the other members;
	// clients still reach it.
	SidePeers Side = "peers"
	// SideClients cuts the clients' connections to the leader; its Raft
	// links stay up.
	SideClients Side = "clients"
)

// Isolator is implemented by targets that can cut a partition's leader off
// and heal the cut (the local target, through its per-link proxies).
type Isolator interface {
	// IsolateLeader cuts the member verified, right before the cut, to lead
	// the partition off from side, keeps it cut for d and heals it; started,
	// when not nil, is called once the cut is in effect. Refusals and ctx's
	// end behave as in Pauser.PauseLeader.
	IsolateLeader(ctx context.Context, partition int, d time.Duration, from Side, started func(Disruption)) (Disruption, error)
}
