package cluster

import (
	"context"
	"time"
)

// Pauser is implemented by targets that can freeze a partition's leader and let it run again (the local target).
type Pauser interface {
	// PauseLeader pauses the member verified, right before the pause, to lead
	// the partition, keeps it paused for d and resumes it. It refuses
	// (ErrNotLeader, ErrNotMember, ErrNoLeader) without pausing anything when
	// the verification fails: an error with a zero SentAt means nothing was
	// paused. When ctx ends during the pause it resumes the member at once and
	// returns the Pause with ctx's error wrapped.
	PauseLeader(ctx context.Context, partition int, d time.Duration) (Pause, error)
}

// Pause is the record of one leader pause.
type Pause struct {
	// Partition is the partition whose leader was paused.
	Partition int
	// Victim is the member that was paused, verified to lead Partition at Term.
	Victim Member
	// Term is the term in which Victim led Partition when it was paused.
	Term uint64
	// SentAt is taken just before the pause was issued (monotonic).
	SentAt time.Time
	// ResumedAt is when the resume was issued (monotonic); zero when Victim exited while paused.
	ResumedAt time.Time
	// Led lists the partitions Victim led when it was paused, with the term of each.
	Led map[int]uint64
}
