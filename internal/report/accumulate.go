package report

import (
	"math"
	"strconv"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// Per-trial flags of the failover trials, aligned with the columns.
const (
	flagAfterAck  = 1 << 0 // in the delay-vs-recovery test
	victimShift   = 1      // 2 bits: victim-back class
	roundsShift   = 3      // 2 bits: election-rounds class
	classBitsMask = 3
)

// delayKey identifies a row of the delay breakdown.
type delayKey struct {
	anchor string
	ms     int64
}

// accumulator collects what a report needs from a stream of trials:
// counts, and per failover trial one float64 per aligned metric (for the
// percentiles, breakdowns and the correlation), one flags byte and one
// group index per breakdown. Positive-control trials are only counted.
type accumulator struct {
	trials                                    int
	outcomes                                  Outcomes
	recovery, election, actualDel             column // aligned
	duration, writeLatency                    column
	settle, leaderAge, victimBack             column
	flags                                     []uint8
	censored                                  []float64
	unobserved                                int
	points                                    map[string]*sampler
	scenarios, delays, partitions             grouping
	scenarioIndex                             map[string]int
	delayIndex                                map[delayKey]int
	partitionIndex                            map[int]int
	terms                                     TermChanges
	termDeltaSum                              float64
	reasons                                   reasonCounter
	ackBeforeKill, interrupted, disagreements int
	unhealthy                                 int
	control                                   Control
	final                                     FinalReadReport
	timeline                                  []timelineEntry
}

func newAccumulator() *accumulator {
	return &accumulator{
		recovery: column{aligned: true}, election: column{aligned: true}, actualDel: column{aligned: true},
		points:        map[string]*sampler{},
		terms:         TermChanges{MaxDelta: Float(math.NaN())},
		scenarioIndex: map[string]int{}, delayIndex: map[delayKey]int{}, partitionIndex: map[int]int{},
	}
}

// add counts one trial; verifyTimeoutNS is its run's verify timeout (0 when unknown).
func (a *accumulator) add(t *results.Trial, m Metrics, k kind, verifyTimeoutNS int64) {
	a.trials++
	if len(a.timeline) < MaxTimelineRows {
		a.timeline = append(a.timeline, newTimelineEntry(t, k))
	}
	if k.control {
		a.control.add(t)
		return
	}
	a.outcomes.add(t.Outcome)
	a.addColumns(t, m, k)
	a.addCensored(t, m, verifyTimeoutNS)
	a.addGroups(t, m, k)
	a.addTerms(t)
	if t.Retargeted {
		a.reasons.add(t.RetargetReason)
	}
	if k.ackBeforeKill {
		a.ackBeforeKill++
	}
	if t.Interrupted {
		a.interrupted++
	}
	if t.SettleError != "" {
		a.unhealthy++
	}
}

func (a *accumulator) addColumns(t *results.Trial, m Metrics, k kind) {
	a.duration.add(m.Duration)
	a.recovery.add(m.Recovery)
	a.election.add(m.Election)
	if t.Write.Status == results.WriteOK {
		a.writeLatency.add(m.WriteLatency)
	}
	a.actualDel.add(m.ActualDelay)
	if !t.BackToBack {
		a.settle.add(m.Settle)
	}
	a.leaderAge.add(m.LeaderAge)
	if t.T.KillSent != nil {
		a.victimBack.add(m.VictimBack)
	}
	f := k.victimBack<<victimShift | k.rounds<<roundsShift
	if k.afterAck {
		f |= flagAfterAck
	}
	a.flags = append(a.flags, f)
	if m.ActualDelay.OK && m.Recovery.OK && !k.ackBeforeKill {
		scenario := scenarioKey(t)
		sm := a.points[scenario]
		if sm == nil {
			sm = &sampler{stride: 1}
			a.points[scenario] = sm
		}
		sm.add(point{m.ActualDelay.MS(), m.Recovery.MS()})
	}
}

// addCensored records a trial whose kill was sent but that never recovered,
// censored at its last observation (censorTime).
func (a *accumulator) addCensored(t *results.Trial, m Metrics, verifyTimeoutNS int64) {
	if m.Recovery.OK || m.Recovery.Invalid || t.T.KillSent == nil {
		return
	}
	if ns, ok := censorTime(t, verifyTimeoutNS); ok {
		a.censored = append(a.censored, float64(ns)/1e6)
	} else {
		a.unobserved++
	}
}

func scenarioKey(t *results.Trial) string {
	if t.Scenario == "" {
		return "(none)"
	}
	return t.Scenario
}

func (a *accumulator) addGroups(t *results.Trial, m Metrics, k kind) {
	scenario := scenarioKey(t)
	add(&a.scenarios, a.scenarioIndex, scenario, func() *groupAcc { return &groupAcc{key: scenario} }, t, m, k.ackBeforeKill)
	dk := delayKey{anchor: k.anchor, ms: int64(math.Round(float64(t.DelayNS) / 1e6))}
	add(&a.delays, a.delayIndex, dk, func() *groupAcc { return newDelayGroup(dk) }, t, m, k.ackBeforeKill)
	add(&a.partitions, a.partitionIndex, t.Partition, func() *groupAcc {
		return &groupAcc{key: strconv.Itoa(t.Partition), order: float64(t.Partition)}
	}, t, m, false)
}

// newDelayGroup is the row of a nominal delay after an anchor: after-ack
// rows first, each by delay.
func newDelayGroup(k delayKey) *groupAcc {
	ms := k.ms
	g := &groupAcc{anchor: k.anchor, delayMS: &ms, order: float64(ms)}
	switch k.anchor {
	case results.AnchorWriteAck:
		g.key = strconv.FormatInt(ms, 10) + " ms after ack"
	case results.AnchorWriteStart:
		g.key, g.rank = strconv.FormatInt(ms, 10)+" ms after write start", 1
	default:
		g.key, g.rank = strconv.FormatInt(ms, 10)+" ms after "+k.anchor, 2
	}
	return g
}

func (a *accumulator) addTerms(t *results.Trial) {
	if t.Retargeted {
		a.terms.Retargeted++
	}
	if t.LeaderBefore == nil || t.LeaderAfter == nil || t.LeaderBefore.Term == 0 || t.LeaderAfter.Term == 0 {
		a.terms.Unknown++
		return
	}
	a.terms.Known++
	before, after := t.LeaderBefore.Term, t.LeaderAfter.Term
	delta := float64(after) - float64(before)
	switch {
	case after > before:
		a.terms.Increased++
	case after == before:
		a.terms.Unchanged++
	default:
		a.terms.Decreased++
	}
	a.termDeltaSum += delta
	if !a.terms.MaxDelta.OK() || delta > float64(a.terms.MaxDelta) {
		a.terms.MaxDelta = Float(delta)
	}
	if t.LeaderAfter.Member != t.LeaderBefore.Member {
		a.terms.NewLeader++
	}
}

func newTimelineEntry(t *results.Trial, k kind) timelineEntry {
	ms := func(p *int64) float64 {
		if p == nil {
			return math.NaN()
		}
		return float64(*p) / 1e6
	}
	return timelineEntry{
		RunID:      t.RunID,
		Trial:      t.Trial,
		Outcome:    t.Outcome,
		Control:    k.control,
		WriteStart: ms(t.T.WriteStart), WriteAck: ms(t.T.WriteAck), KillSent: ms(t.T.KillSent),
		NewLeader: ms(t.T.NewLeader), FirstOK: ms(t.T.FirstOK),
	}
}
