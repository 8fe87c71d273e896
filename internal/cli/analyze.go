package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atomix-failover/atomix-failover/internal/report"
)

// analyzeMemoryLimit is the analyzer's soft memory limit
// (runtime/debug.SetMemoryLimit) without a workload history.
const analyzeMemoryLimit = 160 << 20

// analyzeMemoryLimitFor is the soft memory limit for histories of at most
// maxOps operations: the base limit, plus their size at the re-check's
// peak (the held history, its records for the checker and the checker's
// copies of them), plus the checker's search state.
func analyzeMemoryLimitFor(maxOps int) int64 {
	return analyzeMemoryLimit + min(int64(maxOps), 1<<40)*report.HistoryOpBytes + report.RecheckMemoryLimit
}

func newAnalyzeCommand(s Streams) *cobra.Command {
	var cfg report.Config
	cmd := &cobra.Command{
		Use:   "analyze LOG...",
		Short: "Report on a results log (the same report as `go run analyze-results.go LOG`)",
		Long: `Report on one or more results logs ("-" reads standard input).
Each run is reported on its own unless --merge pools them or --run picks one.
A run with a workload has its history log (named in its header) read and
every trial re-checked (linearizability, stale reads, lost writes) unless
--no-recheck; a missing history is a warning, and the recorded check
records are reported instead. With --out, a violation the check records do
not visualize gets porcupine's view written beside the report, and linked.
Exit status: 0 no lost write and no violation in the report, 1 a lost
acknowledged write (trial, final read or workload) or a workload violation
(linearizability or a stale read, recorded or re-checked) was found (the
report is printed first), 2 bad usage or unusable input.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(errors.New("analyze: give at least one results log (or - for standard input)"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(s, cfg, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Format, "format", report.Formats[0], "output format: "+strings.Join(report.Formats, ", "))
	f.StringVar(&cfg.RunID, "run", "", "report only the run with this ID")
	f.BoolVar(&cfg.Merge, "merge", false, "pool all runs into one report")
	f.StringVarP(&cfg.Out, "out", "o", "", "write the report to this file (default: standard output)")
	f.DurationVar(&cfg.CheckTimeout, "check-timeout", report.DefaultCheckTimeout, "bound on the re-check of one trial's history (a trial not decided by then is unknown)")
	f.BoolVar(&cfg.NoRecheck, "no-recheck", false, "do not re-check workload histories: report the recorded check records")
	f.IntVar(&cfg.MaxHistoryOps, "max-history-ops", report.DefaultMaxHistoryOps, "most operations of one run's history held; a larger history is not loaded (its trials are unknown)")
	return cmd
}

func runAnalyze(s Streams, cfg report.Config, args []string) error {
	cfg.Logs = args
	if cfg.CheckTimeout <= 0 || cfg.MaxHistoryOps <= 0 {
		return usageError(errors.New("analyze: --check-timeout and --max-history-ops must be positive"))
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// The analyzer keeps about 52 bytes per trial and, for a workload,
		// at most --max-history-ops operations of one run at a time (up to
		// report.HistoryOpBytes each while they are re-checked); a soft
		// limit keeps the garbage collector's headroom from doubling that.
		debug.SetMemoryLimit(analyzeMemoryLimitFor(cfg.MaxHistoryOps))
	}
	res, err := report.Execute(cfg, s.Stdin, s.Stdout, s.Stderr)
	if err != nil {
		return usageError(fmt.Errorf("analyze: %w", err))
	}
	if res.Lost+res.WorkloadLost+res.Violations > 0 {
		return &ExitError{Code: ExitViolation, Err: fmt.Errorf("analyze: %s", violationSummary(res))}
	}
	return nil
}

// violationSummary says what made the analysis exit 1.
func violationSummary(res report.Result) string {
	var parts []string
	if res.Lost > 0 {
		parts = append(parts, fmt.Sprintf("acknowledged writes lost: %d", res.Lost))
	}
	if res.WorkloadLost > 0 {
		parts = append(parts, fmt.Sprintf("workload writes lost: %d", res.WorkloadLost))
	}
	if res.Violations > 0 {
		parts = append(parts, fmt.Sprintf("trials violating linearizability: %d", res.Violations))
	}
	return strings.Join(parts, "; ")
}
