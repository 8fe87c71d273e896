package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// csvPhases are the phases of the workload columns, in column order.
var csvPhases = []string{"before", "during", "after", "all"}

// WorkloadCSVColumns follow CSVColumns when the CSV's first trial had a
// workload: the trial's clock_ns, fault_duration_ns, isolated_from and
// t.heal, then its workload analysis (see WorkloadTrial): times in integer
// ns since the trial's start (unavailability in ns), throughput in ok
// operations per second, error rates as fractions, empty cells for values
// not available. violation_keys are separated by ";".
var WorkloadCSVColumns = workloadCSVColumns()

func workloadCSVColumns() []string {
	cols := []string{"clock_ns", "fault_duration_ns", "isolated_from", "t_heal",
		"workload_verdict", "workload_verdict_source", "workload_reason", "recorded_verdict", "recheck_verdict",
		"violation_keys", "stale_reads", "counts_as_violation", "lost_writes"}
	cols = append(cols, ageBinColumns...)
	cols = append(cols, "ops", "clients", "unavailability_p50_ns", "unavailability_max_ns", "fault_start_ns", "recovered_ns", "recovered_by")
	for _, p := range csvPhases {
		for _, c := range []string{"ops", "ok", "fail", "unknown", "length_ns", "throughput_ops_s", "error_rate"} {
			cols = append(cols, p+"_"+c)
		}
	}
	return append(cols, "visualization")
}

// appendTrialWorkload appends the workload fields of the trial record.
func appendTrialWorkload(r []string, t *results.Trial) []string {
	dur := ""
	if t.FaultDurationNS != 0 {
		dur = strconv.FormatInt(t.FaultDurationNS, 10)
	}
	return append(r, int64Cell(t.ClockNS), dur, t.IsolatedFrom, int64Cell(t.T.Heal))
}

func int64Cell(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

// nsCell is a value in ms as integer ns; empty when not available.
func nsCell(ms Float) string {
	if !ms.OK() || math.IsInf(float64(ms), 0) {
		return ""
	}
	return strconv.FormatInt(int64(math.Round(float64(ms)*1e6)), 10)
}

// floatCell is f in full precision; empty when not available.
func floatCell(f Float) string {
	if !f.OK() || math.IsInf(float64(f), 0) {
		return ""
	}
	return strconv.FormatFloat(float64(f), 'g', -1, 64)
}

// workloadCells are the analysis columns of one trial; empty cells when the
// analysis has no such trial.
func workloadCells(t *WorkloadTrial) []string {
	n := len(WorkloadCSVColumns) - 4
	if t == nil {
		return make([]string, n)
	}
	r := make([]string, 0, n)
	r = append(r, t.Verdict, t.VerdictSource, t.Reason, t.RecordedVerdict, t.RecheckVerdict,
		strings.Join(t.ViolationKeys, ";"), strconv.Itoa(t.StaleReads), strconv.FormatBool(t.CountsAsViolation), strconv.Itoa(t.LostWrites))
	for _, b := range t.LostByAge.cells() {
		r = append(r, strconv.Itoa(b))
	}
	r = append(r, strconv.Itoa(t.Ops), strconv.Itoa(t.Clients), nsCell(t.UnavailabilityP50), nsCell(t.UnavailabilityMax),
		nsCell(t.FaultStart), nsCell(t.Recovered), t.RecoveredBy)
	for _, w := range []Window{t.Windows.Before, t.Windows.During, t.Windows.After, t.Windows.All} {
		r = append(r, strconv.Itoa(w.Ops), strconv.Itoa(w.OK), strconv.Itoa(w.Fail), strconv.Itoa(w.Unknown),
			nsCell(w.LengthMS), floatCell(w.Throughput), floatCell(w.ErrorRate))
	}
	return append(r, t.Visualization)
}

// Finish writes the held rows with their workload columns from a, then
// flushes. It returns the runs with a workload whose rows lack its columns
// (the CSV's first trial had none).
func (c *CSVWriter) Finish(a *Analysis) ([]string, error) {
	trials := map[trialRef]*WorkloadTrial{}
	for i := range a.Reports {
		for j := range a.Reports[i].Workload {
			w := &a.Reports[i].Workload[j]
			for k := range w.Trials {
				trials[trialRef{w.RunID, w.Trials[k].Trial}] = &w.Trials[k]
			}
		}
	}
	for _, h := range c.held {
		if err := c.w.Write(append(h.cells, workloadCells(trials[h.ref])...)); err != nil {
			return nil, fmt.Errorf("writing CSV row for trial %d of run %s: %w", h.ref.trial, h.ref.run, err)
		}
	}
	c.held = nil
	return c.narrow, c.Flush()
}
