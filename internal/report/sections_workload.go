package report

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// workloadDefinitions are the notes under the workload tables.
var workloadDefinitions = []string{
	"Phases split a trial's operations by invocation time: before = before the fault start (the trial's first kill, pause or partition record), " +
		"during = from the fault start until recovered, after = from recovered on. Recovered = the later of clock_ns + t.first_ok and the heal " +
		"(end of the pause or partition); the heal alone without a first ok; censored without either (during runs to the trial's end, after is n/a).",
	"ok/s = ok operations invoked in the phase / the phase's length (before: from the trial's first invocation; after: to its last completion); " +
		"err = (fail + unknown) / operations invoked in the phase. Unavailability: per client, the longest time within the trial's span " +
		"(first invocation to last completion) without a successful completion by that client; p50 and max over the clients (scenario rows: over every client of every trial).",
	"Stale reads: reads invoked in the trial that read a value older than one acknowledged before they were invoked; final reads are not " +
		"stale reads (what they miss is a lost write or a violation). Lost writes: acknowledged write-once keys the final read did not find, " +
		"counted in the trial of the write or, when a wipe of every member (kill of target all) followed the ack, in the wipe's trial.",
	"Lost writes by age at the fault (fault start − ack, ms, the wipe's when one took the loss; bins hold their lower bound; <0: acknowledged " +
		"after the trial's last fault started; no age: no fault recorded), the union by key of the recorded check and the re-check. Verdict: " +
		"the re-check's, else the recorded one; unknown never counts as linearizable. A trial counts as a violation when either check says " +
		"violation or finds a stale read.",
}

// workloadSections are the sections of one run's workload analysis.
func workloadSections(w *RunWorkload) []section {
	out := []section{workloadSummarySection(w), workloadTrialSection(w)}
	if s, ok := workloadAnomalySection(w); ok {
		out = append(out, s)
	}
	return out
}

func workloadSummarySection(w *RunWorkload) section {
	s := section{title: "WORKLOAD (run " + w.RunID + ")", notes: workloadDefinitions}
	s.add("History", historyLine(w))
	s.add("Check", checkLine(w))
	s.add("Workload", workloadConfigLine(w.Config))
	s.add("Recorded summary", recordedSummaryLine(w))
	v := w.Verdicts
	s.add("Verdicts", fmt.Sprintf("linearizable %d, violation %d, unknown %d", v.Linearizable, v.Violation, v.Unknown))
	if n := countViolations(w); n > 0 {
		s.add("VIOLATIONS", fmt.Sprintf("%d %s not linearizable or with a stale read", n, pick(n, "trial", "trials")))
	}
	if n := countLost(w); n > 0 {
		s.add("LOST WRITES (WORKLOAD)", fmt.Sprintf("%d acknowledged write-once %s missing at the final read", n, pick(n, "key", "keys")))
	}
	s.table = &table{header: append(append([]string{"scenario", "trials", "lin.", "viol.", "unknown", "stale reads", "lost"},
		prefixed("lost ", ageBinLabels)...), phaseHeader()...)}
	for _, g := range w.Scenarios {
		row := []string{g.Scenario, strconv.Itoa(g.Trials), strconv.Itoa(g.Verdicts.Linearizable), strconv.Itoa(g.Verdicts.Violation),
			strconv.Itoa(g.Verdicts.Unknown), strconv.Itoa(g.StaleReads), strconv.Itoa(g.LostWrites)}
		for _, n := range g.LostByAge.cells() {
			row = append(row, strconv.Itoa(n))
		}
		s.table.rows = append(s.table.rows, append(row, phaseCells(g.UnavailabilityP50, g.UnavailabilityMax, g.Windows)...))
	}
	return s
}

func checkLine(w *RunWorkload) string {
	switch {
	case !w.Rechecked:
		return "not re-checked (--no-recheck): the recorded check records"
	case w.HistoryStatus == HistoryTooLarge:
		return "not re-checked (history too large): every trial unknown; the recorded check records still count"
	case w.HistoryStatus != HistoryAnalyzed:
		return "not re-checked (history not available): the recorded check records"
	}
	return fmt.Sprintf("re-checked here as the runner checks (check.CheckTrials: each trial's window from an open start, its stale reads "+
		"and lost writes), timeout %s s per trial", fmtNum(w.CheckTimeoutMS/1000))
}

func prefixed(prefix string, labels []string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = prefix + l
	}
	return out
}

func phaseHeader() []string {
	return []string{"unavail. p50", "unavail. max", "ok/s before", "ok/s during", "ok/s after", "err before", "err during", "err after"}
}

func phaseCells(p50, maxU Float, w Windows) []string {
	return []string{fmtMS(p50), fmtMS(maxU), fmtRate(w.Before.Throughput), fmtRate(w.During.Throughput), fmtRate(w.After.Throughput),
		fmtPct(w.Before.ErrorRate), fmtPct(w.During.ErrorRate), fmtPct(w.After.ErrorRate)}
}

func workloadTrialSection(w *RunWorkload) section {
	s := section{title: "WORKLOAD TRIALS (run " + w.RunID + ")", table: &table{header: append([]string{
		"trial", "scenario", "fault", "verdict", "from", "recorded", "stale reads", "lost (by age, ms)", "ops", "clients", "fault window (ms)",
	}, phaseHeader()...)}}
	for _, t := range w.Trials {
		row := []string{strconv.Itoa(t.Trial), t.Scenario, orNA(t.Fault), verdictCell(t), t.VerdictSource, orNA(t.RecordedVerdict),
			strconv.Itoa(t.StaleReads), lostCell(t), strconv.Itoa(t.Ops), strconv.Itoa(t.Clients), faultWindowCell(t)}
		s.table.rows = append(s.table.rows, append(row, phaseCells(t.UnavailabilityP50, t.UnavailabilityMax, t.Windows)...))
	}
	s.notes = []string{"Times in ms since the trial's start (clock_ns). from: where the verdict comes from (re-check, recorded, none)."}
	return s
}

func verdictCell(t WorkloadTrial) string {
	if t.Reason == "" {
		return t.Verdict
	}
	return t.Verdict + " (" + t.Reason + ")"
}

func lostCell(t WorkloadTrial) string {
	if t.LostWrites == 0 {
		return "0"
	}
	var parts []string
	for i, n := range t.LostByAge.cells() {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", ageBinLabels[i], n))
		}
	}
	return fmt.Sprintf("%d [%s]", t.LostWrites, strings.Join(parts, ", "))
}

func faultWindowCell(t WorkloadTrial) string {
	switch t.RecoveredBy {
	case RecoveredNoHistory:
		return "n/a"
	case RecoveredNoFault:
		return "no fault"
	case RecoveredCensored:
		return fmtMS(t.FaultStart) + "–? (censored)"
	}
	return fmt.Sprintf("%s–%s (%s)", fmtMS(t.FaultStart), fmtMS(t.Recovered), t.RecoveredBy)
}

// fmtRate formats operations per second; "n/a" when not available.
func fmtRate(f Float) string {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func historyLine(w *RunWorkload) string {
	switch w.HistoryStatus {
	case HistoryAnalyzed:
		return fmt.Sprintf("%s: %d operations, %d faults, %s", w.History, w.HistoryOps, w.HistoryFaults,
			plural(w.HistoryWarnings, "unusable line", "unusable lines"))
	case HistoryTooLarge:
		return fmt.Sprintf("%s: too large: %s", w.History, w.HistoryNote)
	}
	return "history not available: " + w.HistoryNote
}

func recordedSummaryLine(w *RunWorkload) string {
	r := w.Recorded
	if r == nil {
		return "none"
	}
	s := fmt.Sprintf("%d operations (ok %d, fail %d, unknown %d), verdict %s, %s, %s, %s",
		r.Ops, r.OK, r.Fail, r.Unknown, orNA(r.Verdict), plural(r.Violations, "violation", "violations"),
		plural(r.StaleReads, "stale read", "stale reads"), plural(r.LostWrites, "lost write", "lost writes"))
	if r.Error != "" {
		s += "; error: " + r.Error
	}
	return s
}

// workloadConfigLine is the workload configuration in one line.
func workloadConfigLine(raw json.RawMessage) string {
	var cfg struct {
		Clients   int     `json:"clients"`
		Rate      float64 `json:"rate"`
		OpTimeout int64   `json:"op_timeout_ns"`
		Mix       *struct {
			Put       int `json:"put"`
			Get       int `json:"get"`
			CAS       int `json:"cas"`
			WriteOnce int `json:"write_once"`
		} `json:"mix"`
	}
	if len(raw) == 0 {
		return "n/a (no workload configuration in the run header)"
	}
	if json.Unmarshal(raw, &cfg) != nil {
		return string(raw)
	}
	s := fmt.Sprintf("%d clients, %s ops/s, op timeout %s ms", cfg.Clients, fmtNum(Float(cfg.Rate)), fmtMS(Float(float64(cfg.OpTimeout)/1e6)))
	if m := cfg.Mix; m != nil {
		s += fmt.Sprintf(", mix put %d / get %d / cas %d / write-once %d", m.Put, m.Get, m.CAS, m.WriteOnce)
	}
	return s
}

func countViolations(w *RunWorkload) int {
	n := 0
	for _, t := range w.Trials {
		if t.CountsAsViolation {
			n++
		}
	}
	return n
}

func countLost(w *RunWorkload) int {
	n := 0
	for _, t := range w.Trials {
		n += t.LostWrites
	}
	return n
}

// workloadAnomalySection lists the violating keys and the lost writes.
func workloadAnomalySection(w *RunWorkload) (section, bool) {
	s := section{title: "WORKLOAD ANOMALIES (run " + w.RunID + ")", table: &table{header: []string{"trial", "anomaly", "key", "detail"}}}
	for _, t := range w.Trials {
		for _, k := range t.ViolationKeys {
			s.table.rows = append(s.table.rows, []string{strconv.Itoa(t.Trial), "not linearizable", k, orNA(t.Visualization)})
		}
		if t.StaleReads > 0 {
			s.table.rows = append(s.table.rows, []string{strconv.Itoa(t.Trial), "stale reads", "", strconv.Itoa(t.StaleReads)})
		}
		for _, l := range t.Lost {
			s.table.rows = append(s.table.rows, []string{strconv.Itoa(t.Trial), "lost write", l.Key,
				fmt.Sprintf("age %s ms (%s)", fmtMS(l.AgeMS), l.Source)})
		}
	}
	if len(s.table.rows) > MaxKeptLost {
		s.notes = append(s.notes, fmt.Sprintf("… and %d more (the first %d are listed; the JSON report has all).", len(s.table.rows)-MaxKeptLost, MaxKeptLost))
		s.table.rows = s.table.rows[:MaxKeptLost]
	}
	s.notes = append(s.notes, "detail of a key not linearizable: the recorded porcupine visualization of the trial's first violating key.")
	return s, len(s.table.rows) > 0
}
