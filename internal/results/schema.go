// Package results holds the JSON-lines record types of the results log, a
// crash-safe appending writer and a tolerant reader.
package results

import "encoding/json"

// Record types, the value of every line's "type" field.
const (
	TypeRun     = "run"
	TypeTrial   = "trial"
	TypeSummary = "summary"
	// TypeLost is an acknowledged write found missing or changed by the
	// campaign's final read.
	TypeLost = "lost"
	// TypeCheck is the workload checker's verdict on one trial's history
	// (runs with a workload; written after the final read).
	TypeCheck = "check"
)

// SchemaVersion is the version of the record layout written; a run header
// without "schema" is version 1 (before kill anchors, settle times and the
// final read).
const SchemaVersion = 2

// Kill anchors: what a trial's kill delay is timed from.
const (
	AnchorWriteAck   = "write_ack"
	AnchorWriteStart = "write_start"
)

// Faults a trial injects.
const (
	// FaultKillLeader kills the leader of the key's partition.
	FaultKillLeader = "kill-leader"
	// FaultWipeAll kills every node and restarts all of them on empty data
	// dirs: the positive control, where acknowledged writes are lost by construction.
	FaultWipeAll = "wipe-all"
	// FaultPauseLeader SIGSTOPs the leader for fault_duration_ns, then SIGCONTs it.
	FaultPauseLeader = "pause-leader"
	// FaultIsolateLeader cuts the leader off (from its peers, or from its
	// clients: isolated_from) for fault_duration_ns, then heals the cut.
	FaultIsolateLeader = "isolate-leader"
)

// Verdicts of a TypeCheck record.
const (
	VerdictLinearizable = "linearizable"
	VerdictViolation    = "violation"
	VerdictUnknown      = "unknown"
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
	// Schema is SchemaVersion when written; 0 (absent) in version 1 logs.
	Schema int `json:"schema,omitempty"`
	// Repeat is the number of rounds of the scenarios.
	Repeat int `json:"repeat,omitempty"`
	// Shuffle is true when each round's trials ran in a seed-drawn order.
	Shuffle bool `json:"shuffle,omitempty"`
	// RestartPolicy says when a killed member is restarted, e.g.
	// "after-new-leader+100ms (cap 30s)" or "fixed 3s"; on Kubernetes,
	// "statefulset" (the controller recreates the pod).
	RestartPolicy string `json:"restart_policy,omitempty"`
	// MinLeaderAgeNS is the least time the leader to be killed had to be in
	// office before a trial started (back-to-back trials excepted).
	MinLeaderAgeNS int64 `json:"min_leader_age_ns,omitempty"`
	// History names the run's history log (DESIGN.md, "History log") when
	// the run had a workload: a path relative to the results log's directory
	// unless absolute.
	History string `json:"history,omitempty"`
	// Workload is the workload's configuration (clients, rate, mix, keys).
	Workload json.RawMessage `json:"workload,omitempty"`
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
	// RequestSent is when the write's request left the client's gRPC layer
	// for the partition's leader (observed only where the target can).
	RequestSent *int64 `json:"request_sent,omitempty"`
	WriteAck    *int64 `json:"write_ack,omitempty"`
	KillSent    *int64 `json:"kill_sent,omitempty"`
	KillDone    *int64 `json:"kill_done,omitempty"`
	NewLeader   *int64 `json:"new_leader,omitempty"`
	FirstOK     *int64 `json:"first_ok,omitempty"`
	Verify      *int64 `json:"verify,omitempty"`
	// Restart is when the victim's restart began; VictimBack when it was
	// running again with its groups bootstrapped (Kubernetes: pod ready).
	Restart    *int64 `json:"restart,omitempty"`
	VictimBack *int64 `json:"victim_back,omitempty"`
	// Heal is when a timed fault (pause, isolation) was undone.
	Heal *int64 `json:"heal,omitempty"`
	End  *int64 `json:"end,omitempty"`
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
	// Anchor is what the kill delay was timed from: AnchorWriteAck or
	// AnchorWriteStart; absent in version 1 logs (in-flight was write_start).
	Anchor string `json:"anchor,omitempty"`
	// Fault is the fault injected; absent means FaultKillLeader.
	Fault string `json:"fault,omitempty"`
	// BackToBack is true for a trial that started without waiting for a
	// healthy store (rapid-sequential's 2nd and 3rd).
	BackToBack bool `json:"back_to_back,omitempty"`
	// SettleNS is how long the health wait before the trial took; absent for
	// back-to-back trials.
	SettleNS *int64 `json:"settle_ns,omitempty"`
	// SettleError says why the store was not healthy when the health wait
	// gave up: the trial did not start from a healthy store, so it tested no
	// clean failover (inconclusive unless a write was lost).
	SettleError string `json:"settle_error,omitempty"`
	// LeaderAgeNS is how long the killed leader had been in office (first
	// observation of its leadership in its term) when the kill was sent.
	LeaderAgeNS *int64 `json:"leader_age_ns,omitempty"`
	// VictimBackFirst is true when the victim was back before the new leader
	// was observed: it may have taken part in the measured election.
	VictimBackFirst *bool `json:"victim_back_before_new_leader,omitempty"`
	// AckBeforeKill is true when the write had returned (acknowledged, or
	// failed) before the kill was sent although the kill was timed from the
	// write's start: the kill did not cut the request in flight.
	AckBeforeKill bool `json:"ack_before_kill,omitempty"`
	// RetargetReason says why the kill went to another member or term than
	// the leader seen before the write.
	RetargetReason string `json:"retarget_reason,omitempty"`
	// ProbeAttempts counts the recovery probe's writes started.
	ProbeAttempts int `json:"probe_attempts,omitempty"`
	// Interrupted is true when the campaign was stopped during the trial.
	Interrupted bool `json:"interrupted,omitempty"`
	// ClockNS is the trial's start (the origin of T) on the history's clock
	// (nanoseconds since the run's start); present when the run had a workload.
	ClockNS *int64 `json:"clock_ns,omitempty"`
	// FaultDurationNS is how long a timed fault (pause, isolation) was to last.
	FaultDurationNS int64 `json:"fault_duration_ns,omitempty"`
	// IsolatedFrom says what an isolated leader was cut off from: "peers" or "clients".
	IsolatedFrom string `json:"isolated_from,omitempty"`
}

// Check is the checker's verdict on the operations of one trial of the
// workload (history records with that trial number).
type Check struct {
	Type     string `json:"type"`
	RunID    string `json:"run_id"`
	Trial    int    `json:"trial"`
	Scenario string `json:"scenario"`
	// Verdict is VerdictLinearizable, VerdictViolation or VerdictUnknown
	// (the search ran out of time or memory: never read as linearizable).
	Verdict string `json:"verdict"`
	// Reason says why the verdict is unknown.
	Reason string `json:"reason,omitempty"`
	// Ops counts the trial's operations; Keys the keys checked.
	Ops  int `json:"ops"`
	Keys int `json:"keys"`
	// Violations are the keys whose history is not linearizable.
	Violations []string `json:"violations,omitempty"`
	// StaleReads counts reads that returned a value older than one
	// acknowledged before the read was invoked.
	StaleReads int `json:"stale_reads"`
	// LostWrites are the acknowledged write-once keys missing at the final read.
	LostWrites []LostWrite `json:"lost_writes,omitempty"`
	// CheckNS is how long the check took.
	CheckNS int64 `json:"check_ns"`
	// Visualization names the porcupine HTML of the first violating key,
	// relative to the results log's directory.
	Visualization string `json:"visualization,omitempty"`
}

// LostWrite is an acknowledged write-once key missing at the final read.
type LostWrite struct {
	Key string `json:"key"`
	// AgeNS is the write's age at the trial's fault (fault start − ack);
	// absent when the trial recorded no fault.
	AgeNS *int64 `json:"age_ns,omitempty"`
}

// WorkloadSummary totals a run's workload.
type WorkloadSummary struct {
	Ops     int64 `json:"ops"`
	OK      int64 `json:"ok"`
	Fail    int64 `json:"fail"`
	Unknown int64 `json:"unknown"`
	// Verdict is the worst of the trials' verdicts.
	Verdict    string `json:"verdict"`
	Violations int    `json:"violations"`
	StaleReads int    `json:"stale_reads"`
	LostWrites int    `json:"lost_writes"`
	// Error says why the workload or its check did not finish, when it did not.
	Error string `json:"error,omitempty"`
}

// FinalRead is the result of reading back, at the end of a campaign, every
// key whose write was acknowledged.
type FinalRead struct {
	// Keys is the number of acknowledged keys read.
	Keys int `json:"keys"`
	// OK counts the keys that read back their acknowledged value.
	OK int `json:"ok"`
	// Lost counts the keys missing or holding another value (one TypeLost record each).
	Lost int `json:"lost"`
	// Unanswered counts the keys whose read got no answer before its deadline.
	Unanswered int `json:"unanswered"`
	// Error says why the final read did not run or finish, when it did not.
	Error string `json:"error,omitempty"`
}

// Lost is an acknowledged write that the final read found missing or changed.
type Lost struct {
	Type  string `json:"type"`
	RunID string `json:"run_id"`
	// Trial is the trial that wrote and acknowledged the key.
	Trial int    `json:"trial"`
	Key   string `json:"key"`
	// Value is the acknowledged value.
	Value string `json:"value"`
	// Read is VerifyMissing or VerifyMismatch.
	Read string `json:"read"`
	// ReadValue is the value read instead, for a mismatch.
	ReadValue string `json:"read_value,omitempty"`
	// At is the wall-clock time of the read (RFC 3339).
	At string `json:"at"`
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
	// FinalRead is the end-of-campaign read of every acknowledged key;
	// absent in version 1 logs.
	FinalRead *FinalRead `json:"final_read,omitempty"`
	// Workload totals the run's workload; absent without one.
	Workload *WorkloadSummary `json:"workload,omitempty"`
}
