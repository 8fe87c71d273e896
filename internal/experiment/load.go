package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/history"
	"github.com/atomix-failover/atomix-failover/internal/results"
	"github.com/atomix-failover/atomix-failover/internal/workload"
)

// load is a run's workload: its clients, the history log they and the
// trials' faults are recorded in, and the clock every record is timed on.
type load struct {
	w     *workload.Workload
	hist  *history.Writer
	clock *workload.Clock
	runID string
	// name is the history's file name as the run header records it.
	name string
	log  *zap.Logger
}

// historyName is the file name of a run's history log.
func (c Config) historyName(runID string) string {
	return fmt.Sprintf("%s.%s.history.jsonl", c.HistoryPrefix, runID)
}

// startLoad creates the run's history log and starts the workload on it.
func (r *Runner) startLoad(ctx context.Context, runID string, firstTrial int, clock *workload.Clock, log *zap.Logger) (*load, error) {
	name := r.Config.historyName(runID)
	hist, err := history.Create(filepath.Join(r.Config.HistoryDir, name))
	if err != nil {
		return nil, fmt.Errorf("creating the history log: %w", err)
	}
	cfg := r.Config.Load
	cfg.RunID, cfg.Seed, cfg.FirstTrial = runID, uint64(r.Config.Seed), firstTrial
	w, err := workload.Start(ctx, cfg, r.Target, hist, clock, log.Named("workload"))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%w: starting the workload: %w", ErrTarget, err), hist.Close())
	}
	return &load{w: w, hist: hist, clock: clock, runID: runID, name: name, log: log}, nil
}

// describe fills the run header's history and workload fields.
func (l *load) describe(h *results.Run) {
	h.History = l.name
	if cfg, err := json.Marshal(l.w.Config()); err == nil {
		h.Workload = cfg
	}
}

// faults records a trial's faults in the history.
func (l *load) faults(fs []history.Fault) {
	for _, f := range fs {
		f.Type, f.RunID = history.TypeFault, l.runID
		if err := l.hist.Append(f); err != nil {
			l.log.Error("recording a fault in the history", zap.Int("trial", f.Trial), zap.Error(err))
		}
	}
}

// finishLoad waits for a healthy store with the workload still running (the
// last trial's aftermath, as every other trial has), stops it, reads back
// every key it wrote, and checks
// every trial's history; it appends one check record per trial and returns
// the workload's summary.
func (r *Runner) finishLoad(ctx context.Context, l *load, recs []results.Trial) (*results.WorkloadSummary, []results.Check) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.Config.SettleTimeout+r.Config.VerifyTimeout)
	defer cancel()
	var errs []error
	hctx, hcancel := context.WithTimeout(fctx, r.Config.SettleTimeout)
	if _, err := r.Target.WaitHealthy(hctx, cluster.HealthSpec{}); err != nil {
		errs = append(errs, fmt.Errorf("the store was not healthy before the workload's final reads: %w", err))
	}
	hcancel()
	if err := l.w.FinalRead(fctx); err != nil {
		errs = append(errs, fmt.Errorf("final reads of the workload: %w", err))
	}
	s := l.w.Stats()
	sum := &results.WorkloadSummary{Ops: s.Total(), OK: s.OK, Fail: s.Fail, Unknown: s.Unknown}
	if err := l.hist.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("writing the history: %w", err))
	}
	checks, err := r.checkTrials(l, recs)
	if err != nil {
		errs = append(errs, err)
	}
	tally(sum, checks)
	if err := errors.Join(errs...); err != nil {
		sum.Error = err.Error()
		l.log.Warn("workload did not finish cleanly", zap.Error(err))
	}
	return sum, checks
}

// close closes the history log once nothing more is recorded.
func (l *load) close() error {
	if err := l.w.Stop(); err != nil {
		l.log.Debug("workload stopped with an error", zap.Error(err))
	}
	if err := l.hist.Close(); err != nil {
		return fmt.Errorf("closing the history log: %w", err)
	}
	return nil
}

// clockNS is t on the history's clock.
func (l *load) clockNS(t time.Time) *int64 {
	if l == nil || t.IsZero() {
		return nil
	}
	v := l.clock.At(t)
	return &v
}

// startTrialLoad attributes the workload's next operations to the trial
// and, on a store found healthy, lets it run Baseline before the trial
// starts. Operations during a trial's health wait belong to the trial
// before it (the aftermath of its fault: its victim rejoining); the first
// trial takes everything since the workload started.
func (r *Runner) startTrialLoad(ctx context.Context, plan TrialPlan) {
	if r.load == nil {
		return
	}
	r.load.w.SetTrial(plan.Trial)
	if !plan.Step.BackToBack && r.Config.Baseline > 0 {
		_ = pause(ctx, r.Config.Baseline)
	}
}
