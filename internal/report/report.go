package report

import (
	"encoding/json"
	"math"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// RunInfo describes one run of the log.
type RunInfo struct {
	RunID      string   `json:"run_id"`
	StartedAt  string   `json:"started_at"`
	EndedAt    string   `json:"ended_at"`
	Seed       int64    `json:"seed"`
	Target     string   `json:"target"`
	Store      string   `json:"store"`
	Partitions int      `json:"partitions"`
	Replicas   int      `json:"replicas"`
	Scenarios  []string `json:"scenarios"`
	// Schema is the run header's schema version (1 when it has none; 0
	// without a run record).
	Schema int `json:"schema"`
	// Repeat and Shuffle are the campaign's design (0 and false in version 1 logs).
	Repeat  int  `json:"repeat"`
	Shuffle bool `json:"shuffle"`
	// RestartPolicy says when a killed member was restarted.
	RestartPolicy string `json:"restart_policy"`
	// MinLeaderAge is the least age (ms) of the leader to be killed; null when absent.
	MinLeaderAge Float `json:"min_leader_age_ms"`
	// HasRunRecord is false when the run's first line is missing.
	HasRunRecord bool `json:"has_run_record"`
	// Complete is true when the run's summary line is present.
	Complete    bool `json:"complete"`
	Interrupted bool `json:"interrupted"`
	// SummaryTrials is the trial count of the summary line; Trials the
	// number of trial lines read.
	SummaryTrials int `json:"summary_trials"`
	Trials        int `json:"trials"`
	// FinalRead is the summary's final read; null when absent (version 1
	// logs, runs without a summary).
	FinalRead *results.FinalRead `json:"final_read"`
	// LostRecords counts the run's lost records (final read).
	LostRecords int `json:"lost_records"`

	// verifyTimeoutNS is the run's verify timeout (config.verify_timeout_ns); 0 when unknown.
	verifyTimeoutNS int64
}

func (r *RunInfo) setRun(run *results.Run) {
	r.HasRunRecord = true
	r.StartedAt, r.Seed, r.Target, r.Store = run.StartedAt, run.Seed, run.Target, run.Store
	r.Partitions, r.Replicas, r.Scenarios = run.Partitions, run.Replicas, run.Scenarios
	r.Schema, r.Repeat, r.Shuffle, r.RestartPolicy = max(run.Schema, 1), run.Repeat, run.Shuffle, run.RestartPolicy
	r.MinLeaderAge = Float(math.NaN())
	if run.MinLeaderAgeNS > 0 {
		r.MinLeaderAge = Float(float64(run.MinLeaderAgeNS) / 1e6)
	}
	var cfg struct {
		VerifyTimeoutNS int64 `json:"verify_timeout_ns"`
	}
	if json.Unmarshal(run.Config, &cfg) == nil && cfg.VerifyTimeoutNS > 0 {
		r.verifyTimeoutNS = cfg.VerifyTimeoutNS
	}
}

// Outcomes counts trials by outcome class.
type Outcomes struct {
	Durable              int `json:"durable"`
	Lost                 int `json:"lost"`
	IndeterminateApplied int `json:"indeterminate_applied"`
	IndeterminateAbsent  int `json:"indeterminate_absent"`
	Inconclusive         int `json:"inconclusive"`
}

func (o *Outcomes) add(outcome string) {
	switch outcome {
	case results.OutcomeDurable:
		o.Durable++
	case results.OutcomeLost:
		o.Lost++
	case results.OutcomeIndeterminateApplied:
		o.IndeterminateApplied++
	case results.OutcomeIndeterminateAbsent:
		o.IndeterminateAbsent++
	case results.OutcomeInconclusive:
		o.Inconclusive++
	}
}

// Total is the number of trials counted.
func (o Outcomes) Total() int {
	return o.Durable + o.Lost + o.IndeterminateApplied + o.IndeterminateAbsent + o.Inconclusive
}

// TermChanges compares the Raft term before the kill with the term after.
type TermChanges struct {
	// Known trials have both terms; Unknown lack one.
	Known     int   `json:"known"`
	Unknown   int   `json:"unknown"`
	Increased int   `json:"increased"`
	Unchanged int   `json:"unchanged"`
	Decreased int   `json:"decreased"`
	MeanDelta Float `json:"mean_delta"`
	MaxDelta  Float `json:"max_delta"`
	// NewLeader counts known trials whose leader after is another member.
	NewLeader int `json:"new_leader"`
	// Retargeted counts trials whose kill followed a leader that moved.
	Retargeted int `json:"retargeted"`
	// RetargetReasons counts the retargeted trials by retarget_reason.
	RetargetReasons []ReasonCount `json:"retarget_reasons"`
}

// ReasonCount is the number of trials that gave one reason.
type ReasonCount struct {
	Reason string `json:"reason"`
	Trials int    `json:"trials"`
}

// Group is one row of a breakdown table (scenario, delay or partition).
type Group struct {
	Key string `json:"key"`
	// Anchor and DelayMS identify a delay row (delays_ms only).
	Anchor  string `json:"anchor,omitempty"`
	DelayMS *int64 `json:"delay_ms,omitempty"`
	// Trials counts the trials in the row's statistics; AckBeforeKill the
	// write_start trials left out because their write was acknowledged
	// before the kill.
	Trials        int          `json:"trials"`
	AckBeforeKill int          `json:"ack_before_kill"`
	Outcomes      Outcomes     `json:"outcomes"`
	Success       Success      `json:"success"`
	Recovery      Distribution `json:"recovery_ms"`
	// ElectionMean is the mean election time (ms) of the group's trials.
	ElectionMean Float `json:"election_mean_ms"`
	ElectionN    int   `json:"election_n"`
}

// SplitRow is one row of the victim-back or election-rounds breakdown.
type SplitRow struct {
	Key      string       `json:"key"`
	Trials   int          `json:"trials"`
	Election Distribution `json:"election_ms"`
	Recovery Distribution `json:"recovery_ms"`
}

// PercentileMinN states the least numbers of values for p95 and p99.
type PercentileMinN struct {
	P95 int `json:"p95"`
	P99 int `json:"p99"`
}

// timelineEntry holds one trial's timestamps (ms since the trial started;
// NaN when absent) for the timeline chart.
type timelineEntry struct {
	RunID      string
	Trial      int
	Outcome    string
	Control    bool
	WriteStart float64
	WriteAck   float64
	KillSent   float64
	NewLeader  float64
	FirstOK    float64
}

// MaxTimelineRows is how many trials (the first ones of a report) the
// timeline chart shows.
const MaxTimelineRows = 60

// point is one (actual delay, recovery) pair of a scenario, in ms.
type point struct{ x, y float64 }

// Report is the analysis of one run, or of all runs pooled. Durations are
// in milliseconds. Everything but Trials, PositiveControl and FinalRead
// covers the failover trials only (fault kill-leader).
type Report struct {
	Title string    `json:"title"`
	Runs  []RunInfo `json:"runs"`
	// Trials counts every trial; FailoverTrials those that are not the
	// positive control.
	Trials         int      `json:"trials"`
	FailoverTrials int      `json:"failover_trials"`
	Outcomes       Outcomes `json:"outcomes"`
	// InconclusiveShare is inconclusive / failover trials (censored trials).
	InconclusiveShare Float `json:"inconclusive_share"`
	// OutcomeRuleDisagreements counts trials whose recorded outcome is not
	// the one results.Outcome gives (the recorded one is counted).
	OutcomeRuleDisagreements int `json:"outcome_rule_disagreements"`
	// AckBeforeKill counts write_start trials acknowledged before the kill;
	// InterruptedTrials those stopped by the campaign's interruption.
	AckBeforeKill     int `json:"ack_before_kill"`
	InterruptedTrials int `json:"interrupted_trials"`
	// UnhealthyStart counts trials that began after the health wait gave up
	// (settle_error).
	UnhealthyStart  int             `json:"settle_error_trials"`
	Success         Success         `json:"success"`
	PositiveControl Control         `json:"positive_control"`
	FinalRead       FinalReadReport `json:"final_read"`
	PercentileMinN  PercentileMinN  `json:"percentile_min_n"`
	Duration        Distribution    `json:"duration_ms"`
	Recovery        Distribution    `json:"recovery_ms"`
	RecoveryKM      KaplanMeier     `json:"recovery_kaplan_meier_ms"`
	Election        Distribution    `json:"election_ms"`
	WriteLatency    Distribution    `json:"write_latency_ms"`
	ActualDelay     Distribution    `json:"actual_delay_ms"`
	Settle          Distribution    `json:"settle_ms"`
	LeaderAge       Distribution    `json:"leader_age_at_kill_ms"`
	VictimBack      Distribution    `json:"victim_back_ms"`
	// Recomputed counts, per metric, the values computed from timestamps
	// because the record lacked them.
	Recomputed      map[string]int `json:"recomputed_from_timestamps"`
	Terms           TermChanges    `json:"term_changes"`
	DelayVsRecovery Spearman       `json:"delay_vs_recovery_spearman"`
	Scenarios       []Group        `json:"scenarios"`
	Delays          []Group        `json:"delays_ms"`
	Partitions      []Group        `json:"partitions"`
	// ByVictimBack splits election and recovery by
	// victim_back_before_new_leader; ByRounds by the term increase.
	ByVictimBack []SplitRow `json:"by_victim_back_before_new_leader"`
	ByRounds     []SplitRow `json:"by_election_rounds"`
	// Workload is the workload analysis of each of the report's runs that
	// had one; absent without.
	Workload []RunWorkload `json:"workload,omitempty"`

	// Chart data, not part of the JSON report.
	recoverySorted []float64
	electionSorted []float64
	points         map[string][]point
	timeline       []timelineEntry
	scenarioRank   func(string) int
}
