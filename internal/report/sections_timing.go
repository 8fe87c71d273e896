package report

import (
	"fmt"
	"strings"
)

// percentileNote states once why a percentile cell shows a dash.
var percentileNote = fmt.Sprintf("%s: not estimated from fewer values — p95 needs n ≥ %d, p99 n ≥ %d (applies to every table).", dash, MinN95, MinN99)

func timingsSection(r *Report) section {
	s := section{title: "TIMINGS (ms)", table: &table{
		header: []string{"metric", "n", "missing", "mean", "median", "p95", "p99", "min", "max", "stddev"},
	}}
	s.add("Kaplan–Meier median recovery", kmLine(r.RecoveryKM))
	var absent []string
	for _, m := range []struct {
		name     string
		d        Distribution
		optional bool
	}{
		{"recovery", r.Recovery, false}, {"election", r.Election, false}, {"write latency (acked)", r.WriteLatency, false},
		{"actual delay", r.ActualDelay, false}, {"test duration", r.Duration, false},
		{"settle", r.Settle, true}, {"leader age at kill", r.LeaderAge, true}, {"victim back", r.VictimBack, true},
	} {
		d := m.d
		if m.optional && d.N == 0 {
			absent = append(absent, m.name)
			continue
		}
		s.table.rows = append(s.table.rows, []string{m.name, fmt.Sprint(d.N), fmt.Sprint(d.Missing),
			fmtMS(d.Mean), fmtMS(d.Median), fmtP95(d), fmtP99(d), fmtMS(d.Min), fmtMS(d.Max), fmtMS(d.StdDev)})
	}
	s.notes = append(s.notes,
		"recovery = first ok − kill sent; election = new leader − kill sent; write latency over acknowledged writes only; "+
			"settle = health wait before the trial (not back-to-back); victim back = victim back − kill sent; "+
			"percentiles: linear interpolation (type 7); stddev: sample (n − 1).",
		percentileNote)
	if len(absent) > 0 {
		s.notes = append(s.notes, "Not in this log: "+strings.Join(absent, ", ")+".")
	}
	if r.Outcomes.Inconclusive > 0 {
		s.notes = append(s.notes, fmt.Sprintf("Recovery excludes trials that never recovered before the timeout (%d inconclusive): the true mean and tail are higher; the Kaplan–Meier median counts them as censored.", r.Outcomes.Inconclusive))
	}
	if rec := recomputedList(r.Recomputed); rec != "" {
		s.notes = append(s.notes, "Recomputed from timestamps (not in the record): "+rec+".")
	}
	return s
}

func recomputedList(m map[string]int) string {
	var rec []string
	for _, k := range []string{"recovery", "election", "write_latency", "actual_delay", "duration"} {
		if n := m[k]; n > 0 {
			rec = append(rec, fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), n))
		}
	}
	return strings.Join(rec, ", ")
}

// kmLine is the Kaplan–Meier median with its counts.
func kmLine(km KaplanMeier) string {
	if km.N == 0 {
		return "n/a (no trial with a kill)"
	}
	counts := fmt.Sprintf("%d trials with a kill: %d recovered, %d censored at their last observation", km.N, km.Recovered, km.Censored)
	if km.Unobserved > 0 {
		counts += fmt.Sprintf("; %d without an observation time left out", km.Unobserved)
	}
	if !km.Median.OK() {
		return "not reached (" + counts + ")"
	}
	return fmt.Sprintf("%s ms (%s)", fmtMS(km.Median), counts)
}

const (
	victimNote = "victim back: the killed member ran again before the new leader was observed (it may have voted in the election); " +
		"new leader first: it did not; unknown: the record does not say."
	roundsNote = "term increase = leader_after.term − leader_before.term: 1 when the first election after the kill won, ≥ 2 when more rounds were needed; " +
		"unknown: a term is missing or did not rise."
)

// splitSection is a victim-back or election-rounds breakdown.
func splitSection(title, key string, rows []SplitRow, note string) section {
	s := section{title: title, notes: []string{note}, table: &table{header: []string{key, "trials",
		"election n", "election mean", "election median", "recovery n", "recovery mean", "recovery median"}}}
	for _, row := range rows {
		s.table.rows = append(s.table.rows, []string{row.Key, fmt.Sprint(row.Trials),
			fmt.Sprint(row.Election.N), fmtMS(row.Election.Mean), fmtMS(row.Election.Median),
			fmt.Sprint(row.Recovery.N), fmtMS(row.Recovery.Mean), fmtMS(row.Recovery.Median)})
	}
	return s
}
