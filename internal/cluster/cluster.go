// Package cluster defines the Target interface through which the experiment
// engine and the command line inspect and fail an Atomix Raft store, whatever
// runs it (embedded child processes or Kubernetes pods).
package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	_map "github.com/atomix/go-sdk/pkg/primitive/map"
)

// Map is the go-sdk map primitive used for every data-path operation.
type Map = _map.Map[string, string]

// ErrNoLeader is returned when a partition has no known leader (an election is running).
var ErrNoLeader = errors.New("no leader")

// ErrNotLeader is returned when a kill is refused because the member is not
// (or is no longer) the verified leader of the partition.
var ErrNotLeader = errors.New("member is not the verified leader")

// ErrNotMember is returned when a kill is refused because the process or pod is
// not a verified member of the target store.
var ErrNotMember = errors.New("not a verified member of the target store")

// Member is one Raft member of a partition and what runs it.
type Member struct {
	// ID is the Raft member ID within its group.
	ID uint64 `json:"member"`
	// Name is the member's name: "node-2" locally, the RaftReplica or RaftMember name in Kubernetes.
	Name string `json:"name,omitempty"`
	// Pod names what runs the member: the pod name in Kubernetes, "node-2" locally.
	Pod string `json:"pod,omitempty"`
	// PID is the operating-system process ID (local target only; 0 when down or unknown).
	PID int `json:"pid,omitempty"`
	// Address is the member's API address (host:port), when known.
	Address string `json:"address,omitempty"`
	// UID identifies one incarnation of the pod or process (pod UID, or "pid@start").
	UID string `json:"uid,omitempty"`
}

// String renders the member for logs and tables.
func (m Member) String() string {
	if m.PID > 0 {
		return fmt.Sprintf("%s (member %d, pid %d)", m.Pod, m.ID, m.PID)
	}
	return fmt.Sprintf("%s (member %d)", m.Pod, m.ID)
}

// Leadership is the known leadership of one partition at one moment.
type Leadership struct {
	// Partition is the partition ID (1-based, as Atomix numbers them).
	Partition int `json:"partition"`
	// Term is the highest Raft term observed for the partition.
	Term uint64 `json:"term"`
	// Leader is the leader at Term; its ID is 0 while an election is running.
	Leader Member `json:"leader"`
	// Followers are the other voting members.
	Followers []Member `json:"followers,omitempty"`
	// ObservedAt is when this leadership was first observed (monotonic clock reading).
	ObservedAt time.Time `json:"-"`
}

// HasLeader reports whether a leader is known.
func (l Leadership) HasLeader() bool { return l.Leader.ID != 0 }

// Kill is the record of one confirmed leader kill.
type Kill struct {
	// Partition is the partition whose leader was killed.
	Partition int
	// Victim is the member that was killed, verified to lead Partition at Term.
	Victim Member
	// Term is the term in which Victim led Partition when it was killed.
	Term uint64
	// SentAt is taken just before the kill was issued (monotonic).
	SentAt time.Time
	// DoneAt is when the kill was confirmed: process reaped, or pod deletion accepted
	// and the pod gone or replaced (monotonic).
	DoneAt time.Time
}

// Info describes the target store.
type Info struct {
	// Target is "local" or "kubernetes".
	Target string `json:"target"`
	// Store names the store (the RaftStore name, or "embedded").
	Store string `json:"store"`
	// Partitions is the number of partitions (Raft groups).
	Partitions int `json:"partitions"`
	// Replicas is the number of members of each partition.
	Replicas int `json:"replicas"`
	// Versions lists the versions of the store's components, when known.
	Versions map[string]string `json:"versions,omitempty"`
}

// Target is a running Atomix Raft store that can be observed and failed.
// Every method honours ctx's deadline.
type Target interface {
	// Info describes the store.
	Info() Info
	// Leaders returns the current leadership of every partition, ordered by partition.
	Leaders(ctx context.Context) ([]Leadership, error)
	// Leader returns the current leadership of one partition; it returns
	// ErrNoLeader (with the leadership known so far) while an election runs.
	Leader(ctx context.Context, partition int) (Leadership, error)
	// WaitForLeader blocks, driven by events rather than polling, until the
	// partition has a leader in a term higher than afterTerm, and returns it with
	// the moment it was observed.
	WaitForLeader(ctx context.Context, partition int, afterTerm uint64) (Leadership, error)
	// PlanKill verifies which member KillLeader would kill now and returns it
	// without killing anything (dry run).
	PlanKill(ctx context.Context, partition int) (Leadership, error)
	// KillLeader kills the member verified, right before the kill, to be the
	// current leader of the partition, and returns once the kill is confirmed.
	// It refuses (ErrNotLeader, ErrNotMember, ErrNoLeader) without killing
	// anything when the verification fails. When the kill was sent but could
	// not be confirmed, it returns the Kill with SentAt set (DoneAt zero) and
	// an error.
	KillLeader(ctx context.Context, partition int) (Kill, error)
	// Map opens the named go-sdk map through the store's data path.
	Map(ctx context.Context, name string) (Map, error)
	// Close releases every resource; a local target stops and reaps its nodes.
	Close() error
}
