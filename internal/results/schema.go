// Package results holds the JSON-lines record types of the results log, a
// crash-safe appending writer and a tolerant reader.
package results

import "encoding/json"

// Record types, the value of every line's "type" field.
const (
	TypeRun     = "run"
	TypeTrial   = "trial"
	TypeSummary = "summary"
)

// Outcome classes of a trial (see DESIGN.md).
const (
	OutcomeDurable              = "durable"
	OutcomeLost                 = "lost"
	OutcomeIndeterminateApplied = "indeterminate_applied"
	OutcomeIndeterminateAbsent  = "indeterminate_absent"
	OutcomeInconclusive         = "inconclusive"
)

// Write statuses.
const (
	WriteOK      = "ok"
	WriteError   = "error"
	WriteUnknown = "unknown"
)

// Verify statuses.
const (
	VerifyOK       = "ok"
	VerifyMissing  = "missing"
	VerifyMismatch = "mismatch"
	VerifyError    = "error"
)

// Run is the first record of a run.
type Run struct {
	Type       string            `json:"type"`
	RunID      string            `json:"run_id"`
	StartedAt  string            `json:"started_at"`
	Seed       int64             `json:"seed"`
	Target     string            `json:"target"`
	Store      string            `json:"store"`
	Partitions int               `json:"partitions"`
	Replicas   int               `json:"replicas"`
	Scenarios  []string          `json:"scenarios"`
	Config     json.RawMessage   `json:"config,omitempty"`
	Versions   map[string]string `json:"versions,omitempty"`
}

// Leader identifies a partition leader in a trial record.
type Leader struct {
	Member uint64 `json:"member"`
	Pod    string `json:"pod,omitempty"`
	Term   uint64 `json:"term"`
}

// Timestamps are monotonic nanoseconds since the trial's started_at; nil when absent.
type Timestamps struct {
	WriteStart *int64 `json:"write_start,omitempty"`
	WriteAck   *int64 `json:"write_ack,omitempty"`
	KillSent   *int64 `json:"kill_sent,omitempty"`
	KillDone   *int64 `json:"kill_done,omitempty"`
	NewLeader  *int64 `json:"new_leader,omitempty"`
	FirstOK    *int64 `json:"first_ok,omitempty"`
	Verify     *int64 `json:"verify,omitempty"`
	End        *int64 `json:"end,omitempty"`
}

// Write is the result of the trial's write.
type Write struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Verify is the result of reading the key back.
type Verify struct {
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	Value    string `json:"value,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Trial is one trial's record.
type Trial struct {
	Type           string     `json:"type"`
	RunID          string     `json:"run_id"`
	Trial          int        `json:"trial"`
	Scenario       string     `json:"scenario"`
	DelayNS        int64      `json:"delay_ns"`
	Partition      int        `json:"partition"`
	Key            string     `json:"key"`
	Value          string     `json:"value"`
	LeaderBefore   *Leader    `json:"leader_before,omitempty"`
	LeaderAfter    *Leader    `json:"leader_after,omitempty"`
	StartedAt      string     `json:"started_at"`
	T              Timestamps `json:"t"`
	ActualDelayNS  *int64     `json:"actual_delay_ns,omitempty"`
	ElectionNS     *int64     `json:"election_ns,omitempty"`
	RecoveryNS     *int64     `json:"recovery_ns,omitempty"`
	DurationNS     *int64     `json:"duration_ns,omitempty"`
	WriteLatencyNS *int64     `json:"write_latency_ns,omitempty"`
	Write          Write      `json:"write"`
	Verify         Verify     `json:"verify"`
	Outcome        string     `json:"outcome"`
	Error          string     `json:"error,omitempty"`
	// Retargeted is true when the leader moved between the write and the kill
	// and the kill was aimed at the new leader.
	Retargeted bool `json:"retargeted,omitempty"`
	// SHA256Partition is the 1-based partition ID SHA-256 alone would pick
	// (sha256(key)[0] % P + 1); equal to Partition for keys from internal/keyspace.
	SHA256Partition *int `json:"sha256_partition,omitempty"`
}

// Summary is the last record of a run that ended normally.
type Summary struct {
	Type     string         `json:"type"`
	RunID    string         `json:"run_id"`
	Trials   int            `json:"trials"`
	EndedAt  string         `json:"ended_at"`
	Outcomes map[string]int `json:"outcomes,omitempty"`
	// Interrupted is true when the run was stopped by a signal.
	Interrupted bool `json:"interrupted,omitempty"`
}
