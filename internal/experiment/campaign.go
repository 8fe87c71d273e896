package experiment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/results"
	"github.com/atomix-failover/atomix-failover/internal/workload"
)

// DefaultSeed is the seed used when none is given, so that runs are reproducible.
const DefaultSeed int64 = 1

// DefaultMap is the name of the map written by default.
const DefaultMap = "failover-test"

// Config configures a campaign.
type Config struct {
	// Seed fixes keys, trial order and partitions.
	Seed int64 `json:"seed"`
	// Scenarios names the scenarios run, in order.
	Scenarios []string `json:"scenarios"`
	// Repeat is the number of rounds of the scenarios.
	Repeat int `json:"repeat"`
	// Shuffle runs each round's trials in an order drawn from the seed
	// (back-to-back trials stay together) instead of scenario by scenario.
	Shuffle bool `json:"shuffle,omitempty"`
	// Map is the name of the map written.
	Map string `json:"map"`
	// WriteTimeout is the trial write's deadline.
	WriteTimeout time.Duration `json:"write_timeout_ns"`
	// InFlightWriteTimeout is the write deadline of in-flight trials (kill timed
	// from the write's start); shorter than any election, so that a write cut
	// by the kill ends unacknowledged instead of being retried to success by
	// the client on the new leader. Zero means WriteTimeout.
	InFlightWriteTimeout time.Duration `json:"in_flight_write_timeout_ns"`
	// VerifyTimeout bounds the election and recovery observation and, separately, the verification.
	VerifyTimeout time.Duration `json:"verify_timeout_ns"`
	// VerifyAttemptTimeout is each verification Get's deadline.
	VerifyAttemptTimeout time.Duration `json:"verify_attempt_timeout_ns"`
	// SettleTimeout bounds the wait for a healthy cluster between trials.
	SettleTimeout time.Duration `json:"settle_timeout_ns"`
	// MinLeaderAge is the least time the leader to be killed must have been
	// in office before a trial starts (back-to-back trials excepted).
	MinLeaderAge time.Duration `json:"min_leader_age_ns"`
	// CallTimeout bounds each control call to the target (leader reads, kills).
	CallTimeout time.Duration `json:"call_timeout_ns"`
	// ProbeInterval is the spacing of recovery probe attempts.
	ProbeInterval time.Duration `json:"probe_interval_ns"`
	// ProbeTimeout is each recovery probe attempt's deadline, at least
	// MinProbeTimeout so that overlapping attempts never cut a slow success.
	ProbeTimeout time.Duration `json:"probe_timeout_ns"`
	// RealtimeTimer runs the last stretch of the kill timer under SCHED_FIFO when permitted.
	RealtimeTimer bool `json:"realtime_timer"`
	// Target is the target's own configuration, recorded in the run header.
	Target any `json:"target,omitempty"`
	// Workload runs concurrent clients through every trial and records
	// their history (implied by the scenarios under load).
	Workload bool `json:"workload,omitempty"`
	// Load shapes the workload (clients, rate, mix); RunID and Seed are set by the runner.
	Load workload.Config `json:"-"`
	// HistoryDir is where the history log and the checker's visualizations
	// are written (the results log's directory); HistoryPrefix starts their names.
	HistoryDir    string `json:"-"`
	HistoryPrefix string `json:"-"`
	// FaultDuration is how long a pause or an isolation lasts.
	FaultDuration time.Duration `json:"fault_duration_ns,omitempty"`
	// IsolateFrom is what isolate-leader cuts the leader off from.
	IsolateFrom cluster.Side `json:"isolate_from,omitempty"`
	// CheckTimeout bounds the linearizability check of each trial's history.
	CheckTimeout time.Duration `json:"check_timeout_ns,omitempty"`
	// Baseline is how long the workload runs on the healthy store before
	// each trial's write (trials that wait for a healthy store).
	Baseline time.Duration `json:"baseline_ns,omitempty"`
}

// DefaultConfig returns the default campaign: the first four scenarios once, seed 1.
func DefaultConfig() Config {
	return Config{
		Seed:                 DefaultSeed,
		Scenarios:            DefaultScenarios(),
		Repeat:               1,
		Map:                  DefaultMap,
		WriteTimeout:         10 * time.Second,
		InFlightWriteTimeout: 250 * time.Millisecond,
		VerifyTimeout:        30 * time.Second,
		VerifyAttemptTimeout: 500 * time.Millisecond,
		SettleTimeout:        60 * time.Second,
		MinLeaderAge:         500 * time.Millisecond,
		CallTimeout:          10 * time.Second,
		ProbeInterval:        25 * time.Millisecond,
		ProbeTimeout:         2 * time.Second,
		RealtimeTimer:        true,
		FaultDuration:        3 * time.Second,
		IsolateFrom:          cluster.SidePeers,
		CheckTimeout:         time.Minute,
		Baseline:             time.Second,
	}
}

// WithWorkload is c with the workload on when its scenarios need it.
func (c Config) WithWorkload() Config {
	if NeedsWorkload(c.Scenarios) {
		c.Workload = true
	}
	return c
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs []error
	if _, err := LookupScenarios(c.Scenarios); err != nil {
		errs = append(errs, fmt.Errorf("--scenarios: %w", err))
	}
	if c.Repeat < 1 {
		errs = append(errs, fmt.Errorf("--repeat %d: want at least 1", c.Repeat))
	}
	if c.Map == "" {
		errs = append(errs, errors.New("--map: want a name"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"--write-timeout", c.WriteTimeout}, {"--verify-timeout", c.VerifyTimeout},
		{"--in-flight-write-timeout", c.writeTimeout(AfterWriteStart)},
		{"verify attempt timeout", c.VerifyAttemptTimeout}, {"--settle-timeout", c.SettleTimeout},
		{"call timeout", c.CallTimeout}, {"--probe-interval", c.ProbeInterval}, {"--probe-timeout", c.ProbeTimeout},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s %s: want > 0", d.name, d.v))
		}
	}
	if c.ProbeTimeout > 0 && c.ProbeTimeout < MinProbeTimeout {
		errs = append(errs, fmt.Errorf("--probe-timeout %s: want at least %s, so that overlapping probes never cut a slow success", c.ProbeTimeout, MinProbeTimeout))
	}
	if c.MinLeaderAge < 0 {
		errs = append(errs, fmt.Errorf("--min-leader-age %s: want ≥ 0", c.MinLeaderAge))
	}
	return errors.Join(append(errs, c.validateLoad()...)...)
}

// validateLoad checks the settings of the workload and the timed faults.
func (c Config) validateLoad() []error {
	var errs []error
	if NeedsWorkload(c.Scenarios) && !c.Workload {
		errs = append(errs, errors.New("--scenarios: kill-under-load, pause-leader and isolate-leader need --workload"))
	}
	if c.FaultDuration <= 0 {
		errs = append(errs, fmt.Errorf("--fault-duration %s: want > 0", c.FaultDuration))
	}
	if c.Baseline < 0 {
		errs = append(errs, fmt.Errorf("--baseline %s: want ≥ 0", c.Baseline))
	}
	if c.Workload && c.CheckTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--check-timeout %s: want > 0", c.CheckTimeout))
	}
	if c.IsolateFrom != cluster.SidePeers && c.IsolateFrom != cluster.SideClients {
		errs = append(errs, fmt.Errorf("--isolate-from %q: want %s or %s", c.IsolateFrom, cluster.SidePeers, cluster.SideClients))
	}
	if c.Load.Clients < 0 {
		errs = append(errs, fmt.Errorf("--clients %d: want ≥ 0 (0: %d)", c.Load.Clients, workload.DefaultClients))
	}
	if c.Load.Rate < 0 || math.IsNaN(c.Load.Rate) || math.IsInf(c.Load.Rate, 0) {
		errs = append(errs, fmt.Errorf("--rate %g: want a finite number ≥ 0 (0: %d)", c.Load.Rate, workload.DefaultRate))
	}
	if NeedsIsolation(c.Scenarios) && c.IsolateFrom == cluster.SideClients && c.FaultDuration > MaxClientIsolation {
		errs = append(errs, fmt.Errorf("--fault-duration %s with --isolate-from clients: at most %s (a client session without keep-alives expires after a minute and the Atomix client then exits the process)", c.FaultDuration, MaxClientIsolation))
	}
	return errs
}

// MaxClientIsolation is the longest cut of the clients from a leader.
const MaxClientIsolation = 30 * time.Second

// ErrUnsupported wraps a scenario the target cannot run (exit status 2).
var ErrUnsupported = errors.New("not supported by this target")

// checkFaults refuses scenarios whose fault the target cannot inject.
func checkFaults(scenarios []Scenario, tgt cluster.Target) error {
	for _, sc := range scenarios {
		for _, st := range sc.Steps() {
			if _, ok := tgt.(cluster.Wiper); st.fault() == results.FaultWipeAll && !ok {
				return fmt.Errorf("--scenarios %s: wiping every node is %w (%s); it needs the local target", sc.Name(), ErrUnsupported, tgt.Info().Target)
			}
			if _, ok := tgt.(cluster.Pauser); st.fault() == results.FaultPauseLeader && !ok {
				return fmt.Errorf("--scenarios %s: pausing a leader is %w (%s); it needs the local target", sc.Name(), ErrUnsupported, tgt.Info().Target)
			}
			if _, ok := tgt.(cluster.Isolator); st.fault() == results.FaultIsolateLeader && !ok {
				return fmt.Errorf("--scenarios %s: cutting a leader off is %w (%s); it needs the local target", sc.Name(), ErrUnsupported, tgt.Info().Target)
			}
		}
	}
	return nil
}

// MinProbeTimeout is the shortest accepted recovery probe deadline.
const MinProbeTimeout = time.Second

// Sink receives the results records; results.Writer is one.
type Sink interface {
	// Append records one record durably.
	Append(rec any) error
}

// ErrTarget wraps failures to reach the target (exit status 2 on the command line).
var ErrTarget = errors.New("target unreachable")

// Runner runs a campaign against a target.
type Runner struct {
	// Target is the store under test.
	Target cluster.Target
	// Sink receives the run header, trial records and summary.
	Sink Sink
	// Log receives one line per trial and a summary.
	Log *zap.Logger
	// Config configures the campaign.
	Config Config
	// Waiter times the kill delay (default PrecisionWaiter, Realtime per Config.RealtimeTimer).
	Waiter Waiter
	// Failpoint is the leader kill (default LeaderKill on Target); the
	// positive control's wipe is DataWipe.
	Failpoint Failpoint
	// NewProber builds the recovery probe for a map and probe key (default PutProbe).
	NewProber func(m cluster.Map, key string) Prober
	// NewVerifier builds the verifier for a map (default GetVerifier).
	NewVerifier func(m cluster.Map) Verifier

	// load is the running workload of a run with Config.Workload.
	load *load
}

// Result summarises a finished campaign.
type Result struct {
	// RunID identifies the run in the log.
	RunID string
	// Trials counts the trial records written.
	Trials int
	// Outcomes counts trials per outcome class.
	Outcomes map[string]int
	// Interrupted is true when the campaign was stopped before its last trial.
	Interrupted bool
	// FinalLost counts the acknowledged keys the final read found missing or changed.
	FinalLost int
	// Violations counts the trials whose workload history is not linearizable.
	Violations int
	// LostWrites counts the workload's acknowledged write-once keys the final read missed.
	LostWrites int
	// StaleReads counts the workload's reads of a value older than one acknowledged before them.
	StaleReads int
}

// Failed says whether the run recorded a durability or consistency
// violation: a lost trial write, a lost workload write, a stale read or a
// history that is not linearizable.
func (r Result) Failed() bool {
	return r.Lost() > 0 || r.LostWrites > 0 || r.Violations > 0 || r.StaleReads > 0
}

// Lost counts the durability violations: lost trials and acknowledged keys
// the final read found missing or changed.
func (r Result) Lost() int { return r.Outcomes[results.OutcomeLost] + r.FinalLost }

// writeTimeout is the write deadline of a trial anchored at anchor.
func (c Config) writeTimeout(anchor Anchor) time.Duration {
	if anchor == AfterWriteStart && c.InFlightWriteTimeout != 0 {
		return c.InFlightWriteTimeout
	}
	return c.WriteTimeout
}

func (r *Runner) prober(m cluster.Map, key string) Prober {
	if r.NewProber != nil {
		return r.NewProber(m, key)
	}
	return PutProbe{Map: m, Key: key, Interval: r.Config.ProbeInterval, Timeout: r.Config.ProbeTimeout}
}

func (r *Runner) verifier(m cluster.Map) Verifier {
	if r.NewVerifier != nil {
		return r.NewVerifier(m)
	}
	return GetVerifier{Map: m, AttemptTimeout: r.Config.VerifyAttemptTimeout, Interval: r.Config.ProbeInterval}
}

func (r *Runner) defaults() {
	if r.Log == nil {
		r.Log = zap.NewNop()
	}
	if r.Waiter == nil {
		r.Waiter = PrecisionWaiter{Spin: DefaultSpin, Realtime: r.Config.RealtimeTimer}
	}
	if r.Failpoint == nil {
		r.Failpoint = LeaderKill{Target: r.Target}
	}
}

// failpoint is the fault of a step.
func (r *Runner) failpoint(s Step) Failpoint {
	switch s.fault() {
	case results.FaultWipeAll:
		return DataWipe{Target: r.Target}
	case results.FaultPauseLeader, results.FaultIsolateLeader:
		return Timed{Fault: s.fault(), Target: r.Target, Duration: r.Config.FaultDuration, From: r.Config.IsolateFrom}
	}
	return r.Failpoint
}

// NewRunID returns a run ID: the UTC start time and 4 random bytes.
func NewRunID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// Run runs the campaign: run header, one record per trial, the final read
// of every acknowledged key, summary. A cancelled ctx stops it after
// abandoning the current trial (recorded as inconclusive, error
// "interrupted"); the final read and the summary are still done. The error
// is non-nil only when the campaign could not run or record.
func (r *Runner) Run(ctx context.Context) (Result, error) {
	r.defaults()
	res := Result{Outcomes: map[string]int{}}
	if err := r.Config.Validate(); err != nil {
		return res, err
	}
	scenarios, _ := LookupScenarios(r.Config.Scenarios)
	info := r.Target.Info()
	if err := checkFaults(scenarios, r.Target); err != nil {
		return res, err
	}
	plans, err := Plan(r.Config.Seed, scenarios, r.Config.Repeat, info.Partitions, r.Config.Shuffle)
	if err != nil {
		return res, fmt.Errorf("planning the campaign: %w", err)
	}
	clock := workload.NewClock()
	started := clock.Start()
	res.RunID = NewRunID(started)
	log := r.Log.With(zap.String("run_id", res.RunID))

	m, err := r.openMap(ctx)
	if err != nil {
		res.Interrupted = ctx.Err() != nil
		if res.Interrupted {
			return res, nil
		}
		return res, err
	}
	defer m.close(ctx, log)
	header := r.header(res.RunID, started, info)
	if r.Config.Workload {
		if r.load, err = r.startLoad(ctx, res.RunID, plans[0].Trial, clock, log); err != nil {
			return res, err
		}
		defer r.closeLoad(log)
		r.load.describe(&header)
	}
	if err := r.Sink.Append(header); err != nil {
		return res, fmt.Errorf("recording the run header: %w", err)
	}
	r.logStart(log, info, len(plans))
	p := newProgress(len(plans), started)
	recs, err := r.runTrials(ctx, log, m, res.RunID, plans, p, &res)
	if err != nil {
		return res, err
	}
	var loadSum *results.WorkloadSummary
	if r.load != nil {
		if loadSum, err = r.judgeLoad(ctx, recs, &res); err != nil {
			return res, err
		}
	}
	final, err := r.finalRead(ctx, log, m, res.RunID, recs)
	if err != nil {
		return res, err
	}
	res.FinalLost = final.Lost
	sum := results.Summary{
		Workload:    loadSum,
		Type:        results.TypeSummary,
		RunID:       res.RunID,
		Trials:      res.Trials,
		EndedAt:     time.Now().UTC().Format(time.RFC3339Nano),
		Outcomes:    res.Outcomes,
		Interrupted: res.Interrupted,
		FinalRead:   &final,
	}
	if err := r.Sink.Append(sum); err != nil {
		return res, fmt.Errorf("recording the summary: %w", err)
	}
	r.logSummary(log, res, recs, final, time.Since(started))
	return res, nil
}

// runTrials runs the planned trials in order, each after the store has
// settled unless it is back to back, and records each one.
func (r *Runner) runTrials(ctx context.Context, log *zap.Logger, m *mapHolder, runID string, plans []TrialPlan, p *progress, res *Result) ([]results.Trial, error) {
	var recs []results.Trial
	for i, plan := range plans {
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		var st *settled
		if !plan.Step.BackToBack {
			st = r.settle(ctx, log, plan.Partition)
		}
		r.startTrialLoad(ctx, plan)
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		nextBackToBack := i+1 < len(plans) && plans[i+1].Step.BackToBack
		rec, _ := r.newTrial(m, runID, plan, st, !nextBackToBack).run(ctx)
		if err := r.Sink.Append(rec); err != nil {
			return recs, fmt.Errorf("recording trial %d: %w", plan.Trial, err)
		}
		recs = append(recs, rec)
		res.Trials++
		res.Outcomes[rec.Outcome]++
		p.done(rec.Outcome == results.OutcomeLost)
		r.logTrial(log, rec, p)
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
	}
	return recs, nil
}

func (r *Runner) header(runID string, started time.Time, info cluster.Info) results.Run {
	cfg, err := json.Marshal(r.Config)
	if err != nil {
		cfg = nil
	}
	versions := map[string]string{"go": runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		versions[bi.Main.Path] = bi.Main.Version
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/atomix/go-sdk", "github.com/atomix/atomix/stores/raft",
				"github.com/atomix/atomix/protocols/rsm", "github.com/atomix/atomix/runtime",
				"github.com/lni/dragonboat/v3":
				versions[d.Path] = d.Version
			}
		}
	}
	for k, v := range info.Versions {
		versions[k] = v
	}
	return results.Run{
		Type:       results.TypeRun,
		RunID:      runID,
		StartedAt:  started.UTC().Format(time.RFC3339Nano),
		Seed:       r.Config.Seed,
		Target:     info.Target,
		Store:      info.Store,
		Partitions: info.Partitions,
		Replicas:   info.Replicas,
		Scenarios:  r.Config.Scenarios,
		Config:     cfg,
		Versions:   versions,
		Schema:     results.SchemaVersion,
		Repeat:     r.Config.Repeat,
		Shuffle:    r.Config.Shuffle,

		RestartPolicy:  info.RestartPolicy,
		MinLeaderAgeNS: int64(r.Config.MinLeaderAge),
	}
}

// judgeLoad ends the workload, checks every trial's history and records one
// check record per trial.
func (r *Runner) judgeLoad(ctx context.Context, recs []results.Trial, res *Result) (*results.WorkloadSummary, error) {
	sum, checks := r.finishLoad(ctx, r.load, recs)
	res.Violations, res.LostWrites, res.StaleReads = sum.Violations, sum.LostWrites, sum.StaleReads
	for _, c := range checks {
		if err := r.Sink.Append(c); err != nil {
			return sum, fmt.Errorf("recording the check of trial %d: %w", c.Trial, err)
		}
		r.logCheck(c)
	}
	return sum, nil
}

// closeLoad closes the workload's history log at the end of the run.
func (r *Runner) closeLoad(log *zap.Logger) {
	if err := r.load.close(); err != nil {
		log.Error("closing the workload", zap.Error(err))
	}
	r.load = nil
}
