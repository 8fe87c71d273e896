package experiment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/results"
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
	// CallTimeout bounds each control call to the target (leader reads, kills).
	CallTimeout time.Duration `json:"call_timeout_ns"`
	// ProbeInterval is the spacing of recovery probe attempts.
	ProbeInterval time.Duration `json:"probe_interval_ns"`
	// ProbeTimeout is each recovery probe attempt's deadline.
	ProbeTimeout time.Duration `json:"probe_timeout_ns"`
	// RealtimeTimer runs the last stretch of the kill timer under SCHED_FIFO when permitted.
	RealtimeTimer bool `json:"realtime_timer"`
	// Target is the target's own configuration, recorded in the run header.
	Target any `json:"target,omitempty"`
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
		CallTimeout:          10 * time.Second,
		ProbeInterval:        25 * time.Millisecond,
		ProbeTimeout:         50 * time.Millisecond,
		RealtimeTimer:        true,
	}
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
	return errors.Join(errs...)
}

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
	// Failpoint is the fault injected (default LeaderKill on Target).
	Failpoint Failpoint
	// Validator classifies outcomes (default DurabilityValidator).
	Validator Validator
	// NewProber builds the recovery probe for a map and probe key (default PutProbe).
	NewProber func(m cluster.Map, key string) Prober
	// NewVerifier builds the verifier for a map (default GetVerifier).
	NewVerifier func(m cluster.Map) Verifier

	total int
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
}

// Lost counts the durability violations.
func (r Result) Lost() int { return r.Outcomes[results.OutcomeLost] }

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
	if r.Validator == nil {
		r.Validator = DurabilityValidator{}
	}
}

// NewRunID returns a run ID: the UTC start time and 4 random bytes.
func NewRunID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// Run runs the campaign: run header, one record per trial, summary. A
// cancelled ctx stops it after abandoning the current trial (recorded as
// inconclusive, error "interrupted"); the summary is still written. The
// error is non-nil only when the campaign could not run or record.
func (r *Runner) Run(ctx context.Context) (Result, error) {
	r.defaults()
	res := Result{Outcomes: map[string]int{}}
	if err := r.Config.Validate(); err != nil {
		return res, err
	}
	scenarios, _ := LookupScenarios(r.Config.Scenarios)
	info := r.Target.Info()
	plans, err := Plan(r.Config.Seed, scenarios, r.Config.Repeat, info.Partitions, r.Config.Shuffle)
	if err != nil {
		return res, fmt.Errorf("planning the campaign: %w", err)
	}
	r.total = len(plans)
	started := time.Now()
	res.RunID = NewRunID(started)
	log := r.Log.With(zap.String("run_id", res.RunID))

	mctx, mcancel := context.WithTimeout(ctx, r.Config.CallTimeout)
	m, err := r.Target.Map(mctx, r.Config.Map)
	mcancel()
	if err != nil && ctx.Err() != nil {
		res.Interrupted = true
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("%w: opening map %q: %w", ErrTarget, r.Config.Map, err)
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), r.Config.CallTimeout)
		defer ccancel()
		if err := m.Close(cctx); err != nil {
			log.Warn("closing the map", zap.Error(err))
		}
	}()

	if err := r.Sink.Append(r.header(res.RunID, started, info)); err != nil {
		return res, fmt.Errorf("recording the run header: %w", err)
	}
	log.Info("campaign starting",
		zap.Int64("seed", r.Config.Seed),
		zap.Strings("scenarios", r.Config.Scenarios),
		zap.Int("repeat", r.Config.Repeat),
		zap.Int("trials", len(plans)),
		zap.String("target", info.Target),
		zap.Int("partitions", info.Partitions),
		zap.Int("replicas", info.Replicas),
		zap.Bool("realtime_timer", r.Config.RealtimeTimer && RealtimeAvailable()))

	var recs []results.Trial
	var victim *cluster.Member
	for _, plan := range plans {
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		if !plan.Step.BackToBack {
			r.settle(ctx, log, info, victim)
		}
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		rec, killed := r.runTrial(ctx, m, res.RunID, plan)
		if err := r.Sink.Append(rec); err != nil {
			return res, fmt.Errorf("recording trial %d: %w", plan.Trial, err)
		}
		recs = append(recs, rec)
		res.Trials++
		res.Outcomes[rec.Outcome]++
		if killed != nil {
			victim = killed
		}
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
	}

	sum := results.Summary{
		Type:        results.TypeSummary,
		RunID:       res.RunID,
		Trials:      res.Trials,
		EndedAt:     time.Now().UTC().Format(time.RFC3339Nano),
		Outcomes:    res.Outcomes,
		Interrupted: res.Interrupted,
	}
	if err := r.Sink.Append(sum); err != nil {
		return res, fmt.Errorf("recording the summary: %w", err)
	}
	r.logSummary(log, res, recs, time.Since(started))
	return res, nil
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
	}
}

// healthy reports whether every partition has a leader and a full complement
// of running members, and the last victim's incarnation is gone; otherwise it
// says why not.
func healthy(ls []cluster.Leadership, info cluster.Info, victim *cluster.Member) (bool, string) {
	if len(ls) != info.Partitions {
		return false, fmt.Sprintf("%d of %d partitions known", len(ls), info.Partitions)
	}
	pids := false
	for _, l := range ls {
		for _, m := range append([]cluster.Member{l.Leader}, l.Followers...) {
			pids = pids || m.PID > 0
		}
	}
	for _, l := range ls {
		if !l.HasLeader() {
			return false, fmt.Sprintf("partition %d has no leader", l.Partition)
		}
		if n := 1 + len(l.Followers); n < info.Replicas {
			return false, fmt.Sprintf("partition %d has %d of %d members", l.Partition, n, info.Replicas)
		}
		for _, m := range append([]cluster.Member{l.Leader}, l.Followers...) {
			if pids && m.PID == 0 {
				return false, fmt.Sprintf("partition %d member %d is down", l.Partition, m.ID)
			}
			if victim != nil && victim.UID != "" && m.UID == victim.UID {
				return false, fmt.Sprintf("partition %d still lists the killed incarnation %s", l.Partition, victim.UID)
			}
		}
	}
	return true, ""
}

// settle waits until the cluster is healthy again, at most SettleTimeout;
// on timeout it warns and lets the next trial run.
func (r *Runner) settle(ctx context.Context, log *zap.Logger, info cluster.Info, victim *cluster.Member) {
	sctx, cancel := context.WithTimeout(ctx, r.Config.SettleTimeout)
	defer cancel()
	begin := time.Now()
	tick := time.NewTicker(settlePoll)
	defer tick.Stop()
	why := "no answer"
	for {
		lctx, lcancel := context.WithTimeout(sctx, r.Config.CallTimeout)
		ls, err := r.Target.Leaders(lctx)
		lcancel()
		if err != nil {
			why = err.Error()
		} else if ok, w := healthy(ls, info, victim); ok {
			log.Debug("cluster healthy", zap.Duration("waited", time.Since(begin)))
			return
		} else {
			why = w
		}
		select {
		case <-sctx.Done():
			if ctx.Err() == nil {
				log.Warn("cluster not healthy before the next trial", zap.Duration("waited", time.Since(begin)), zap.String("reason", why))
			}
			return
		case <-tick.C:
		}
	}
}

// settlePoll is the spacing of health checks between trials.
const settlePoll = 20 * time.Millisecond

func median(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r *Runner) logSummary(log *zap.Logger, res Result, recs []results.Trial, wall time.Duration) {
	var election, recovery []time.Duration
	for _, rec := range recs {
		if rec.ElectionNS != nil {
			election = append(election, time.Duration(*rec.ElectionNS))
		}
		if rec.RecoveryNS != nil {
			recovery = append(recovery, time.Duration(*rec.RecoveryNS))
		}
	}
	durable, lost := res.Outcomes[results.OutcomeDurable], res.Outcomes[results.OutcomeLost]
	fields := []zap.Field{
		zap.Int("trials", res.Trials),
		zap.Int(results.OutcomeDurable, durable),
		zap.Int(results.OutcomeLost, lost),
		zap.Int(results.OutcomeIndeterminateApplied, res.Outcomes[results.OutcomeIndeterminateApplied]),
		zap.Int(results.OutcomeIndeterminateAbsent, res.Outcomes[results.OutcomeIndeterminateAbsent]),
		zap.Int(results.OutcomeInconclusive, res.Outcomes[results.OutcomeInconclusive]),
	}
	if durable+lost > 0 {
		fields = append(fields, zap.String("success_rate", fmt.Sprintf("%d/%d", durable, durable+lost)))
	}
	fields = append(fields,
		zap.Duration("median_election", median(election)),
		zap.Duration("median_recovery", median(recovery)),
		zap.Duration("wall", wall),
		zap.Bool("interrupted", res.Interrupted))
	if lost > 0 {
		log.Error("summary: DURABILITY VIOLATION: acknowledged writes were lost", fields...)
		return
	}
	log.Info("summary", fields...)
}
