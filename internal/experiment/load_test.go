package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/experiment/faketarget"
	"github.com/atomix-failover/atomix-failover/internal/history"
	"github.com/atomix-failover/atomix-failover/internal/results"
	"github.com/atomix-failover/atomix-failover/internal/workload"
)

// loadRun is a campaign with a workload, its log and its history.
type loadRun struct {
	res    Result
	log    runLog
	dir    string
	ops    []history.Op
	faults []history.Fault
}

func loadConfig(scenarios ...string) Config {
	cfg := testConfig(scenarios...).WithWorkload()
	cfg.Workload = true
	cfg.Load = workload.Config{Clients: 4, Rate: 400, KeyPrefix: "wl", OpTimeout: 200 * time.Millisecond}
	cfg.FaultDuration = 100 * time.Millisecond
	cfg.CheckTimeout = 10 * time.Second
	cfg.Baseline = 50 * time.Millisecond
	cfg.HistoryPrefix = "results"
	return cfg
}

// runLoad runs cfg on tgt with the history beside the results log and reads both back.
func runLoad(t *testing.T, ctx context.Context, tgt cluster.Target, cfg Config) loadRun {
	t.Helper()
	w, path := newWriter(t)
	cfg.HistoryDir = filepath.Dir(path)
	r := &Runner{Target: tgt, Sink: w, Log: zaptest.NewLogger(t), Config: cfg}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	out := loadRun{res: res, log: readLog(t, path), dir: cfg.HistoryDir}
	if len(out.log.runs) != 1 || out.log.runs[0].History == "" {
		t.Fatalf("run header %+v: want one naming the history", out.log.runs)
	}
	f, err := os.Open(filepath.Join(out.dir, out.log.runs[0].History))
	if err != nil {
		t.Fatalf("history named in the header: %v", err)
	}
	defer func() { _ = f.Close() }()
	var warnings []history.Warning
	out.ops, out.faults, warnings, err = history.ReadAll(f, res.RunID)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("reading the history: %v %v", err, warnings)
	}
	return out
}

func TestWorkloadKillUnderLoad(t *testing.T) {
	tgt := faketarget.New(faketarget.DefaultConfig())
	t.Cleanup(func() { _ = tgt.Close() })
	run := runLoad(t, context.Background(), slowHealth{tgt}, loadConfig(KillUnderLoad))
	if run.res.Failed() || run.res.Trials != 3 {
		t.Fatalf("result %+v: want 3 trials and no violation", run.res)
	}
	if len(run.log.runs[0].Workload) == 0 {
		t.Error("run header without the workload's configuration")
	}
	perTrial, firstInvoke := map[int]int{}, map[int]int64{}
	for _, op := range run.ops {
		if op.Trial == 0 {
			t.Fatalf("operation %+v in no trial: the first trial takes the workload from its start", op)
		}
	}
	for _, op := range run.ops {
		if _, ok := firstInvoke[op.Trial]; !ok || op.InvokeNS < firstInvoke[op.Trial] {
			firstInvoke[op.Trial] = op.InvokeNS
		}
		perTrial[op.Trial]++
	}
	baseline := int64(loadConfig().Baseline)
	for _, tr := range run.log.trials {
		if tr.ClockNS == nil || *tr.ClockNS <= 0 {
			t.Fatalf("trial %d: clock_ns %v, want the trial's start on the history's clock", tr.Trial, tr.ClockNS)
		}
		if perTrial[tr.Trial] == 0 {
			t.Errorf("trial %d: no operation of the workload recorded in it", tr.Trial)
		}
		if tr.Trial > 1 && firstInvoke[tr.Trial] < *tr.ClockNS-baseline-int64(20*time.Millisecond) {
			t.Errorf("trial %d: an operation invoked at %d, before its baseline (start %d): the health wait belongs to the trial before", tr.Trial, firstInvoke[tr.Trial], *tr.ClockNS)
		}
	}
	kills := map[int]bool{}
	for _, f := range run.faults {
		if f.Fault == history.FaultKill && f.EndNS != nil && *f.EndNS >= f.StartNS {
			kills[f.Trial] = true
		}
	}
	if len(kills) != 3 {
		t.Errorf("kill records for trials %v, want 1, 2, 3", kills)
	}
	if len(run.log.checks) != 3 {
		t.Fatalf("%d check records, want 3", len(run.log.checks))
	}
	for _, c := range run.log.checks {
		if c.Verdict != results.VerdictLinearizable || c.Ops == 0 || c.Keys == 0 || c.StaleReads != 0 {
			t.Errorf("check %+v: want linearizable with operations", c)
		}
	}
	sum := run.log.summaries[0].Workload
	if sum == nil || sum.Ops == 0 || sum.Verdict != results.VerdictLinearizable {
		t.Errorf("summary workload %+v", sum)
	}
}

func TestWorkloadStaleReadIsAViolation(t *testing.T) {
	tgt := faketarget.New(faketarget.DefaultConfig())
	t.Cleanup(func() { _ = tgt.Close() })
	stale := workload.HotKeys("wl", 3, workload.DefaultHotKeysPerPartition)[0]
	tgt.SetFault(stale, faketarget.StaleReads)
	cfg := loadConfig(KillUnderLoad)
	run := runLoad(t, context.Background(), tgt, cfg)
	if !run.res.Failed() || run.res.Violations == 0 {
		t.Fatalf("result %+v: want a violation", run.res)
	}
	found := false
	for _, c := range run.log.checks {
		if c.Verdict != results.VerdictViolation {
			continue
		}
		if len(c.Violations) == 0 || c.Violations[0] != stale || c.StaleReads == 0 {
			t.Errorf("check %+v: want the violation on %s with stale reads", c, stale)
		}
		if _, err := os.Stat(filepath.Join(run.dir, c.Visualization)); c.Visualization == "" || err != nil {
			t.Errorf("trial %d: visualization %q: %v", c.Trial, c.Visualization, err)
		}
		found = true
	}
	if !found {
		t.Fatal("no trial with a violation")
	}
	if s := run.log.summaries[0].Workload; s.Verdict != results.VerdictViolation || s.Violations == 0 {
		t.Errorf("summary workload %+v", s)
	}
}

// slowHealth takes 100 ms over every health wait, long enough to tell
// whose operations run during it.
type slowHealth struct {
	*faketarget.Target
}

func (s slowHealth) WaitHealthy(ctx context.Context, spec cluster.HealthSpec) (cluster.Health, error) {
	if err := pause(ctx, 100*time.Millisecond); err != nil {
		return cluster.Health{}, err
	}
	return s.Target.WaitHealthy(ctx, spec)
}

// pausingTarget pauses a leader by killing it: the fake store then elects
// another, as a real one does when its leader stops answering.
type pausingTarget struct {
	*faketarget.Target
}

func (p pausingTarget) PauseLeader(ctx context.Context, partition int, d time.Duration, started func(cluster.Disruption)) (cluster.Disruption, error) {
	k, err := p.KillLeader(ctx, partition)
	if err != nil {
		return cluster.Disruption{}, err
	}
	dis := cluster.Disruption{Partition: partition, Victim: k.Victim, Term: k.Term, SentAt: k.SentAt, Led: k.Led}
	started(dis)
	t := time.NewTimer(time.Until(k.SentAt.Add(d)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	dis.EndedAt = time.Now()
	if ctx.Err() != nil {
		return dis, ctx.Err()
	}
	return dis, nil
}

func TestPauseLeaderTrial(t *testing.T) {
	tgt := pausingTarget{faketarget.New(faketarget.DefaultConfig())}
	t.Cleanup(func() { _ = tgt.Close() })
	cfg := loadConfig(PauseLeader)
	run := runLoad(t, context.Background(), tgt, cfg)
	if run.res.Failed() || len(run.log.trials) != 3 {
		t.Fatalf("result %+v", run.res)
	}
	for _, tr := range run.log.trials {
		if tr.Fault != results.FaultPauseLeader || tr.FaultDurationNS != int64(cfg.FaultDuration) {
			t.Errorf("trial %d: fault %q for %d ns", tr.Trial, tr.Fault, tr.FaultDurationNS)
		}
		if tr.T.Heal == nil || tr.T.KillSent == nil || *tr.T.Heal-*tr.T.KillSent < int64(cfg.FaultDuration) {
			t.Errorf("trial %d: heal %v, fault sent %v: want the heal a fault duration later", tr.Trial, tr.T.Heal, tr.T.KillSent)
		}
		if tr.Outcome != results.OutcomeDurable {
			t.Errorf("trial %d: outcome %s (%s)", tr.Trial, tr.Outcome, tr.Error)
		}
	}
	pauses := 0
	for _, f := range run.faults {
		if f.Fault == history.FaultPause && f.EndNS != nil && *f.EndNS-f.StartNS >= int64(cfg.FaultDuration) {
			pauses++
		}
	}
	if pauses != 3 {
		t.Errorf("%d pause records lasting the fault duration, want 3", pauses)
	}
}

func TestTimedFaultEndsWhenInterrupted(t *testing.T) {
	tgt := pausingTarget{faketarget.New(faketarget.DefaultConfig())}
	t.Cleanup(func() { _ = tgt.Close() })
	f := Timed{Fault: results.FaultPauseLeader, Target: tgt, Duration: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	inj, err := f.Inject(ctx, 1, cluster.Leadership{})
	if err != nil || inj.Heal == nil {
		t.Fatalf("Inject: %v, heal %v", err, inj.Heal)
	}
	cancel()
	began := time.Now()
	d, err := inj.Heal.Wait(ctx)
	if !errors.Is(err, context.Canceled) || d.EndedAt.IsZero() || time.Since(began) > 5*time.Second {
		t.Fatalf("Wait after cancel: %v, ended %v", err, d.EndedAt)
	}
}

func TestLoadScenariosNeedTheirCapability(t *testing.T) {
	tgt := faketarget.New(faketarget.DefaultConfig())
	t.Cleanup(func() { _ = tgt.Close() })
	for _, sc := range []string{PauseLeader, IsolateLeader} {
		w, _ := newWriter(t)
		r := &Runner{Target: tgt, Sink: w, Config: loadConfig(sc)}
		if _, err := r.Run(context.Background()); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s on a target without the fault: %v, want ErrUnsupported", sc, err)
		}
	}
	cfg := testConfig(KillUnderLoad)
	if err := cfg.Validate(); err == nil {
		t.Error("kill-under-load without the workload validated")
	}
	if err := cfg.WithWorkload().Validate(); err != nil {
		t.Errorf("kill-under-load with the workload implied: %v", err)
	}
}
