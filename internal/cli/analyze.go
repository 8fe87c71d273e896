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

// analyzeMemoryLimit is the analyzer's soft memory limit (runtime/debug.SetMemoryLimit).
const analyzeMemoryLimit = 160 << 20

func newAnalyzeCommand(s Streams) *cobra.Command {
	var cfg report.Config
	cmd := &cobra.Command{
		Use:   "analyze LOG...",
		Short: "Report on a results log (the same report as `go run analyze-results.go LOG`)",
		Long: `Report on one or more results logs ("-" reads standard input).
Each run is reported on its own unless --merge pools them or --run picks one.
Exit status: 0 no lost write in the report, 1 a lost acknowledged write was
recorded (the report is printed first), 2 bad usage or unusable input.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(errors.New("analyze: give at least one results log (or - for standard input)"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Logs = args
			if os.Getenv("GOMEMLIMIT") == "" {
				// The analyzer keeps about 52 bytes per trial; a soft limit
				// keeps the garbage collector's headroom from doubling that.
				debug.SetMemoryLimit(analyzeMemoryLimit)
			}
			res, err := report.Execute(cfg, s.Stdin, s.Stdout, s.Stderr)
			if err != nil {
				return usageError(fmt.Errorf("analyze: %w", err))
			}
			if res.Lost > 0 {
				return &ExitError{Code: ExitViolation, Err: fmt.Errorf("analyze: acknowledged writes lost: %d", res.Lost)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Format, "format", report.Formats[0], "output format: "+strings.Join(report.Formats, ", "))
	f.StringVar(&cfg.RunID, "run", "", "report only the run with this ID")
	f.BoolVar(&cfg.Merge, "merge", false, "pool all runs into one report")
	f.StringVarP(&cfg.Out, "out", "o", "", "write the report to this file (default: standard output)")
	return cmd
}
