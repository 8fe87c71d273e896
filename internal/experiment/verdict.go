package experiment

import (
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/history"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// checkTrials reads the run's history back and judges each trial
// (check.CheckTrials): a linearizability verdict on the trial's window, the
// stale reads it invoked and the lost writes counted in it.
func (r *Runner) checkTrials(l *load, recs []results.Trial) ([]results.Check, error) {
	f, err := os.Open(l.hist.Path())
	if err != nil {
		return nil, fmt.Errorf("reading the history back: %w", err)
	}
	defer func() { _ = f.Close() }()
	ops, faults, warnings, err := history.ReadAll(f, l.runID)
	if err != nil {
		return nil, fmt.Errorf("reading the history back: %w", err)
	}
	for _, w := range warnings {
		l.log.Warn("history line skipped", zap.Int("line", w.Line), zap.String("why", w.Msg))
	}
	trials := make([]int, len(recs))
	for i, rec := range recs {
		trials[i] = rec.Trial
	}
	judged := check.CheckTrials(ops, faults, trials, check.Options{Timeout: r.Config.CheckTimeout})
	out := make([]results.Check, len(recs))
	for i, rec := range recs {
		out[i] = r.checkRecord(l, rec, judged[i], faults)
	}
	return out, nil
}

// checkRecord is the record of one trial's judgement; it writes the
// visualization of the first violating key.
func (r *Runner) checkRecord(l *load, rec results.Trial, j check.TrialResult, faults []history.Fault) results.Check {
	c := results.Check{
		Type: results.TypeCheck, RunID: rec.RunID, Trial: rec.Trial, Scenario: rec.Scenario,
		Verdict: string(j.Verdict), Ops: j.Ops, Keys: len(j.Keys), Violations: j.Violations,
		StaleReads: len(j.StaleReads), CheckNS: int64(j.Duration), Reason: string(j.Reason),
	}
	for _, w := range j.LostWrites {
		c.LostWrites = append(c.LostWrites, results.LostWrite{Key: w.Key, AgeNS: w.AgeNS})
	}
	for _, k := range j.Keys {
		if k.Verdict == check.Unknown && c.Reason == "" {
			c.Reason = fmt.Sprintf("key %s: %s", k.Key, k.Reason)
		}
	}
	if len(j.Violations) > 0 {
		c.Visualization = r.visualize(l, rec.Trial, j.Window, j.Violations[0], faults)
	}
	return c
}

// visualize writes porcupine's view of the violating key's window beside
// the history and returns its file name ("" when it could not be written).
func (r *Runner) visualize(l *load, trial int, window []history.Op, key string, faults []history.Fault) string {
	name := fmt.Sprintf("%s.%s.trial-%d.%s.html", r.Config.HistoryPrefix, l.runID, trial, check.FileSafe(key))
	if err := check.WriteWindowVisualizationFile(filepath.Join(r.Config.HistoryDir, name), window, key, faults); err != nil {
		l.log.Warn("writing the visualization of a violation", zap.Int("trial", trial), zap.String("key", key), zap.Error(err))
		return ""
	}
	return name
}

// tally adds the trials' verdicts to the workload's summary: the worst
// verdict, and the violations, stale reads and lost writes.
func tally(sum *results.WorkloadSummary, checks []results.Check) {
	sum.Verdict = results.VerdictLinearizable
	for _, c := range checks {
		switch {
		case c.Verdict == results.VerdictViolation:
			sum.Verdict = results.VerdictViolation
			sum.Violations++
		case c.Verdict == results.VerdictUnknown && sum.Verdict != results.VerdictViolation:
			sum.Verdict = results.VerdictUnknown
		}
		sum.StaleReads += c.StaleReads
		sum.LostWrites += len(c.LostWrites)
	}
	if len(checks) == 0 {
		sum.Verdict = results.VerdictUnknown
	}
}
