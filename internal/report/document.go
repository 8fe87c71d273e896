package report

import (
	"fmt"
	"strings"
)

// A document is the report laid out once as titled sections of
// label/value lines, tables and notes; the text, markdown and HTML
// renderers each draw it their own way.
type document struct {
	title   string
	input   section
	reports []reportDoc
}

type reportDoc struct {
	title    string
	report   *Report
	sections []section
}

type section struct {
	title string
	kv    [][2]string
	table *table
	notes []string
}

type table struct {
	header []string
	rows   [][]string
}

// MaxListedWarnings is how many warnings the rendered report lists.
const MaxListedWarnings = 20

func newDocument(a *Analysis) document {
	d := document{title: "ATOMIX FAILOVER TEST REPORT"}
	d.input = section{title: "INPUT"}
	for _, in := range a.Inputs {
		d.input.kv = append(d.input.kv, [2]string{in.Name, fmt.Sprintf("%d lines, %d records, %s",
			in.Lines, in.Records, plural(in.Warnings, "unusable line", "unusable lines"))})
	}
	d.input.kv = append(d.input.kv, [2]string{"Warnings", fmt.Sprint(a.WarningCount)})
	for i, w := range a.Warnings {
		if i == MaxListedWarnings {
			d.input.notes = append(d.input.notes, fmt.Sprintf("… and %d more warnings", a.WarningCount-MaxListedWarnings))
			break
		}
		d.input.notes = append(d.input.notes, "warning: "+w.String())
	}
	for i := range a.Reports {
		d.reports = append(d.reports, newReportDoc(&a.Reports[i]))
	}
	return d
}

func newReportDoc(r *Report) reportDoc {
	doc := reportDoc{title: "Report: " + r.Title, report: r}
	doc.sections = append(doc.sections, runsSection(r), overallSection(r), breakdownSection("SCENARIO BREAKDOWN", "scenario", r.Scenarios, nil))
	doc.sections = append(doc.sections, timingsSection(r))
	doc.sections = append(doc.sections, breakdownSection("BY DELAY", "delay (ms)", r.Delays,
		[]string{"Nominal delay rounded to the millisecond; in-flight delays count from the write's start."}))
	doc.sections = append(doc.sections, breakdownSection("BY PARTITION", "partition", r.Partitions, nil))
	doc.sections = append(doc.sections, termsSection(r), correlationSection(r))
	return doc
}

func runsSection(r *Report) section {
	s := section{title: "RUNS"}
	for _, run := range r.Runs {
		var b strings.Builder
		if run.HasRunRecord {
			fmt.Fprintf(&b, "target %s, store %s, %d partitions × %d replicas, seed %d, started %s",
				orNA(run.Target), orNA(run.Store), run.Partitions, run.Replicas, run.Seed, orNA(run.StartedAt))
		} else {
			b.WriteString("no run record")
		}
		switch {
		case run.Complete && run.Interrupted:
			fmt.Fprintf(&b, "; interrupted at %s", orNA(run.EndedAt))
		case run.Complete:
			fmt.Fprintf(&b, "; ended %s", orNA(run.EndedAt))
		default:
			b.WriteString("; no summary (crashed or still running)")
		}
		fmt.Fprintf(&b, "; %s", plural(run.Trials, "trial", "trials"))
		s.kv = append(s.kv, [2]string{run.RunID, b.String()})
	}
	return s
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

func overallSection(r *Report) section {
	s := section{title: "OVERALL RESULTS"}
	su := r.Success
	kv := func(k, v string) { s.kv = append(s.kv, [2]string{k, v}) }
	kv("Total trials", fmt.Sprint(r.Trials))
	if su.Decided == 0 {
		kv("Success rate", "n/a (no durable or lost trials)")
	} else {
		kv("Success rate", fmt.Sprintf("%s (%d durable of %d durable + lost)", fmtPct(su.Rate), su.Durable, su.Decided))
		kv("Wilson 95% CI", fmtCI(su))
	}
	if su.Lost == 0 && su.Decided > 0 {
		kv("Zero losses", fmt.Sprintf("rule-of-three: loss rate ≤ %s (95%% confidence)", fmtPct(su.LossUpper)))
		kv("Trials to claim", fmt.Sprintf("%s trials with zero losses needed to claim ≥99%% at 95%% confidence; %s for ≥99.9%% (this report: %d)",
			fmtNum(su.Needed99), fmtNum(su.Needed999), su.Decided))
	}
	if su.Lost > 0 {
		kv("LOST WRITES", fmt.Sprintf("%d acknowledged %s missing or changed after failover: durability violation", su.Lost, pick(su.Lost, "write", "writes")))
	}
	o := r.Outcomes
	kv("Outcomes", fmt.Sprintf("durable %d, lost %d, indeterminate_applied %d, indeterminate_absent %d, inconclusive %d",
		o.Durable, o.Lost, o.IndeterminateApplied, o.IndeterminateAbsent, o.Inconclusive))
	kv("Inconclusive", fmt.Sprintf("%d of %d trials (%s): censored, no answer before the verify timeout; not in the success rate",
		o.Inconclusive, r.Trials, fmtPct(r.InconclusiveShare)))
	kv("Average test duration", fmt.Sprintf("%s ms (n=%d)", fmtMS(r.Duration.Mean), r.Duration.N))
	kv("Average recovery", fmt.Sprintf("%s ms (n=%d, %d without a recovery time)", fmtMS(r.Recovery.Mean), r.Recovery.N, r.Recovery.Missing))
	return s
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func timingsSection(r *Report) section {
	s := section{title: "TIMINGS (ms)", table: &table{
		header: []string{"metric", "n", "missing", "mean", "median", "p95", "p99", "min", "max", "stddev"},
	}}
	for _, m := range []struct {
		name string
		d    Distribution
	}{
		{"recovery", r.Recovery}, {"election", r.Election}, {"write latency", r.WriteLatency},
		{"actual delay", r.ActualDelay}, {"test duration", r.Duration},
	} {
		d := m.d
		s.table.rows = append(s.table.rows, []string{m.name, fmt.Sprint(d.N), fmt.Sprint(d.Missing),
			fmtMS(d.Mean), fmtMS(d.Median), fmtMS(d.P95), fmtMS(d.P99), fmtMS(d.Min), fmtMS(d.Max), fmtMS(d.StdDev)})
	}
	s.notes = append(s.notes,
		"recovery = first ok − kill sent; election = new leader − kill sent; percentiles: linear interpolation (type 7); stddev: sample (n − 1).")
	if r.Outcomes.Inconclusive > 0 {
		s.notes = append(s.notes, fmt.Sprintf("Recovery excludes trials that never recovered before the timeout (%d inconclusive): the true mean and tail are higher.", r.Outcomes.Inconclusive))
	}
	var rec []string
	for _, k := range []string{"recovery", "election", "write_latency", "actual_delay", "duration"} {
		if n := r.Recomputed[k]; n > 0 {
			rec = append(rec, fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), n))
		}
	}
	if len(rec) > 0 {
		s.notes = append(s.notes, "Recomputed from timestamps (not in the record): "+strings.Join(rec, ", ")+".")
	}
	return s
}

func breakdownSection(title, key string, groups []Group, notes []string) section {
	s := section{title: title, notes: notes, table: &table{header: []string{key, "trials", "durable", "lost",
		"ind. applied", "ind. absent", "inconclusive", "success", "Wilson 95% CI", "recovery n", "mean", "median", "p95", "election mean"}}}
	for _, g := range groups {
		o := g.Outcomes
		s.table.rows = append(s.table.rows, []string{g.Key, fmt.Sprint(g.Trials), fmt.Sprint(o.Durable), fmt.Sprint(o.Lost),
			fmt.Sprint(o.IndeterminateApplied), fmt.Sprint(o.IndeterminateAbsent), fmt.Sprint(o.Inconclusive),
			fmtPct(g.Success.Rate), fmtCI(g.Success), fmt.Sprint(g.Recovery.N),
			fmtMS(g.Recovery.Mean), fmtMS(g.Recovery.Median), fmtMS(g.Recovery.P95), fmtMS(g.ElectionMean)})
	}
	return s
}

func termsSection(r *Report) section {
	t := r.Terms
	s := section{title: "TERM CHANGES"}
	s.kv = [][2]string{
		{"Both terms known", fmt.Sprintf("%d of %d trials", t.Known, t.Known+t.Unknown)},
		{"Term after kill", fmt.Sprintf("increased %d, unchanged %d, decreased %d", t.Increased, t.Unchanged, t.Decreased)},
		{"Term increase", fmt.Sprintf("mean %s, max %s", fmtNum(t.MeanDelta), fmtNum(t.MaxDelta))},
		{"Leader after kill", fmt.Sprintf("another member in %d of %d", t.NewLeader, t.Known)},
		{"Kills retargeted", fmt.Sprintf("%d (leader moved between write and kill)", t.Retargeted)},
	}
	return s
}

func correlationSection(r *Report) section {
	c := r.DelayVsRecovery
	s := section{title: "DELAY VS RECOVERY"}
	switch {
	case c.N < 3:
		s.notes = []string{fmt.Sprintf("Spearman correlation not computed: %d trials have both an actual delay and a recovery time (3 needed).", c.N)}
	case !c.Rho.OK():
		s.notes = []string{fmt.Sprintf("Spearman correlation undefined over %d trials: actual delay or recovery is constant.", c.N)}
	default:
		how := fmt.Sprintf("permutation test, %d permutations, seed %d", c.Permutations, c.Seed)
		if c.Method != "permutation" {
			how = "Student's t approximation, n − 2 degrees of freedom"
		}
		s.kv = [][2]string{
			{"Spearman rho", fmt.Sprintf("%s over %d trials (actual delay vs recovery, average ranks for ties)", fmtNum(c.Rho), c.N)},
			{"Two-sided p", fmt.Sprintf("%s (%s)", fmtP(c.P), how)},
		}
	}
	return s
}

// fmtP formats a p-value with four decimals, or "< 0.0001".
func fmtP(p Float) string {
	if !p.OK() {
		return "n/a"
	}
	if p < 0.0001 {
		return "< 0.0001"
	}
	return fmt.Sprintf("%.4f", float64(p))
}
