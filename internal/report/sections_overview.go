package report

import (
	"fmt"
	"strings"
)

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
		if run.Schema >= 2 {
			fmt.Fprintf(&b, "; schema %d, repeat %d, shuffle %t, restart policy %s, min leader age %s ms",
				run.Schema, run.Repeat, run.Shuffle, orNA(run.RestartPolicy), fmtMS(run.MinLeaderAge))
		}
		s.add(run.RunID, b.String())
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
	if c := r.PositiveControl.Trials; c > 0 {
		s.add("Total trials", fmt.Sprintf("%d (%d failover, %d positive control)", r.Trials, r.FailoverTrials, c))
	} else {
		s.add("Total trials", fmt.Sprint(r.Trials))
	}
	successLines(&s, r.Success, r.Outcomes.Lost, r.FinalRead.Counted)
	if n := r.FinalRead.Counted; n > 0 {
		s.add("LOST WRITES (FINAL READ)", fmt.Sprintf("%d acknowledged %s found missing or changed by the final read: durability violation",
			n, pick(n, "write", "writes")))
	}
	o := r.Outcomes
	s.add("Outcomes", fmt.Sprintf("durable %d, lost %d, indeterminate_applied %d, indeterminate_absent %d, inconclusive %d",
		o.Durable, o.Lost, o.IndeterminateApplied, o.IndeterminateAbsent, o.Inconclusive))
	s.add("Inconclusive", fmt.Sprintf("%d of %d trials (%s): censored, no answer before the verify timeout; not in the success rate",
		o.Inconclusive, r.FailoverTrials, fmtPct(r.InconclusiveShare)))
	if n := r.OutcomeRuleDisagreements; n > 0 {
		s.add("Outcome rule", fmt.Sprintf("disagrees with %d recorded %s (see the warnings); the recorded outcomes are counted", n, pick(n, "outcome", "outcomes")))
	} else {
		s.add("Outcome rule", "agrees with every recorded outcome")
	}
	if n := r.AckBeforeKill; n > 0 {
		s.add("Ack before kill", fmt.Sprintf("%d write-start %s acknowledged before the kill: not in the in-flight rows", n, pick(n, "trial", "trials")))
	}
	if n := r.UnhealthyStart; n > 0 {
		s.add("Unhealthy start", fmt.Sprintf("%d %s began after the health wait gave up (settle_error): not in the delay-vs-recovery test",
			n, pick(n, "trial", "trials")))
	}
	if n := r.InterruptedTrials; n > 0 {
		s.add("Interrupted", fmt.Sprintf("%d %s stopped by the campaign's interruption", n, pick(n, "trial", "trials")))
	}
	s.add("Positive control", controlLine(r.PositiveControl))
	s.add("Average test duration", fmt.Sprintf("%s ms (n=%d)", fmtMS(r.Duration.Mean), r.Duration.N))
	s.add("Average recovery", fmt.Sprintf("%s ms (n=%d, %d without a recovery time)", fmtMS(r.Recovery.Mean), r.Recovery.N, r.Recovery.Missing))
	return s
}

// successLines adds the success rate and the bounds on the loss rate;
// trialLost trials were lost at their own verification, finalLost writes
// by the final read (counted in su as losses of their trials).
func successLines(s *section, su Success, trialLost, finalLost int) {
	if su.Decided == 0 {
		s.add("Success rate", "n/a (no durable or lost trials)")
		return
	}
	note := ""
	if finalLost > 0 {
		note = fmt.Sprintf("; %d lost by the final read %s", finalLost, pick(finalLost, "counts", "count"))
	}
	s.add("Success rate", fmt.Sprintf("%s (%d durable of %d durable + lost%s)", fmtPct(su.Rate), su.Durable, su.Decided, note))
	s.add("Wilson 95% CI", fmtCI(su))
	s.add("Loss rate", fmt.Sprintf("%d of %d; ≤ %s (exact Clopper–Pearson: upper limit of the two-sided 95%% interval)",
		su.Lost, su.Decided, fmtPct(su.LossUpperCP)))
	if su.Lost == 0 {
		if su.LossUpper.OK() {
			s.add("Zero losses", fmt.Sprintf("rule-of-three: loss rate ≤ %s (95%% confidence)", fmtPct(su.LossUpper)))
		} else {
			s.add("Zero losses", fmt.Sprintf("rule-of-three bound not given (%s)", su.LossUpperReason))
		}
		s.add("Trials to claim", fmt.Sprintf("%s trials with zero losses needed to claim ≥99%% at 95%% confidence; %s for ≥99.9%% (this report: %d)",
			fmtNum(su.Needed99), fmtNum(su.Needed999), su.Decided))
		return
	}
	if trialLost > 0 {
		s.add("LOST WRITES", fmt.Sprintf("%d acknowledged %s missing or changed after failover: durability violation", trialLost, pick(trialLost, "write", "writes")))
	}
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// controlLine is the positive control in one line.
func controlLine(c Control) string {
	switch c.Verdict {
	case ControlNone:
		return "none (no wipe-all trials)"
	case ControlFailed:
		return fmt.Sprintf("POSITIVE CONTROL FAILED: detector did not see the loss (%d of %d control trials read back durable)", c.Missed, c.Trials)
	case ControlWorks:
		return fmt.Sprintf("%s, %d lost — detection works", plural(c.Trials, "trial", "trials"), c.Detected)
	}
	return fmt.Sprintf("%s, none decided (lost or durable): inconclusive", plural(c.Trials, "trial", "trials"))
}

func controlSection(r *Report) section {
	c := r.PositiveControl
	s := section{title: "POSITIVE CONTROL"}
	s.add("Verdict", controlLine(c))
	o := c.Outcomes
	s.add("Outcomes", fmt.Sprintf("durable %d, lost %d, indeterminate_applied %d, indeterminate_absent %d, inconclusive %d",
		o.Durable, o.Lost, o.IndeterminateApplied, o.IndeterminateAbsent, o.Inconclusive))
	if len(c.MissedTrials) > 0 {
		s.add("Not detected", strings.Join(c.MissedTrials, ", "))
	}
	s.notes = []string{"Fault wipe-all: every node killed and restarted on empty data dirs after the ack, so the write is lost by construction. " +
		"These trials are not in any failover statistic."}
	return s
}

func finalReadSection(r *Report) section {
	f := r.FinalRead
	s := section{title: "FINAL READ"}
	for _, run := range r.Runs {
		if fr := run.FinalRead; fr != nil {
			v := fmt.Sprintf("%d keys, %d ok, %d lost, %d unanswered", fr.Keys, fr.OK, fr.Lost, fr.Unanswered)
			if fr.Error != "" {
				v += "; error: " + fr.Error
			}
			s.add(run.RunID, v)
		} else {
			s.add(run.RunID, noFinalRead(run))
		}
	}
	if f.LostRecords == 0 {
		return s
	}
	s.add("Lost records", fmt.Sprintf("%d: %d counted as lost writes, %d of positive-control trials (expected), %d of trials already recorded lost",
		f.LostRecords, f.Counted, f.ControlRecords, f.LostTrialRecords))
	s.table = &table{header: []string{"run", "trial", "key", "expected value", "read", "value read", "counted"}}
	for _, w := range f.LostWrites {
		counted := "yes"
		switch {
		case w.Control:
			counted = "no (positive control)"
		case w.TrialLost:
			counted = "no (trial recorded lost)"
		}
		s.table.rows = append(s.table.rows, []string{w.RunID, fmt.Sprint(w.Trial), w.Key, w.Value, w.Read, w.ReadValue, counted})
	}
	if n := f.LostRecords - len(f.LostWrites); n > 0 {
		s.notes = append(s.notes, fmt.Sprintf("… and %d more lost records (the first %d are listed).", n, MaxKeptLost))
	}
	return s
}
