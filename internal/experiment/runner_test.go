package experiment

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
	"github.com/atomix-failover/atomix-failover/internal/experiment/faketarget"
	"github.com/atomix-failover/atomix-failover/internal/keyspace"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

func TestMain(m *testing.M) {
	local.RunNodeIfChild()
	// rsm v1.1.1 never stops a session's request loop (its `break` leaves the
	// select, not the loop), so every protocol session outlives the store.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/atomix/atomix/protocols/rsm/pkg/client.(*SessionClient).open.func1"))
}

func testConfig(scenarios ...string) Config {
	c := DefaultConfig()
	c.Scenarios = scenarios
	c.VerifyTimeout = 500 * time.Millisecond
	c.SettleTimeout = 2 * time.Second
	c.CallTimeout = time.Second
	c.WriteTimeout = time.Second
	c.MinLeaderAge = 20 * time.Millisecond
	return c
}

type fakeRun struct {
	target *faketarget.Target
	res    Result
	log    runLog
	logs   *observer.ObservedLogs
	plans  []TrialPlan
}

// runFake plans the campaign, lets setup inject faults by trial, runs it on
// a fake target and reads the log back.
func runFake(t *testing.T, ctx context.Context, cfg Config, setup func(*faketarget.Target, []TrialPlan), wrap func(*Runner)) fakeRun {
	t.Helper()
	fc := faketarget.DefaultConfig()
	tgt := faketarget.New(fc)
	t.Cleanup(func() { _ = tgt.Close() })
	scen, err := LookupScenarios(cfg.Scenarios)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := Plan(cfg.Seed, scen, cfg.Repeat, fc.Partitions, cfg.Shuffle)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(tgt, plans)
	}
	w, path := newWriter(t)
	core, logs := observer.New(zapcore.DebugLevel)
	r := &Runner{Target: tgt, Sink: w, Log: zap.New(core), Config: cfg}
	if wrap != nil {
		wrap(r)
	}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return fakeRun{target: tgt, res: res, log: readLog(t, path), logs: logs, plans: plans}
}

func TestOutcomeClasses(t *testing.T) {
	tests := []struct {
		name       string
		fault      faketarget.Fault
		outcome    string
		write      string
		verify     string
		retargeted bool
	}{
		{"no fault", 0, results.OutcomeDurable, results.WriteOK, results.VerifyOK, false},
		{"acked write dropped", faketarget.DropWrite, results.OutcomeLost, results.WriteOK, results.VerifyMissing, false},
		{"acked write overwritten", faketarget.ForeignValue, results.OutcomeLost, results.WriteOK, results.VerifyMismatch, false},
		{"failed write applied", faketarget.FailWriteApplied, results.OutcomeIndeterminateApplied, results.WriteUnknown, results.VerifyOK, false},
		{"failed write absent", faketarget.FailWriteAbsent, results.OutcomeIndeterminateAbsent, results.WriteUnknown, results.VerifyMissing, false},
		{"reads never answer", faketarget.HangReads, results.OutcomeInconclusive, results.WriteOK, results.VerifyError, false},
		{"leader moves after the ack", faketarget.MoveLeaderOnAck, results.OutcomeDurable, results.WriteOK, results.VerifyOK, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(Immediate, DuringReplication)
			const faulty = 2
			run := runFake(t, context.Background(), cfg, func(f *faketarget.Target, plans []TrialPlan) {
				if tt.fault != 0 {
					f.SetFault(plans[faulty-1].Key.Name, tt.fault)
				}
			}, nil)
			if len(run.log.runs) != 1 || len(run.log.summaries) != 1 || len(run.log.trials) != 6 {
				t.Fatalf("log has %d runs, %d trials, %d summaries; want 1, 6, 1", len(run.log.runs), len(run.log.trials), len(run.log.summaries))
			}
			kills := run.target.Kills()
			if len(kills) != 6 {
				t.Fatalf("%d kills, want 6", len(kills))
			}
			for i, tr := range run.log.trials {
				wantOutcome, wantWrite, wantVerify := results.OutcomeDurable, results.WriteOK, results.VerifyOK
				if tr.Trial == faulty {
					wantOutcome, wantWrite, wantVerify = tt.outcome, tt.write, tt.verify
				}
				if tr.Outcome != wantOutcome || tr.Write.Status != wantWrite || tr.Verify.Status != wantVerify {
					t.Errorf("trial %d: outcome %s write %s verify %s (%s), want %s %s %s", tr.Trial, tr.Outcome, tr.Write.Status, tr.Verify.Status, tr.Error, wantOutcome, wantWrite, wantVerify)
				}
				if got := keyspace.AtomixIndex(tr.Key, 3) + 1; got != tr.Partition {
					t.Errorf("trial %d: partition %d, Atomix routes %s to %d", tr.Trial, tr.Partition, tr.Key, got)
				}
				if tr.Key != run.plans[i].Key.Name || tr.Partition != run.plans[i].Partition {
					t.Errorf("trial %d: key %s partition %d, planned %s %d", tr.Trial, tr.Key, tr.Partition, run.plans[i].Key.Name, run.plans[i].Partition)
				}
				if kills[i].Partition != tr.Partition || tr.LeaderBefore == nil || kills[i].Victim.ID != tr.LeaderBefore.Member || kills[i].Term != tr.LeaderBefore.Term {
					t.Errorf("trial %d: leader_before %+v, but the target killed %+v", tr.Trial, tr.LeaderBefore, kills[i])
				}
				if tr.Retargeted != (tr.Trial == faulty && tt.retargeted) {
					t.Errorf("trial %d: retargeted %v", tr.Trial, tr.Retargeted)
				}
				if tr.Outcome != results.OutcomeInconclusive {
					checkTimestamps(t, tr)
				}
				if tr.SHA256Partition == nil || *tr.SHA256Partition != tr.Partition {
					t.Errorf("trial %d: sha256_partition %v, want %d", tr.Trial, tr.SHA256Partition, tr.Partition)
				}
				if tr.RunID != run.res.RunID || tr.Value == "" || !strings.HasPrefix(tr.Value, run.res.RunID) {
					t.Errorf("trial %d: run_id %s value %q", tr.Trial, tr.RunID, tr.Value)
				}
			}
			sum := run.log.summaries[0]
			if sum.Trials != 6 || sum.Interrupted || sum.Outcomes[tt.outcome] < 1 {
				t.Errorf("summary %+v", sum)
			}
			lostLines := run.logs.FilterLevelExact(zapcore.ErrorLevel).Len()
			if wantLost := tt.outcome == results.OutcomeLost; run.res.Lost() > 0 != wantLost || (lostLines > 0) != wantLost {
				t.Errorf("lost %d, error-level lines %d, want lost: %v", run.res.Lost(), lostLines, wantLost)
			}
			if got := run.logs.Filter(func(e observer.LoggedEntry) bool { return strings.HasPrefix(e.Message, "trial") }).Len(); got != 6 {
				t.Errorf("%d trial log lines, want 6", got)
			}
		})
	}
}

func TestRunHeader(t *testing.T) {
	cfg := testConfig(InFlight)
	cfg.Seed = 9
	run := runFake(t, context.Background(), cfg, nil, nil)
	h := run.log.runs[0]
	if h.RunID != run.res.RunID || h.Seed != 9 || h.Target != "fake" || h.Partitions != 3 || h.Replicas != 3 ||
		len(h.Scenarios) != 1 || h.Scenarios[0] != InFlight || len(h.Config) == 0 || h.Versions["go"] == "" || h.Versions["fake"] != "1" {
		t.Fatalf("run header %+v", h)
	}
	if _, err := time.Parse(time.RFC3339Nano, h.StartedAt); err != nil {
		t.Fatalf("started_at: %v", err)
	}
	for _, tr := range run.log.trials {
		if tr.Outcome != results.OutcomeDurable && tr.Outcome != results.OutcomeIndeterminateApplied {
			t.Errorf("in-flight trial %d: %s (%s)", tr.Trial, tr.Outcome, tr.Error)
		}
		checkTimestamps(t, tr)
		if d := *tr.ActualDelayNS - tr.DelayNS; d > int64(50*time.Millisecond) {
			t.Errorf("trial %d: actual delay %d ns for planned %d", tr.Trial, *tr.ActualDelayNS, tr.DelayNS)
		}
	}
}

// cancelAfterKill is a failpoint that cancels the campaign once it has killed n leaders.
type cancelAfterKill struct {
	Failpoint
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfterKill) Inject(ctx context.Context, p int, before cluster.Leadership) (Injection, error) {
	inj, err := c.Failpoint.Inject(ctx, p, before)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return inj, err
}

func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := testConfig(DefaultScenarios()...)
	run := runFake(t, ctx, cfg, nil, func(r *Runner) {
		r.Failpoint = &cancelAfterKill{Failpoint: LeaderKill{Target: r.Target}, n: 2, cancel: cancel}
	})
	if !run.res.Interrupted || run.res.Trials != 2 {
		t.Fatalf("result %+v, want interrupted after 2 trials", run.res)
	}
	if len(run.log.trials) != 2 || len(run.log.summaries) != 1 || !run.log.summaries[0].Interrupted {
		t.Fatalf("log: %d trials, summaries %+v", len(run.log.trials), run.log.summaries)
	}
	last := run.log.trials[1]
	if last.Outcome != results.OutcomeInconclusive || !strings.HasPrefix(last.Error, errInterrupted) || last.T.KillSent == nil {
		t.Fatalf("interrupted trial: outcome %s error %q kill_sent %v", last.Outcome, last.Error, last.T.KillSent)
	}
}

func TestUnconfirmedKillStillCounts(t *testing.T) {
	cfg := testConfig(Immediate)
	run := runFake(t, context.Background(), cfg, func(f *faketarget.Target, _ []TrialPlan) { f.UnconfirmKill(2) }, nil)
	if len(run.log.trials) != 3 {
		t.Fatalf("%d trials, want 3", len(run.log.trials))
	}
	kill := run.target.Kills()[1]
	tr := run.log.trials[1]
	if tr.Outcome != results.OutcomeDurable || tr.LeaderBefore == nil || tr.LeaderBefore.Member != kill.Victim.ID {
		t.Fatalf("trial 2: outcome %s leader_before %+v (%s); the target killed %+v", tr.Outcome, tr.LeaderBefore, tr.Error, kill)
	}
	if tr.T.KillSent == nil || tr.T.KillDone != nil || tr.T.NewLeader == nil {
		t.Errorf("trial 2: kill_sent %v kill_done %v new_leader %v, want kill_done alone absent", tr.T.KillSent, tr.T.KillDone, tr.T.NewLeader)
	}
	if !strings.Contains(tr.Error, "not confirmed") || !strings.Contains(tr.Error, faketarget.ErrUnconfirmed.Error()) {
		t.Errorf("trial 2: error %q does not say the kill was unconfirmed", tr.Error)
	}
	for _, other := range []results.Trial{run.log.trials[0], run.log.trials[2]} {
		if other.Outcome != results.OutcomeDurable || other.Error != "" {
			t.Errorf("trial %d: %s %q", other.Trial, other.Outcome, other.Error)
		}
	}
}

func TestLeaderKillRetargeted(t *testing.T) {
	tgt := faketarget.New(faketarget.DefaultConfig())
	defer func() { _ = tgt.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cur, err := tgt.Leader(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	other := cur
	other.Leader.ID = cur.Leader.ID%3 + 1
	stale := cur
	stale.Term = cur.Term - 1
	tests := []struct {
		name   string
		before cluster.Leadership
		want   bool
	}{
		{"same leader and term", cur, false},
		{"no leader known before the write", cluster.Leadership{Partition: 1}, false},
		{"another leader", other, true},
		{"same leader, older term", stale, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fixedLeader{Target: tgt, l: cur}
			inj, err := LeaderKill{Target: f}.Inject(ctx, 1, tt.before)
			if err != nil {
				t.Fatal(err)
			}
			if inj.Retargeted != tt.want {
				t.Errorf("retargeted %v, want %v", inj.Retargeted, tt.want)
			}
		})
	}
}

// fixedLeader reports the same leadership and kill whatever the store does,
// so that every case of TestLeaderKillRetargeted kills the same victim.
type fixedLeader struct {
	*faketarget.Target
	l cluster.Leadership
}

func (f *fixedLeader) Leader(context.Context, int) (cluster.Leadership, error) { return f.l, nil }

func (f *fixedLeader) KillLeader(_ context.Context, p int) (cluster.Kill, error) {
	return cluster.Kill{Partition: p, Victim: f.l.Leader, Term: f.l.Term, SentAt: time.Now(), DoneAt: time.Now()}, nil
}

func TestRapidSequentialIsBackToBack(t *testing.T) {
	cfg := testConfig(RapidSequential)
	run := runFake(t, context.Background(), cfg, nil, nil)
	kills := run.target.Kills()
	if len(kills) != 3 {
		t.Fatalf("%d kills, want 3", len(kills))
	}
	for i := 1; i < 3; i++ {
		gap := kills[i].SentAt.Sub(kills[i-1].DoneAt)
		if gap > time.Second {
			t.Errorf("kill %d came %s after kill %d", i+1, gap, i)
		}
	}
	for _, tr := range run.log.trials {
		if tr.Outcome != results.OutcomeDurable {
			t.Errorf("trial %d: %s (%s)", tr.Trial, tr.Outcome, tr.Error)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		ok     bool
	}{
		{"default", func(*Config) {}, true},
		{"unknown scenario", func(c *Config) { c.Scenarios = []string{"nope"} }, false},
		{"repeat 0", func(c *Config) { c.Repeat = 0 }, false},
		{"no map", func(c *Config) { c.Map = "" }, false},
		{"zero verify timeout", func(c *Config) { c.VerifyTimeout = 0 }, false},
		{"negative probe interval", func(c *Config) { c.ProbeInterval = -1 }, false},
		{"under load", func(c *Config) { c.Scenarios, c.Workload = []string{IsolateLeader}, true }, true},
		{"under load without the workload", func(c *Config) { c.Scenarios = []string{KillUnderLoad} }, false},
		{"NaN rate", func(c *Config) { c.Workload, c.Load.Rate = true, math.NaN() }, false},
		{"infinite rate", func(c *Config) { c.Workload, c.Load.Rate = true, math.Inf(1) }, false},
		{"negative clients", func(c *Config) { c.Workload, c.Load.Clients = true, -1 }, false},
		{"negative baseline", func(c *Config) { c.Baseline = -time.Second }, false},
		{"zero fault duration", func(c *Config) { c.FaultDuration = 0 }, false},
		{"bad side", func(c *Config) { c.IsolateFrom = "both" }, false},
		{"clients cut for 31s", func(c *Config) {
			c.Scenarios, c.Workload, c.IsolateFrom, c.FaultDuration = []string{IsolateLeader}, true, cluster.SideClients, 31*time.Second
		}, false},
		{"clients cut for 30s", func(c *Config) {
			c.Scenarios, c.Workload, c.IsolateFrom, c.FaultDuration = []string{IsolateLeader}, true, cluster.SideClients, 30*time.Second
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.modify(&c)
			if err := c.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestResultFailed(t *testing.T) {
	tests := []struct {
		res  Result
		want bool
	}{
		{Result{Outcomes: map[string]int{results.OutcomeDurable: 3}}, false},
		{Result{Outcomes: map[string]int{results.OutcomeLost: 1}}, true},
		{Result{FinalLost: 1}, true},
		{Result{LostWrites: 1}, true},
		{Result{Violations: 1}, true},
		{Result{StaleReads: 1}, true},
	}
	for _, tt := range tests {
		if got := tt.res.Failed(); got != tt.want {
			t.Errorf("%+v: Failed() = %v, want %v", tt.res, got, tt.want)
		}
	}
}
