package report

import (
	"fmt"
	"io"
)

// workloadToStderr says on stderr which workloads were not checked and, for
// CSV, which trials violated linearizability or lost writes, and which runs'
// workload columns the CSV lacks.
func workloadToStderr(stderr io.Writer, format string, a *Analysis, narrow []string) {
	for i := range a.Reports {
		for j := range a.Reports[i].Workload {
			w := &a.Reports[i].Workload[j]
			if w.HistoryStatus != HistoryAnalyzed {
				fmt.Fprintf(stderr, "analyze: run %s: workload history %s: verdicts not re-checked (%s)\n", w.RunID, w.HistoryStatus, w.HistoryNote)
			}
			if format == "csv" {
				workloadTrialsToStderr(stderr, w)
			}
		}
	}
	for _, run := range narrow {
		fmt.Fprintf(stderr, "analyze: run %s has a workload, but the CSV's first trial had none: its workload columns are left out (analyze it with --run %s)\n", run, run)
	}
}

func workloadTrialsToStderr(stderr io.Writer, w *RunWorkload) {
	for _, t := range w.Trials {
		if t.CountsAsViolation {
			fmt.Fprintf(stderr, "workload violation: run %s trial %d: %s, %d stale reads, keys %v\n", w.RunID, t.Trial, verdictCell(t), t.StaleReads, t.ViolationKeys)
		}
		for _, l := range t.Lost {
			fmt.Fprintf(stderr, "workload lost write: run %s trial %d key %q age %s ms\n", w.RunID, t.Trial, l.Key, fmtMS(l.AgeMS))
		}
	}
}
