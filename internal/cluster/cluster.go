// Package cluster defines the Target interface through which the experiment
// engine and the command line inspect and fail an Atomix Raft store, whatever
// runs it (embedded child processes or Kubernetes pods).
package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	_map "github.com/atomix/go-sdk/pkg/primitive/map"
)

// Map is the part of the go-sdk map primitive the tool uses.
type Map interface {
	// Put writes key = value.
	Put(ctx context.Context, key string, value string, opts ..._map.PutOption) (*_map.Entry[string, string], error)
	// Get reads key.
	Get(ctx context.Context, key string, opts ..._map.GetOption) (*_map.Entry[string, string], error)
	// Update writes key = value if the key exists; with _map.IfVersion, only
	// at that version (a compare-and-set).
	Update(ctx context.Context, key string, value string, opts ..._map.UpdateOption) (*_map.Entry[string, string], error)
	// Close closes the primitive.
	Close(ctx context.Context) error
}

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

// Kill is the record of one leader kill.
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
	// and the pod gone or replaced (monotonic); zero when Unconfirmed.
	DoneAt time.Time
	// Unconfirmed says why a kill that was sent could not be confirmed
	// (DoneAt zero); nil for a confirmed kill.
	Unconfirmed error
	// Led lists the partitions the victim led when it was killed, with the
	// term of each, so that the store's recovery from the kill can be followed.
	Led map[int]uint64
}

// HealthSpec is what WaitHealthy waits for, beyond a healthy store.
type HealthSpec struct {
	// Partition, when > 0, is the partition about to be failed: its leader
	// must have led for at least MinLeaderAge.
	Partition int
	// MinLeaderAge is the least time Partition's leader must have been in office.
	MinLeaderAge time.Duration
}

// Health is the store's state when WaitHealthy found it healthy.
type Health struct {
	// Leaders is every partition's leadership, ordered by partition.
	Leaders []Leadership
	// At is when the store was found healthy (monotonic).
	At time.Time
	// LeaderAge is how long HealthSpec.Partition's leader had led at At.
	LeaderAge time.Duration
}

// Restart is how a killed member came back.
type Restart struct {
	// Began is when its restart began: the process started, or the replacement
	// pod was created (monotonic; zero when unknown).
	Began time.Time
	// Back is when it was first seen running again: process started and every
	// group bootstrapped, or the replacement pod ready (monotonic).
	Back time.Time
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
	// RestartPolicy says when a killed member comes back (see results.Run).
	RestartPolicy string `json:"restart_policy,omitempty"`
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
	// not be confirmed, the returned Kill has SentAt and Unconfirmed set, and
	// the error is nil: an error always means nothing was killed.
	KillLeader(ctx context.Context, partition int) (Kill, error)
	// WaitHealthy blocks, driven by events, until the store is healthy by its
	// own account: every member runs (bootstrapped, or its pod ready), every
	// partition has a leader, every member reports the same leader and term
	// for it, and spec's leader has been in office for spec.MinLeaderAge. On
	// ctx's end it returns an error saying what was still wrong.
	WaitHealthy(ctx context.Context, spec HealthSpec) (Health, error)
	// Restored blocks until the member killed by k runs again — a new
	// incarnation — and returns when its restart began and when it was back.
	Restored(ctx context.Context, k Kill) (Restart, error)
	// Map opens the named go-sdk map through the store's data path.
	Map(ctx context.Context, name string) (Map, error)
	// Close releases every resource; a local target stops and reaps its nodes.
	Close() error
}

// Send is a data-path write request seen leaving the client.
type Send struct {
	// At is when the request was handed to the connection (monotonic).
	At time.Time
	// To is the address of the member it was sent to.
	To string
}

// SendObserver is implemented by targets that see the data path's write
// requests leave the client for a member (the local store's protocol client).
type SendObserver interface {
	// ObserveWrites delivers every write request sent to the partition's
	// members from now until stop is called; sends that find the channel full
	// are dropped.
	ObserveWrites(partition int) (sends <-chan Send, stop func())
}

// Wiper is implemented by targets that can destroy every member's data, the
// positive control of the durability check.
type Wiper interface {
	// WipeAll kills every member, deletes all their data and restarts them
	// empty, and returns once every partition has a leader and the data path
	// is connected again; maps opened before are unusable afterwards. The Kill
	// names the partition's leader before the wipe.
	WipeAll(ctx context.Context, partition int) (Kill, error)
}

// SendHub fans write-request observations out to the observers of their
// partition; targets that implement SendObserver use it. The zero value is
// ready to use.
type SendHub struct {
	mu        sync.Mutex
	next      int
	observers map[int]sendObserver
}

type sendObserver struct {
	partition int
	ch        chan Send
}

// Observe registers an observer of the partition's write requests; see SendObserver.
func (h *SendHub) Observe(partition int) (<-chan Send, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.observers == nil {
		h.observers = map[int]sendObserver{}
	}
	id := h.next
	h.next++
	ch := make(chan Send, 16)
	h.observers[id] = sendObserver{partition: partition, ch: ch}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.observers, id)
	}
}

// Publish hands s to every observer of partition whose channel has room.
func (h *SendHub) Publish(partition int, s Send) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range h.observers {
		if o.partition != partition {
			continue
		}
		select {
		case o.ch <- s:
		default:
		}
	}
}

// Sessions is implemented by targets that can open a map as an independent
// client would: through a data path of its own, with its own Atomix session
// on every partition.
type Sessions interface {
	// OpenClient opens the named map over a new client of its own; closing
	// the map releases that client.
	OpenClient(ctx context.Context, name string) (Map, error)
}
