package report

import (
	"fmt"
)

func scenarioSection(r *Report) section {
	return breakdownSection("SCENARIO BREAKDOWN", "scenario", r.Scenarios, r.AckBeforeKill > 0,
		[]string{"Failover trials only; scenarios in the order of the run header."})
}

func delaySection(r *Report) section {
	return breakdownSection("BY DELAY", "delay", r.Delays, r.AckBeforeKill > 0,
		[]string{"Nominal delay rounded to the millisecond, after the ack or after the write's start (the trial's anchor)."})
}

func breakdownSection(title, key string, groups []Group, ackColumn bool, notes []string) section {
	header := []string{key, "trials"}
	if ackColumn {
		header = append(header, "ack before kill")
		notes = append(notes, "ack before kill: write-start trials acknowledged before the kill, left out of the row's statistics.")
	}
	header = append(header, "durable", "lost", "ind. applied", "ind. absent", "inconclusive", "success", "Wilson 95% CI",
		"loss ≤ (CP 95%)", "recovery n", "mean", "median", "p95", "election mean")
	s := section{title: title, notes: notes, table: &table{header: header}}
	for _, g := range groups {
		o := g.Outcomes
		row := []string{g.Key, fmt.Sprint(g.Trials)}
		if ackColumn {
			row = append(row, fmt.Sprint(g.AckBeforeKill))
		}
		row = append(row, fmt.Sprint(o.Durable), fmt.Sprint(o.Lost),
			fmt.Sprint(o.IndeterminateApplied), fmt.Sprint(o.IndeterminateAbsent), fmt.Sprint(o.Inconclusive),
			fmtPct(g.Success.Rate), fmtCI(g.Success), fmtPct(g.Success.LossUpperCP), fmt.Sprint(g.Recovery.N),
			fmtMS(g.Recovery.Mean), fmtMS(g.Recovery.Median), fmtP95(g.Recovery), fmtMS(g.ElectionMean))
		s.table.rows = append(s.table.rows, row)
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
	for _, rc := range t.RetargetReasons {
		s.notes = append(s.notes, fmt.Sprintf("retargeted: %s: %s", rc.Reason, plural(rc.Trials, "trial", "trials")))
	}
	return s
}

func correlationSection(r *Report) section {
	c := r.DelayVsRecovery
	s := section{title: "DELAY VS RECOVERY"}
	switch {
	case c.N < 3:
		s.notes = []string{fmt.Sprintf("Spearman correlation not computed: %d after-ack trials have both an actual delay and a recovery time (3 needed).", c.N)}
	case !c.Rho.OK():
		s.notes = []string{fmt.Sprintf("Spearman correlation undefined over %d after-ack trials: actual delay or recovery is constant.", c.N)}
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
	if c.Descriptive {
		s.add("Reading", "descriptive only: "+c.DescriptiveReason)
	} else {
		s.add("Reading", "every run was shuffled or repeated: the delay is not confounded with the trials' order")
	}
	s.notes = append(s.notes, "Trials: "+c.Scope+".")
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
