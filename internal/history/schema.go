// Package history holds the record types of the history log (DESIGN.md,
// "History log": every operation of a concurrent workload and every fault,
// on one monotonic clock), a batched appending writer and a tolerant reader.
// It knows nothing else of the project.
package history

// Record types, the value of every line's "type" field.
const (
	TypeOp    = "op"
	TypeFault = "fault"
)

// Operation kinds.
const (
	OpPut = "put"
	OpGet = "get"
	OpCAS = "cas"
)

// Operation statuses: ok (completed), fail (definitely not applied),
// unknown (may or may not have been applied: no answer, deadline, broken
// connection).
const (
	StatusOK      = "ok"
	StatusFail    = "fail"
	StatusUnknown = "unknown"
)

// Fault kinds.
const (
	FaultKill      = "kill"
	FaultPause     = "pause"
	FaultPartition = "partition"
	FaultRestart   = "restart"
	FaultHeal      = "heal"
)

// TargetAll is the target of a fault on every member: the positive
// control's kill and wipe of all of them.
const TargetAll = "all"

// FinalClient is the client name of the final reads at the end of a run.
const FinalClient = "final"

// Op is one operation of one client. Times are nanoseconds on the run's
// monotonic clock (0 = the run's start).
type Op struct {
	Type  string `json:"type"`
	RunID string `json:"run_id"`
	// Trial is the trial during which the operation was invoked (0: none).
	Trial  int    `json:"trial"`
	Client string `json:"client"`
	Op     string `json:"op"`
	Key    string `json:"key"`
	// Value is the value written by a put or a cas; values written are
	// unique within a run, so a read names the write it saw.
	Value string `json:"value,omitempty"`
	// ExpectVersion is the version a cas expected.
	ExpectVersion *uint64 `json:"expect_version,omitempty"`
	// Read is the value a get read; null when the key was absent (and on
	// other operations).
	Read *string `json:"read"`
	// Version is the key's version the store returned (put, cas, get).
	Version    *uint64 `json:"version,omitempty"`
	InvokeNS   int64   `json:"invoke_ns"`
	CompleteNS *int64  `json:"complete_ns"`
	Status     string  `json:"status"`
	Error      string  `json:"error,omitempty"`
}

// Fault is one injected fault or recovery action.
type Fault struct {
	Type  string `json:"type"`
	RunID string `json:"run_id"`
	Trial int    `json:"trial"`
	Fault string `json:"fault"`
	// Target names the node or pod.
	Target    string `json:"target"`
	Partition int    `json:"partition,omitempty"`
	StartNS   int64  `json:"start_ns"`
	EndNS     *int64 `json:"end_ns,omitempty"`
}
