package report

import (
	"encoding/json"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// Workload analysis defaults and bounds.
const (
	// DefaultCheckTimeout bounds the re-check of one trial's history.
	DefaultCheckTimeout = time.Minute
	// DefaultMaxHistoryOps is how many operations of one run's history the
	// analyzer holds; a run with more is not loaded (its trials are unknown,
	// "history too large").
	DefaultMaxHistoryOps = 2_000_000
	// HistoryOpBytes bounds the memory one operation of a history takes at
	// the analyzer's peak, the re-check: its compact record with its strings
	// (~145 B), its history record for the checker (192 B) and
	// check.CheckTrials' copies (by key, the stale-read scan's, the windows
	// of a batch of trials); BenchmarkRecheckMemory measures 820–885 B live
	// and 915–990 B of heap, for 10 to 100 trials.
	HistoryOpBytes = 1_100
	// MaxHistoryLine is the longest history line read; longer ones are
	// skipped with a warning.
	MaxHistoryLine = 1 << 20
	// RecheckMemoryLimit bounds the re-check's search state (porcupine's cache).
	RecheckMemoryLimit = 256 << 20
)

// Where a trial's reported verdict comes from.
const (
	SourceRecheck  = "re-check"
	SourceRecorded = "recorded"
	SourceNone     = "none"
)

// What became of a run's history.
const (
	HistoryAnalyzed     = "analyzed"
	HistoryNotAvailable = "not available"
	HistoryTooLarge     = "too large"
)

// Reasons for an unknown verdict the analyzer gives.
const (
	ReasonHistoryTooLarge = "history too large"
	ReasonNoHistory       = "history not available"
	ReasonNotChecked      = "not checked"
)

// How a trial's recovered instant was found.
const (
	RecoveredFirstOK   = "first_ok"
	RecoveredHeal      = "heal"
	RecoveredCensored  = "censored"
	RecoveredNoFault   = "no fault"
	RecoveredNoHistory = ""
)

// RunWorkload is the workload analysis of one run: its history re-checked
// trial by trial, and the load the clients saw before, during and after each
// fault.
type RunWorkload struct {
	RunID string `json:"run_id"`
	// History is the history log's path as opened; empty when the run header names none.
	History string `json:"history"`
	// HistoryStatus is HistoryAnalyzed, HistoryNotAvailable or HistoryTooLarge.
	HistoryStatus string `json:"history_status"`
	// HistoryNote says why the history is not available or too large.
	HistoryNote     string `json:"history_note"`
	HistoryOps      int    `json:"history_ops"`
	HistoryFaults   int    `json:"history_faults"`
	HistoryWarnings int    `json:"history_warnings"`
	// Rechecked is false with --no-recheck: verdicts are the recorded ones.
	Rechecked      bool  `json:"rechecked"`
	CheckTimeoutMS Float `json:"check_timeout_ms"`
	MaxHistoryOps  int   `json:"max_history_ops"`
	// Config is the run header's workload configuration.
	Config json.RawMessage `json:"config"`
	// Recorded is the workload summary of the run's summary record.
	Recorded  *results.WorkloadSummary `json:"recorded_summary"`
	Verdicts  Verdicts                 `json:"verdicts"`
	Scenarios []WorkloadGroup          `json:"scenarios"`
	Trials    []WorkloadTrial          `json:"trials"`
}

// Verdicts counts trials by reported verdict.
type Verdicts struct {
	Linearizable int `json:"linearizable"`
	Violation    int `json:"violation"`
	Unknown      int `json:"unknown"`
}

func (v *Verdicts) add(verdict string) {
	switch verdict {
	case results.VerdictLinearizable:
		v.Linearizable++
	case results.VerdictViolation:
		v.Violation++
	default:
		v.Unknown++
	}
}

// Window is the load of the operations invoked in one phase of a trial.
type Window struct {
	Ops     int `json:"ops"`
	OK      int `json:"ok"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"`
	// LengthMS is the phase's length; null when it has none.
	LengthMS Float `json:"length_ms"`
	// Throughput is OK / length in seconds; null without a positive length.
	Throughput Float `json:"throughput_ops_s"`
	// ErrorRate is (Fail + Unknown) / Ops; null without operations.
	ErrorRate Float `json:"error_rate"`

	lengthNS  int64
	hasLength bool
}

// Windows are a trial's phases: its whole span, and before, during and
// after the fault.
type Windows struct {
	All    Window `json:"all"`
	Before Window `json:"before"`
	During Window `json:"during"`
	After  Window `json:"after"`
}

// AgeBins counts lost writes by age at the fault (fault start − ack).
type AgeBins struct {
	// Negative counts writes acknowledged after their trial's last fault started.
	Negative int `json:"negative"`
	To10     int `json:"0_10ms"`
	To50     int `json:"10_50ms"`
	To100    int `json:"50_100ms"`
	To200    int `json:"100_200ms"`
	Over200  int `json:"200ms_plus"`
	// NoAge counts writes whose trial recorded no fault.
	NoAge int `json:"no_age"`
}

// WorkloadLostWrite is one acknowledged write-once key the final read did not find.
type WorkloadLostWrite struct {
	Key string `json:"key"`
	// AgeMS is the write's age at its trial's fault; null without one.
	AgeMS Float `json:"age_ms"`
	// Source is SourceRecheck, SourceRecorded or "both".
	Source string `json:"source"`

	ageNS *int64
}

// WorkloadTrial is the workload analysis of one trial.
type WorkloadTrial struct {
	Trial    int    `json:"trial"`
	Scenario string `json:"scenario"`
	Fault    string `json:"fault"`
	// Verdict is the re-check's verdict, or the recorded one without a
	// re-check (VerdictSource says which); unknown when neither exists.
	Verdict         string `json:"verdict"`
	VerdictSource   string `json:"verdict_source"`
	Reason          string `json:"reason"`
	RecordedVerdict string `json:"recorded_verdict"`
	RecordedReason  string `json:"recorded_reason"`
	RecheckVerdict  string `json:"recheck_verdict"`
	RecheckReason   string `json:"recheck_reason"`
	// ViolationKeys are the keys found not linearizable (re-check and record).
	ViolationKeys []string `json:"violation_keys"`
	StaleReads    int      `json:"stale_reads"`
	// LostWrites counts the union, by key, of the recorded and re-checked lost writes.
	LostWrites int                 `json:"lost_writes"`
	LostByAge  AgeBins             `json:"lost_by_age"`
	Lost       []WorkloadLostWrite `json:"lost"`
	// CountsAsViolation is true when the recorded or re-checked verdict is a
	// violation or either found a stale read.
	CountsAsViolation bool `json:"counts_as_violation"`
	Ops               int  `json:"ops"`
	Clients           int  `json:"clients"`
	// UnavailabilityP50 and UnavailabilityMax summarise, over the trial's
	// clients, each client's longest time without a successful completion.
	UnavailabilityP50 Float `json:"unavailability_p50_ms"`
	UnavailabilityMax Float `json:"unavailability_max_ms"`
	// FaultStart and Recovered are ms since the trial's start (clock_ns).
	FaultStart  Float   `json:"fault_start_ms"`
	Recovered   Float   `json:"recovered_ms"`
	RecoveredBy string  `json:"recovered_by"`
	Windows     Windows `json:"windows"`
	// Visualization links the recorded porcupine visualization.
	Visualization string `json:"visualization"`

	unavailability []float64
	chart          *trialChart
}

// WorkloadGroup pools a scenario's trials of one run.
type WorkloadGroup struct {
	Scenario   string   `json:"scenario"`
	Trials     int      `json:"trials"`
	Verdicts   Verdicts `json:"verdicts"`
	StaleReads int      `json:"stale_reads"`
	LostWrites int      `json:"lost_writes"`
	LostByAge  AgeBins  `json:"lost_by_age"`
	// Clients counts the per-client unavailability values pooled.
	Clients           int     `json:"clients"`
	UnavailabilityP50 Float   `json:"unavailability_p50_ms"`
	UnavailabilityMax Float   `json:"unavailability_max_ms"`
	Windows           Windows `json:"windows"`
}
