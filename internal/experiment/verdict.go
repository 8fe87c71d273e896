package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/history"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// checkTrials reads the run's history back and judges each trial's
// operations: a linearizability verdict on the trial's window
// (check.TrialOps), the stale reads it invoked and the write-once keys it
// acknowledged that the final read missed.
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
	stale := staleByTrial(check.StaleReads(ops))
	lost := lostByTrial(check.LostWrites(ops, faults))
	out := make([]results.Check, 0, len(recs))
	for _, rec := range recs {
		out = append(out, r.checkTrial(l, rec, ops, trialFaults(faults, rec.Trial), stale[rec.Trial], lost[rec.Trial]))
	}
	return out, nil
}

// checkTrial judges one trial.
func (r *Runner) checkTrial(l *load, rec results.Trial, ops []history.Op, faults []history.Fault, stale int, lost []results.LostWrite) results.Check {
	window := check.TrialOps(ops, rec.Trial)
	began := time.Now()
	res := check.Check(window, check.Options{Timeout: r.Config.CheckTimeout, OpenStart: true})
	c := results.Check{
		Type: results.TypeCheck, RunID: rec.RunID, Trial: rec.Trial, Scenario: rec.Scenario,
		Verdict: string(res.Verdict), Ops: trialOpCount(ops, rec.Trial), Keys: len(res.Keys),
		Violations: res.Violations, StaleReads: stale, LostWrites: lost, CheckNS: int64(time.Since(began)),
	}
	for _, k := range res.Keys {
		if k.Verdict == check.Unknown && c.Reason == "" {
			c.Reason = fmt.Sprintf("key %s: %s", k.Key, k.Reason)
		}
	}
	if len(res.Violations) > 0 {
		c.Visualization = r.visualize(l, rec.Trial, window, res.Violations[0], faults)
	}
	return c
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// visualize writes porcupine's view of the violating key's window beside
// the history and returns its file name ("" when it could not be written).
func (r *Runner) visualize(l *load, trial int, window []history.Op, key string, faults []history.Fault) string {
	name := fmt.Sprintf("%s.%s.trial-%d.%s.html", r.Config.HistoryPrefix, l.runID, trial, unsafeName.ReplaceAllString(key, "_"))
	path := filepath.Join(r.Config.HistoryDir, name)
	f, err := os.Create(path)
	if err == nil {
		err = check.WriteWindowVisualization(f, window, key, faults)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		l.log.Warn("writing the visualization of a violation", zap.Int("trial", trial), zap.String("key", key), zap.Error(err))
		return ""
	}
	return name
}

func trialOpCount(ops []history.Op, trial int) int {
	n := 0
	for _, op := range ops {
		if op.Trial == trial && op.Client != history.FinalClient {
			n++
		}
	}
	return n
}

func trialFaults(faults []history.Fault, trial int) []history.Fault {
	var out []history.Fault
	for _, f := range faults {
		if f.Trial == trial {
			out = append(out, f)
		}
	}
	return out
}

func staleByTrial(reads []check.StaleRead) map[int]int {
	out := map[int]int{}
	for _, s := range reads {
		out[s.Read.Trial]++
	}
	return out
}

func lostByTrial(lost []check.LostWrite) map[int][]results.LostWrite {
	out := map[int][]results.LostWrite{}
	for _, w := range lost {
		out[w.Write.Trial] = append(out[w.Write.Trial], results.LostWrite{Key: w.Key, AgeNS: w.AgeNS})
	}
	return out
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
