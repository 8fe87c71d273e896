package report

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// ErrBadInput marks errors caused by the input or the options: a missing or
// unreadable log, no records at all, an unknown run or format.
var ErrBadInput = errors.New("bad input")

func badInput(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadInput, fmt.Sprintf(format, args...))
}

// MaxKeptWarnings is how many warnings an Analysis lists; all are counted.
const MaxKeptWarnings = 1000

// Input is one log to analyze.
type Input struct {
	Name string
	R    io.Reader
}

// Options select what Analyze reports.
type Options struct {
	// RunID, when set, restricts the analysis to that run.
	RunID string
	// Merge pools all runs into one report instead of one report per run.
	Merge bool
	// OnTrial, when set, is called for every trial analyzed, in log order.
	OnTrial func(t *results.Trial, m Metrics) error
}

// Warning is a problem with the input that did not stop the analysis.
type Warning struct {
	Input string `json:"input"`
	Line  int    `json:"line"`
	Msg   string `json:"message"`
}

// String is the warning as "input:line: message" (the message alone for a
// warning about a whole run).
func (w Warning) String() string {
	if w.Line == 0 {
		return w.Msg
	}
	return fmt.Sprintf("%s:%d: %s", w.Input, w.Line, w.Msg)
}

// InputSummary says how much of one input was usable.
type InputSummary struct {
	Name     string `json:"name"`
	Lines    int    `json:"lines"`
	Records  int    `json:"records"`
	Warnings int    `json:"warnings"`
}

// Analysis is everything the analyzer found in its inputs.
type Analysis struct {
	Inputs []InputSummary `json:"inputs"`
	// WarningCount counts all warnings; Warnings lists the first MaxKeptWarnings.
	WarningCount int       `json:"warning_count"`
	Warnings     []Warning `json:"warnings"`
	// Merged is true when all runs were pooled into one report.
	Merged  bool     `json:"merged"`
	Reports []Report `json:"reports"`
}

// Lost is the number of lost acknowledged writes over all reports.
func (a *Analysis) Lost() int {
	n := 0
	for i := range a.Reports {
		n += a.Reports[i].Outcomes.Lost
	}
	return n
}

func (a *Analysis) warn(input string, line int, format string, args ...any) {
	a.WarningCount++
	if len(a.Warnings) < MaxKeptWarnings {
		a.Warnings = append(a.Warnings, Warning{Input: input, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
}

// Analyze reads every input in order and reports on the runs found.
// Unusable lines become warnings; the error (wrapping ErrBadInput when the
// input is at fault) is for unreadable inputs, inputs without any record,
// and a RunID that matches no run.
func Analyze(inputs []Input, opts Options) (*Analysis, error) {
	a := &Analysis{Merged: opts.Merge, Warnings: []Warning{}}
	runs := map[string]*RunInfo{}
	var order []string
	accs := map[string]*accumulator{}
	var merged *accumulator
	if opts.Merge {
		merged = newAccumulator()
	}
	seen := map[string]bool{} // every run ID in the input, selected or not
	for _, in := range inputs {
		r := results.NewReader(in.R)
		sum := InputSummary{Name: in.Name}
		first := len(a.Warnings)
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%w: reading %s: %w", ErrBadInput, in.Name, err)
			}
			sum.Records++
			runID := recordRunID(rec)
			seen[runID] = true
			if opts.RunID != "" && runID != opts.RunID {
				continue
			}
			info := runs[runID]
			if info == nil {
				info = &RunInfo{RunID: runID}
				runs[runID] = info
				order = append(order, runID)
			}
			acc := merged
			if acc == nil {
				if acc = accs[runID]; acc == nil {
					acc = newAccumulator()
					accs[runID] = acc
				}
			}
			switch {
			case rec.Run != nil:
				if info.HasRunRecord {
					a.warn(in.Name, rec.Line, "run %s: a second run record (log concatenated twice?)", runID)
				}
				info.setRun(rec.Run)
			case rec.Summary != nil:
				if info.Complete {
					a.warn(in.Name, rec.Line, "run %s: a second summary record", runID)
				}
				info.Complete, info.Interrupted = true, rec.Summary.Interrupted
				info.EndedAt, info.SummaryTrials = rec.Summary.EndedAt, rec.Summary.Trials
			case rec.Trial != nil:
				info.Trials++
				m := Derive(rec.Trial)
				if bad := m.invalid(); len(bad) > 0 {
					a.warn(in.Name, rec.Line, "run %s trial %d: negative %s: counted as missing", runID, rec.Trial.Trial, strings.Join(bad, ", "))
				}
				acc.add(rec.Trial, m)
				if opts.OnTrial != nil {
					if err := opts.OnTrial(rec.Trial, m); err != nil {
						return nil, err
					}
				}
			}
		}
		sum.Lines, sum.Warnings = r.Lines(), r.WarningCount()
		for _, w := range r.Warnings() {
			a.warn(in.Name, w.Line, "%s", w.Msg)
		}
		a.WarningCount += r.WarningCount() - len(r.Warnings())
		mine := a.Warnings[first:]
		sort.SliceStable(mine, func(i, j int) bool { return mine[i].Line < mine[j].Line })
		a.Inputs = append(a.Inputs, sum)
	}
	if len(seen) == 0 {
		return nil, badInput("no results records in %s (%s)", inputNames(inputs), plural(a.WarningCount, "unusable line", "unusable lines"))
	}
	if opts.RunID != "" && runs[opts.RunID] == nil {
		return nil, badInput("run %q is not in %s (runs: %s)", opts.RunID, inputNames(inputs), strings.Join(sortedKeys(seen), ", "))
	}
	var infos []RunInfo
	for _, id := range order {
		info := runs[id]
		if !info.HasRunRecord {
			a.warn("", 0, "run %s: no run record (its first lines are missing)", id)
		}
		if info.Complete && info.SummaryTrials != info.Trials {
			a.warn("", 0, "run %s: the summary counts %d trials, the log holds %d", id, info.SummaryTrials, info.Trials)
		}
		infos = append(infos, *info)
	}
	if opts.Merge {
		title := "all runs (merged)"
		if len(infos) == 1 {
			title = "run " + infos[0].RunID
		}
		a.Reports = []Report{merged.report(title, infos)}
		return a, nil
	}
	for _, info := range infos {
		a.Reports = append(a.Reports, accs[info.RunID].report("run "+info.RunID, []RunInfo{info}))
	}
	return a, nil
}

func recordRunID(rec results.Record) string {
	switch {
	case rec.Run != nil:
		return rec.Run.RunID
	case rec.Trial != nil:
		return rec.Trial.RunID
	case rec.Summary != nil:
		return rec.Summary.RunID
	}
	return ""
}

func inputNames(inputs []Input) string {
	names := make([]string, len(inputs))
	for i, in := range inputs {
		names[i] = in.Name
	}
	return strings.Join(names, ", ")
}
