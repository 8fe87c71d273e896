package report

import (
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
	// HasRunRecord is false when the run's first line is missing.
	HasRunRecord bool `json:"has_run_record"`
	// Complete is true when the run's summary line is present.
	Complete    bool `json:"complete"`
	Interrupted bool `json:"interrupted"`
	// SummaryTrials is the trial count of the summary line; Trials the
	// number of trial lines read.
	SummaryTrials int `json:"summary_trials"`
	Trials        int `json:"trials"`
}

func (r *RunInfo) setRun(run *results.Run) {
	r.HasRunRecord = true
	r.StartedAt, r.Seed, r.Target, r.Store = run.StartedAt, run.Seed, run.Target, run.Store
	r.Partitions, r.Replicas, r.Scenarios = run.Partitions, run.Replicas, run.Scenarios
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

// Success is the success rate durable / (durable + lost) with its Wilson
// 95% interval and, when no write was lost, the zero-failure bounds.
type Success struct {
	Durable int   `json:"durable"`
	Lost    int   `json:"lost"`
	Decided int   `json:"decided"`
	Rate    Float `json:"rate"`
	Low     Float `json:"wilson95_low"`
	High    Float `json:"wilson95_high"`
	// LossUpper is the rule-of-three 95% upper bound 3/n on the loss rate;
	// null unless there are decided trials and no losses.
	LossUpper Float `json:"rule_of_three_loss_upper"`
	// Needed99 and Needed999 are the numbers of trials, all without loss,
	// needed to claim success ≥ 99% and ≥ 99.9% at 95% confidence; null
	// when a write was lost.
	Needed99  Float `json:"zero_loss_trials_needed_99"`
	Needed999 Float `json:"zero_loss_trials_needed_99_9"`
}

func newSuccess(o Outcomes) Success {
	nan := Float(math.NaN())
	s := Success{Durable: o.Durable, Lost: o.Lost, Decided: o.Durable + o.Lost,
		Rate: nan, Low: nan, High: nan, LossUpper: nan, Needed99: nan, Needed999: nan}
	if s.Decided > 0 {
		s.Rate = Float(float64(s.Durable) / float64(s.Decided))
		lo, hi := Wilson(s.Durable, s.Decided, Z95)
		s.Low, s.High = Float(lo), Float(hi)
	}
	if s.Lost == 0 {
		if s.Decided > 0 {
			s.LossUpper = Float(RuleOfThree(s.Decided))
		}
		s.Needed99 = Float(TrialsNeeded(0.99, 0.95))
		s.Needed999 = Float(TrialsNeeded(0.999, 0.95))
	}
	return s
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
}

// Group is one row of a breakdown table (scenario, delay or partition).
type Group struct {
	Key      string       `json:"key"`
	Trials   int          `json:"trials"`
	Outcomes Outcomes     `json:"outcomes"`
	Success  Success      `json:"success"`
	Recovery Distribution `json:"recovery_ms"`
	// ElectionMean is the mean election time (ms) of the group's trials.
	ElectionMean Float `json:"election_mean_ms"`
	ElectionN    int   `json:"election_n"`
}

// timelineEntry holds one trial's timestamps (ms since the trial started;
// NaN when absent) for the timeline chart.
type timelineEntry struct {
	RunID      string
	Trial      int
	Outcome    string
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
// in milliseconds.
type Report struct {
	Title    string    `json:"title"`
	Runs     []RunInfo `json:"runs"`
	Trials   int       `json:"trials"`
	Outcomes Outcomes  `json:"outcomes"`
	// InconclusiveShare is inconclusive / trials (censored trials).
	InconclusiveShare Float        `json:"inconclusive_share"`
	Success           Success      `json:"success"`
	Duration          Distribution `json:"duration_ms"`
	Recovery          Distribution `json:"recovery_ms"`
	Election          Distribution `json:"election_ms"`
	WriteLatency      Distribution `json:"write_latency_ms"`
	ActualDelay       Distribution `json:"actual_delay_ms"`
	// Recomputed counts, per metric, the values computed from timestamps
	// because the record lacked them.
	Recomputed      map[string]int `json:"recomputed_from_timestamps"`
	Terms           TermChanges    `json:"term_changes"`
	DelayVsRecovery Spearman       `json:"delay_vs_recovery_spearman"`
	Scenarios       []Group        `json:"scenarios"`
	Delays          []Group        `json:"delays_ms"`
	Partitions      []Group        `json:"partitions"`

	// Chart data, not part of the JSON report.
	recoverySorted []float64
	electionSorted []float64
	points         map[string][]point
	timeline       []timelineEntry
}
