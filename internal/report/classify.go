package report

import (
	"fmt"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// scenarioInFlight is the scenario whose kill version 1 logs timed from the
// write's start.
const scenarioInFlight = "in-flight"

// scenarioControl is the positive-control scenario (fault wipe-all).
const scenarioControl = "control-data-loss"

// kind is what the analysis needs to know about a trial beyond its metrics:
// which fault and anchor it had and which statistics it belongs to.
type kind struct {
	// anchor is the trial's anchor, or the version 1 rule's when absent.
	anchor string
	// fault is the trial's fault, FaultKillLeader when absent or unknown.
	fault string
	// control is true for the positive control (fault wipe-all).
	control bool
	// ackBeforeKill is true for a write_start trial whose write was
	// acknowledged before the kill: not an in-flight kill.
	ackBeforeKill bool
	// afterAck is true for a kill-leader trial timed from the ack that
	// started from a healthy store (not back to back, no settle_error): the
	// trials of the delay-vs-recovery test.
	afterAck bool
	// victimBack and rounds are the classes of the victim-back and
	// election-rounds breakdowns.
	victimBack, rounds uint8
}

// Classes of the victim-back breakdown.
const (
	victimUnknown uint8 = iota
	victimBackFirst
	leaderFirst
)

// Classes of the election-rounds breakdown.
const (
	roundsUnknown uint8 = iota
	roundsOne
	roundsMore
)

// classify returns t's kind.
func classify(t *results.Trial) kind {
	k := kind{anchor: anchorOf(t), fault: results.FaultKillLeader}
	switch t.Fault {
	case results.FaultWipeAll, results.FaultPauseLeader, results.FaultIsolateLeader:
		k.fault = t.Fault
	}
	k.control = k.fault == results.FaultWipeAll
	k.ackBeforeKill = k.anchor == results.AnchorWriteStart && t.AckBeforeKill
	k.afterAck = k.anchor == results.AnchorWriteAck && k.fault == results.FaultKillLeader && !t.BackToBack && t.SettleError == ""
	switch {
	case t.VictimBackFirst == nil:
	case *t.VictimBackFirst:
		k.victimBack = victimBackFirst
	default:
		k.victimBack = leaderFirst
	}
	switch d, ok := termIncrease(t); {
	case !ok:
	case d == 1:
		k.rounds = roundsOne
	default:
		k.rounds = roundsMore
	}
	return k
}

// anchorOf is t's anchor; version 1 logs have none (nor do unknown values
// count): in-flight was timed from the write's start, every other scenario
// from the ack.
func anchorOf(t *results.Trial) string {
	if t.Anchor == results.AnchorWriteAck || t.Anchor == results.AnchorWriteStart {
		return t.Anchor
	}
	if t.Scenario == scenarioInFlight {
		return results.AnchorWriteStart
	}
	return results.AnchorWriteAck
}

// termIncrease is leader_after.term − leader_before.term when both terms
// are known (non-zero) and the term rose; ok is false otherwise.
func termIncrease(t *results.Trial) (uint64, bool) {
	if t.LeaderBefore == nil || t.LeaderAfter == nil || t.LeaderBefore.Term == 0 || t.LeaderAfter.Term <= t.LeaderBefore.Term {
		return 0, false
	}
	return t.LeaderAfter.Term - t.LeaderBefore.Term, true
}

// kindWarnings lists what is odd about t's fault and anchor, for warnings.
func kindWarnings(t *results.Trial) []string {
	var out []string
	switch t.Fault {
	case "", results.FaultKillLeader, results.FaultWipeAll, results.FaultPauseLeader, results.FaultIsolateLeader:
	default:
		out = append(out, "unknown fault "+quoteShort(t.Fault)+": analysed as kill-leader")
	}
	switch t.Anchor {
	case "", results.AnchorWriteAck, results.AnchorWriteStart:
	default:
		out = append(out, "unknown anchor "+quoteShort(t.Anchor)+": analysed as "+anchorOf(t))
	}
	if t.Scenario == scenarioControl && t.Fault != results.FaultWipeAll {
		out = append(out, "scenario "+scenarioControl+" without fault wipe-all: analysed as a failover trial")
	}
	return out
}

// quoteShort quotes s, cut to 40 bytes.
func quoteShort(s string) string { return fmt.Sprintf("%.40q", s) }
