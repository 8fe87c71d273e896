package report

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// analyzer is the state of one Analyze call: the runs met so far, their
// accumulators, and the few trials the final read's lost records refer to.
type analyzer struct {
	a      *Analysis
	opts   Options
	runs   map[string]*RunInfo
	order  []string
	accs   map[string]*accumulator
	merged *accumulator
	// seen holds every run ID in the input, selected or not.
	seen map[string]bool
	// marks holds the positive-control trials and the trials recorded lost.
	marks map[trialRef]mark
	// wl holds the runs with a workload; dir is the directory of the input being read.
	wl  map[string]*wlRun
	dir string
}

func newAnalyzer(opts Options) *analyzer {
	an := &analyzer{
		a:    &Analysis{Merged: opts.Merge, Warnings: []Warning{}},
		opts: opts, runs: map[string]*RunInfo{}, accs: map[string]*accumulator{},
		seen: map[string]bool{}, marks: map[trialRef]mark{}, wl: map[string]*wlRun{},
	}
	if opts.Merge {
		an.merged = newAccumulator()
	}
	return an
}

// read analyzes one input; its warnings are listed in line order.
func (an *analyzer) read(in Input) error {
	r := results.NewReader(in.R)
	sum := InputSummary{Name: in.Name}
	first := len(an.a.Warnings)
	an.dir = in.Dir
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: reading %s: %w", ErrBadInput, in.Name, err)
		}
		sum.Records++
		if err := an.record(in.Name, rec); err != nil {
			return err
		}
	}
	sum.Lines, sum.Warnings = r.Lines(), r.WarningCount()
	for _, w := range r.Warnings() {
		an.a.warn(in.Name, w.Line, "%s", w.Msg)
	}
	an.a.WarningCount += r.WarningCount() - len(r.Warnings())
	mine := an.a.Warnings[first:]
	sort.SliceStable(mine, func(i, j int) bool { return mine[i].Line < mine[j].Line })
	an.a.Inputs = append(an.a.Inputs, sum)
	return nil
}

// record analyzes one record of input.
func (an *analyzer) record(input string, rec results.Record) error {
	runID := recordRunID(rec)
	an.seen[runID] = true
	if an.opts.RunID != "" && runID != an.opts.RunID {
		return nil
	}
	info, acc := an.run(runID)
	an.workloadRecord(input, rec)
	switch {
	case rec.Run != nil:
		if info.HasRunRecord {
			an.a.warn(input, rec.Line, "run %s: a second run record (log concatenated twice?)", runID)
		}
		info.setRun(rec.Run)
	case rec.Summary != nil:
		if info.Complete {
			an.a.warn(input, rec.Line, "run %s: a second summary record", runID)
		}
		info.Complete, info.Interrupted = true, rec.Summary.Interrupted
		info.EndedAt, info.SummaryTrials, info.FinalRead = rec.Summary.EndedAt, rec.Summary.Trials, rec.Summary.FinalRead
	case rec.Trial != nil:
		return an.trial(input, rec.Line, rec.Trial, info, acc)
	case rec.Lost != nil:
		return an.lost(input, rec.Line, rec.Lost, info, acc)
	}
	return nil
}

// run returns the run's info and the accumulator of its report, creating them.
func (an *analyzer) run(runID string) (*RunInfo, *accumulator) {
	info := an.runs[runID]
	if info == nil {
		info = &RunInfo{RunID: runID, MinLeaderAge: nan()}
		an.runs[runID] = info
		an.order = append(an.order, runID)
	}
	if an.merged != nil {
		return info, an.merged
	}
	acc := an.accs[runID]
	if acc == nil {
		acc = newAccumulator()
		an.accs[runID] = acc
	}
	return info, acc
}

func (an *analyzer) trial(input string, line int, t *results.Trial, info *RunInfo, acc *accumulator) error {
	info.Trials++
	m := Derive(t)
	k := classify(t)
	if bad := m.invalid(); len(bad) > 0 {
		an.a.warn(input, line, "run %s trial %d: negative %s: counted as missing", t.RunID, t.Trial, strings.Join(bad, ", "))
	}
	for _, w := range kindWarnings(t) {
		an.a.warn(input, line, "run %s trial %d: %s", t.RunID, t.Trial, w)
	}
	if rule := results.Outcome(t); rule != t.Outcome {
		acc.disagreements++
		an.a.warn(input, line, "run %s trial %d: recorded outcome %s, the outcome rule gives %s (the recorded outcome is counted)",
			t.RunID, t.Trial, t.Outcome, rule)
	}
	var mk mark
	if k.control {
		mk |= markControl
	}
	if t.Outcome == results.OutcomeLost {
		mk |= markLost
	}
	if mk != 0 {
		an.marks[trialRef{t.RunID, t.Trial}] |= mk
	}
	acc.add(t, m, k, info.verifyTimeoutNS)
	if an.opts.OnTrial != nil {
		return an.opts.OnTrial(t, m)
	}
	return nil
}

func (an *analyzer) lost(input string, line int, l *results.Lost, info *RunInfo, acc *accumulator) error {
	info.LostRecords++
	acc.final.addLost(newLostWrite(input, line, l, an.marks[trialRef{l.RunID, l.Trial}]))
	return nil
}

// finish checks the runs and makes the reports.
func (an *analyzer) finish() *Analysis {
	var infos []RunInfo
	for _, id := range an.order {
		info := an.runs[id]
		an.checkRun(info)
		infos = append(infos, *info)
	}
	if an.merged != nil {
		title := "all runs (merged)"
		if len(infos) == 1 {
			title = "run " + infos[0].RunID
		}
		an.a.Reports = []Report{an.merged.report(title, infos)}
	} else {
		for _, info := range infos {
			an.a.Reports = append(an.a.Reports, an.accs[info.RunID].report("run "+info.RunID, []RunInfo{info}))
		}
	}
	for i := range an.a.Reports {
		r := &an.a.Reports[i]
		an.workloads(r)
		if c := r.PositiveControl; c.Verdict == ControlFailed {
			an.a.warn("", 0, "%s: positive control failed: detector did not see the loss in %d of %d control trials (%s)",
				r.Title, c.Missed, c.Trials, strings.Join(c.MissedTrials, ", "))
		}
	}
	return an.a
}

// checkRun warns about what is inconsistent in a whole run.
func (an *analyzer) checkRun(info *RunInfo) {
	id := info.RunID
	if !info.HasRunRecord {
		an.a.warn("", 0, "run %s: no run record (its first lines are missing)", id)
	}
	if info.Complete && info.SummaryTrials != info.Trials {
		an.a.warn("", 0, "run %s: the summary counts %d trials, the log holds %d", id, info.SummaryTrials, info.Trials)
	}
	if fr := info.FinalRead; fr != nil && fr.Lost != info.LostRecords {
		an.a.warn("", 0, "run %s: the summary's final read counts %d lost keys, the log holds %d lost records", id, fr.Lost, info.LostRecords)
	}
	if fr := info.FinalRead; fr == nil && info.LostRecords > 0 {
		an.a.warn("", 0, "run %s: %d lost records but no final read in a summary", id, info.LostRecords)
	}
}

func recordRunID(rec results.Record) string {
	switch {
	case rec.Run != nil:
		return rec.Run.RunID
	case rec.Trial != nil:
		return rec.Trial.RunID
	case rec.Summary != nil:
		return rec.Summary.RunID
	case rec.Lost != nil:
		return rec.Lost.RunID
	case rec.Check != nil:
		return rec.Check.RunID
	}
	return ""
}
