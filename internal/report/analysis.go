package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

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
	// Dir is the directory the log's relative paths (history, visualizations)
	// are relative to; "" is the working directory.
	Dir string
}

// Options select what Analyze reports.
type Options struct {
	// RunID, when set, restricts the analysis to that run.
	RunID string
	// Merge pools all runs into one report instead of one report per run.
	Merge bool
	// OnTrial, when set, is called for every trial analyzed, in log order.
	OnTrial func(t *results.Trial, m Metrics) error
	// CheckTimeout bounds the re-check of one trial's history (0: DefaultCheckTimeout).
	CheckTimeout time.Duration
	// NoRecheck reports the recorded check records only; histories are
	// still read for the load metrics.
	NoRecheck bool
	// MaxHistoryOps caps the operations held of one run's history (0: DefaultMaxHistoryOps).
	MaxHistoryOps int
	// OpenHistory opens a history log (nil: the file, when it is a regular one).
	OpenHistory func(path string) (io.ReadCloser, error)
	// LinkDir is the directory the report's links are relative to (the
	// output file's); "" leaves them as resolved from the log's directory.
	LinkDir string
	// VisualizationDir, when set, is where the re-check writes porcupine's
	// view of the first violating key of a trial whose check record names
	// none, as "<run>.trial-<n>.<key>.html".
	VisualizationDir string
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

// Lost is the number of lost acknowledged writes over all reports: failover
// trials recorded lost, positive-control trials recorded lost (the alarm a
// control exists to raise: a run with a control exits 1, as the campaign
// did), plus final-read lost records that are neither a positive control's
// nor a trial's already recorded lost.
func (a *Analysis) Lost() int {
	n := 0
	for i := range a.Reports {
		r := &a.Reports[i]
		n += r.Outcomes.Lost + r.PositiveControl.Detected + r.FinalRead.Counted
	}
	return n
}

// Violations is the number of trials whose workload check found a
// violation over all reports: a recorded or re-checked verdict violation,
// or a stale read.
func (a *Analysis) Violations() int {
	n := 0
	for i := range a.Reports {
		for _, w := range a.Reports[i].Workload {
			for _, t := range w.Trials {
				if t.CountsAsViolation {
					n++
				}
			}
		}
	}
	return n
}

// WorkloadLost is the number of the workload's lost writes over all reports
// (recorded or re-checked, counted once per key).
func (a *Analysis) WorkloadLost() int {
	n := 0
	for i := range a.Reports {
		for _, w := range a.Reports[i].Workload {
			for _, t := range w.Trials {
				n += t.LostWrites
			}
		}
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
	an := newAnalyzer(opts)
	for _, in := range inputs {
		if err := an.read(in); err != nil {
			return nil, err
		}
	}
	if len(an.seen) == 0 {
		return nil, badInput("no results records in %s (%s)", inputNames(inputs), plural(an.a.WarningCount, "unusable line", "unusable lines"))
	}
	if opts.RunID != "" && an.runs[opts.RunID] == nil {
		return nil, badInput("run %q is not in %s (runs: %s)", opts.RunID, inputNames(inputs), strings.Join(sortedKeys(an.seen), ", "))
	}
	return an.finish(), nil
}

func inputNames(inputs []Input) string {
	names := make([]string, len(inputs))
	for i, in := range inputs {
		names[i] = in.Name
	}
	return strings.Join(names, ", ")
}
