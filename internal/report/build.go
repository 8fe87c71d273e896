package report

import (
	"fmt"
	"math"
)

// ScopeAfterAck describes the trials of the delay-vs-recovery test.
const ScopeAfterAck = "after-ack trials: anchor write_ack, fault kill-leader, not back-to-back, no settle_error"

// report computes the report. It consumes the accumulator: the columns
// are compacted and sorted in place.
func (a *accumulator) report(title string, runs []RunInfo) Report {
	r := Report{
		Title: title, Runs: runs, Trials: a.trials, FailoverTrials: a.outcomes.Total(), Outcomes: a.outcomes,
		InconclusiveShare:        Float(math.NaN()),
		OutcomeRuleDisagreements: a.disagreements,
		AckBeforeKill:            a.ackBeforeKill, InterruptedTrials: a.interrupted, UnhealthyStart: a.unhealthy,
		Success:        newSuccess(a.outcomes),
		PercentileMinN: PercentileMinN{P95: MinN95, P99: MinN99},
		Terms:          a.terms,
		points:         map[string][]point{},
		timeline:       a.timeline,
		scenarioRank:   scenarioRanker(runs),
	}
	a.control.finish()
	r.PositiveControl = a.control
	a.final.finish(runs)
	r.FinalRead = a.final
	r.Success = newSuccess(withFinalReadLosses(a.outcomes, a.final.Counted))
	// First what needs the columns aligned trial by trial.
	a.alignedStatistics(&r, runs)
	a.distributions(&r)
	for k, sm := range a.points {
		r.points[k] = sm.pts
	}
	if r.FailoverTrials > 0 {
		r.InconclusiveShare = Float(float64(a.outcomes.Inconclusive) / float64(r.FailoverTrials))
	}
	a.finishTerms(&r)
	return r
}

// alignedStatistics computes what reads the columns trial by trial: the
// correlation and the breakdowns.
func (a *accumulator) alignedStatistics(r *Report, runs []RunInfo) {
	r.DelayVsRecovery = a.spearman(runs)
	for _, g := range a.scenarios.groups {
		g.rank = r.scenarioRank(g.key)
	}
	r.Scenarios = a.scenarios.rows(a.recovery.values)
	r.Delays = a.delays.rows(a.recovery.values)
	r.Partitions = a.partitions.rows(a.recovery.values)
	a.scenarios, a.delays, a.partitions = grouping{}, grouping{}, grouping{}
	r.ByVictimBack = splitRows(a.flags, victimClass, victimLabels[:], a.election.values, a.recovery.values)
	r.ByRounds = splitRows(a.flags, roundsClass, roundsLabels[:], a.election.values, a.recovery.values)
	a.flags = nil
}

// distributions summarises the columns (which sorts them) and estimates
// the Kaplan–Meier median.
func (a *accumulator) distributions(r *Report) {
	r.Duration = a.duration.describe()
	r.Recovery = a.recovery.describe()
	r.Election = a.election.describe()
	r.WriteLatency = a.writeLatency.describe()
	r.ActualDelay = a.actualDel.describe()
	r.Settle = a.settle.describe()
	r.LeaderAge = a.leaderAge.describe()
	r.VictimBack = a.victimBack.describe()
	r.recoverySorted, r.electionSorted = a.recovery.values, a.election.values
	r.Recomputed = map[string]int{
		"duration": a.duration.recomputed, "recovery": a.recovery.recomputed, "election": a.election.recomputed,
		"write_latency": a.writeLatency.recomputed, "actual_delay": a.actualDel.recomputed,
	}
	events := append([]float64(nil), a.recovery.values...)
	r.RecoveryKM = KaplanMeier{
		N: len(events) + len(a.censored), Recovered: len(events), Censored: len(a.censored),
		Unobserved: a.unobserved, Median: Float(KaplanMeierMedian(events, a.censored)),
	}
}

func (a *accumulator) finishTerms(r *Report) {
	r.Terms.RetargetReasons = a.reasons.list()
	r.Terms.MeanDelta = Float(math.NaN())
	if a.terms.Known > 0 {
		r.Terms.MeanDelta = Float(a.termDeltaSum / float64(a.terms.Known))
	} else {
		r.Terms.MaxDelta = Float(math.NaN())
	}
}

// spearman tests actual delay against recovery over the after-ack trials
// with both, and says whether the runs' design allows more than a description.
func (a *accumulator) spearman(runs []RunInfo) Spearman {
	in := func(i int) bool {
		return a.flags[i]&flagAfterAck != 0 && !math.IsNaN(a.actualDel.values[i]) && !math.IsNaN(a.recovery.values[i])
	}
	n := 0
	for i := range a.flags {
		if in(i) {
			n++
		}
	}
	x, y := make([]float64, 0, n), make([]float64, 0, n)
	for i := range a.flags {
		if in(i) {
			x = append(x, a.actualDel.values[i])
			y = append(y, a.recovery.values[i])
		}
	}
	s := SpearmanTest(x, y)
	s.Scope = ScopeAfterAck
	s.DescriptiveReason = descriptiveReason(runs)
	s.Descriptive = s.DescriptiveReason != ""
	return s
}

// descriptiveReason says why the runs' design confounds the delay with the
// order and time of the trials; "" when every run was shuffled or repeated.
func descriptiveReason(runs []RunInfo) string {
	for _, run := range runs {
		switch {
		case !run.HasRunRecord:
			return fmt.Sprintf("run %s has no run record, so its design is unknown", run.RunID)
		case run.Schema < 2:
			return fmt.Sprintf("run %s is a v1 log, whose header does not say whether trials were shuffled or repeated", run.RunID)
		case !run.Shuffle && run.Repeat <= 1:
			return fmt.Sprintf("run %s ran one round in scenario order (shuffle false, repeat %d): the delay is confounded with the trials' order and time", run.RunID, max(run.Repeat, 1))
		}
	}
	return ""
}

// withFinalReadLosses counts each final-read loss that counts as a lost
// write of its own as a loss of its trial, which its own verification had
// found durable: the success rate and its bounds must not claim a write the
// final read found gone.
func withFinalReadLosses(o Outcomes, counted int) Outcomes {
	moved := min(counted, o.Durable)
	o.Durable -= moved
	o.Lost += counted
	return o
}
