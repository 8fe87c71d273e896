package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Formats are the output formats, the first the default.
var Formats = []string{"text", "markdown", "json", "csv", "html"}

// Config is one invocation of the analyzer.
type Config struct {
	// Logs are the results logs to read, in order; "-" is standard input.
	Logs   []string
	Format string
	// RunID restricts the report to one run; Merge pools all runs.
	RunID string
	Merge bool
	// Out is the output file; empty or "-" is standard output.
	Out string
	// CheckTimeout bounds the re-check of one trial's history (0: DefaultCheckTimeout).
	CheckTimeout time.Duration
	// NoRecheck uses the recorded check records only.
	NoRecheck bool
	// MaxHistoryOps caps the operations held of one run's history (0: DefaultMaxHistoryOps).
	MaxHistoryOps int
}

// Result is what an invocation found, for the exit status.
type Result struct {
	Lost     int
	Warnings int
	// Violations counts the trials whose workload check found a violation;
	// WorkloadLost the workload's lost writes.
	Violations   int
	WorkloadLost int
}

// Execute reads cfg.Logs, writes the report in cfg.Format and returns the
// number of lost writes reported. Errors caused by the input or the
// configuration wrap ErrBadInput.
func Execute(cfg Config, stdin io.Reader, stdout, stderr io.Writer) (Result, error) {
	if cfg.Format == "" {
		cfg.Format = Formats[0]
	}
	if !slices.Contains(Formats, cfg.Format) {
		return Result{}, badInput("unknown format %q (want one of %s)", cfg.Format, strings.Join(Formats, ", "))
	}
	if len(cfg.Logs) == 0 {
		return Result{}, badInput("no results log given (a path, or - for standard input)")
	}
	if cfg.Merge && cfg.RunID != "" {
		return Result{}, badInput("--merge and --run exclude each other")
	}
	inputs, closeAll, err := openInputs(cfg.Logs, stdin)
	if err != nil {
		return Result{}, err
	}
	defer closeAll()

	var (
		a      *Analysis
		narrow []string
	)
	if cfg.Format == "csv" {
		a, narrow, err = writeCSVFile(cfg, inputs, stdout)
	} else {
		a, err = Analyze(inputs, analyzeOptions(cfg))
		if err == nil {
			err = writeOutput(cfg.Out, stdout, func(w io.Writer) error { return render(cfg.Format, w, a) })
		}
	}
	if err != nil {
		return Result{}, err
	}
	reportToStderr(stderr, cfg.Format, a)
	workloadToStderr(stderr, cfg.Format, a, narrow)
	return Result{Lost: a.Lost(), Warnings: a.WarningCount, Violations: a.Violations(), WorkloadLost: a.WorkloadLost()}, nil
}

// analyzeOptions are the options of cfg's analysis; links are made relative
// to the output file's directory, where the re-check's visualizations go.
func analyzeOptions(cfg Config) Options {
	o := Options{RunID: cfg.RunID, Merge: cfg.Merge, CheckTimeout: cfg.CheckTimeout, NoRecheck: cfg.NoRecheck, MaxHistoryOps: cfg.MaxHistoryOps}
	if cfg.Out != "" && cfg.Out != "-" {
		o.LinkDir = filepath.Dir(cfg.Out)
		o.VisualizationDir = o.LinkDir
	}
	return o
}

// reportToStderr counts the warnings on stderr; for CSV, which has no room
// for them, it also lists the first warnings and the final read's lost writes.
func reportToStderr(stderr io.Writer, format string, a *Analysis) {
	if a.WarningCount > 0 {
		fmt.Fprintf(stderr, "analyze: %s in the input\n", plural(a.WarningCount, "warning", "warnings"))
		if format == "csv" {
			for i, w := range a.Warnings {
				if i == MaxListedWarnings {
					break
				}
				fmt.Fprintf(stderr, "warning: %s\n", w)
			}
		}
	}
	if format != "csv" {
		return
	}
	for i := range a.Reports {
		f := &a.Reports[i].FinalRead
		for _, w := range f.LostWrites {
			fmt.Fprintf(stderr, "lost write (final read): %s\n", lostWriteLine(w))
		}
		if n := f.LostRecords - len(f.LostWrites); n > 0 {
			fmt.Fprintf(stderr, "lost write (final read): … and %d more\n", n)
		}
	}
}

// lostWriteLine describes a lost record in one line.
func lostWriteLine(w LostWrite) string {
	read := w.Read
	if w.ReadValue != "" {
		read += " " + fmt.Sprintf("%q", w.ReadValue)
	}
	s := fmt.Sprintf("%s:%d: run %s trial %d key %q expected %q read %s", w.Input, w.Line, w.RunID, w.Trial, w.Key, w.Value, read)
	switch {
	case w.Control:
		s += " (positive control: expected)"
	case w.TrialLost:
		s += " (trial already recorded lost)"
	}
	return s
}

func render(format string, w io.Writer, a *Analysis) error {
	switch format {
	case "markdown":
		return WriteMarkdown(w, a)
	case "json":
		return WriteJSON(w, a)
	case "html":
		return WriteHTML(w, a)
	}
	return WriteText(w, a)
}

func openInputs(paths []string, stdin io.Reader) ([]Input, func(), error) {
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	var inputs []Input
	usedStdin := false
	for _, p := range paths {
		if p == "-" {
			if usedStdin {
				closeAll()
				return nil, nil, badInput("standard input (-) given twice")
			}
			usedStdin = true
			inputs = append(inputs, Input{Name: "<stdin>", R: stdin})
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("%w: opening results log: %w", ErrBadInput, err)
		}
		files = append(files, f)
		inputs = append(inputs, Input{Name: p, R: f, Dir: filepath.Dir(p)})
	}
	return inputs, closeAll, nil
}

// writeOutput runs write on the output: stdout, or the file out, which is
// removed again if writing fails.
func writeOutput(out string, stdout io.Writer, write func(io.Writer) error) error {
	if out == "" || out == "-" {
		return write(stdout)
	}
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("creating report file: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing report file: %w", cerr)
	}
	if err != nil {
		_ = os.Remove(out)
	}
	return err
}

// writeCSVFile streams one CSV row per trial while analyzing; it also
// returns the runs whose workload columns are left out.
func writeCSVFile(cfg Config, inputs []Input, stdout io.Writer) (*Analysis, []string, error) {
	var (
		a      *Analysis
		narrow []string
	)
	err := writeOutput(cfg.Out, stdout, func(w io.Writer) error {
		cw, err := NewCSVWriter(w)
		if err != nil {
			return err
		}
		opts := analyzeOptions(cfg)
		opts.OnTrial = cw.Trial
		if a, err = Analyze(inputs, opts); err != nil {
			return err
		}
		narrow, err = cw.Finish(a)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return a, narrow, nil
}
