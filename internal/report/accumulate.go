package report

import (
	"cmp"
	"math"
	"slices"
	"strconv"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// scenarioOrder is the order of the known scenarios in tables (DESIGN.md).
var scenarioOrder = []string{"immediate", "during-replication", "precision-timed", "rapid-sequential", "in-flight"}

// column holds one metric of every trial, in ms, NaN where the trial lacks
// it, so that columns stay aligned trial by trial.
type column struct {
	values     []float64
	missing    int
	recomputed int
}

func (c *column) add(m Metric) {
	if !m.OK {
		c.missing++
		c.values = append(c.values, math.NaN())
		return
	}
	if m.Recomputed {
		c.recomputed++
	}
	c.values = append(c.values, m.MS())
}

// describe summarises the column; it compacts and sorts the values in
// place, so the column is no longer aligned afterwards.
func (c *column) describe() Distribution {
	v := slices.DeleteFunc(c.values, math.IsNaN)
	c.values = v
	return Describe(v, c.missing)
}

// groupAcc accumulates the counts of one breakdown row; its recovery
// times are gathered from the recovery column when the report is made.
type groupAcc struct {
	key       string
	order     float64 // sort key of numeric groups
	outcomes  Outcomes
	electionN int
	election  float64 // sum, ms
}

func (g *groupAcc) add(t *results.Trial, m Metrics) {
	g.outcomes.add(t.Outcome)
	if m.Election.OK {
		g.electionN++
		g.election += m.Election.MS()
	}
}

// grouping assigns every trial to one group of a breakdown.
type grouping struct {
	groups []*groupAcc
	of     []uint32 // group index of each trial
}

// add counts the trial in the group whose key is k in index, creating
// the group (labelled label(), sorted by order) at its first trial.
func add[K comparable](g *grouping, index map[K]int, k K, label func() string, order float64, t *results.Trial, m Metrics) {
	i, ok := index[k]
	if !ok {
		i = len(g.groups)
		index[k] = i
		g.groups = append(g.groups, &groupAcc{key: label(), order: order})
	}
	g.groups[i].add(t, m)
	g.of = append(g.of, uint32(i))
}

// rows returns the breakdown rows sorted by cmpRows, with each group's
// recovery distribution taken from recovery (aligned with the trials).
func (g *grouping) rows(recovery []float64, cmpRows func(x, y *groupAcc) int) []Group {
	values := make([][]float64, len(g.groups))
	missing := make([]int, len(g.groups))
	counts := make([]int, len(g.groups))
	for trial, gi := range g.of {
		if !math.IsNaN(recovery[trial]) {
			counts[gi]++
		}
	}
	for i, n := range counts {
		values[i] = make([]float64, 0, n)
	}
	for trial, gi := range g.of {
		if v := recovery[trial]; math.IsNaN(v) {
			missing[gi]++
		} else {
			values[gi] = append(values[gi], v)
		}
	}
	order := make([]int, len(g.groups))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return cmpRows(g.groups[x], g.groups[y]) })
	out := make([]Group, 0, len(order))
	for _, i := range order {
		a := g.groups[i]
		em := math.NaN()
		if a.electionN > 0 {
			em = a.election / float64(a.electionN)
		}
		out = append(out, Group{
			Key: a.key, Trials: a.outcomes.Total(), Outcomes: a.outcomes, Success: newSuccess(a.outcomes),
			Recovery: Describe(values[i], missing[i]), ElectionMean: Float(em), ElectionN: a.electionN,
		})
		values[i] = nil
	}
	return out
}

// accumulator collects what a report needs from a stream of trials:
// counts, and per trial one float64 per metric (for the percentiles) and
// one group index per breakdown.
type accumulator struct {
	outcomes                                              Outcomes
	duration, recovery, election, writeLatency, actualDel column
	points                                                map[string]*sampler
	scenarios, delays, partitions                         grouping
	scenarioIndex                                         map[string]int
	delayIndex                                            map[int64]int
	partitionIndex                                        map[int]int
	terms                                                 TermChanges
	termDeltaSum                                          float64
	timeline                                              []timelineEntry
}

func newAccumulator() *accumulator {
	return &accumulator{
		points:        map[string]*sampler{},
		terms:         TermChanges{MaxDelta: Float(math.NaN())},
		scenarioIndex: map[string]int{}, delayIndex: map[int64]int{}, partitionIndex: map[int]int{},
	}
}

func (a *accumulator) add(t *results.Trial, m Metrics) {
	a.outcomes.add(t.Outcome)
	a.duration.add(m.Duration)
	a.recovery.add(m.Recovery)
	a.election.add(m.Election)
	a.writeLatency.add(m.WriteLatency)
	a.actualDel.add(m.ActualDelay)
	scenario := t.Scenario
	if scenario == "" {
		scenario = "(none)"
	}
	if m.ActualDelay.OK && m.Recovery.OK {
		sm := a.points[scenario]
		if sm == nil {
			sm = &sampler{stride: 1}
			a.points[scenario] = sm
		}
		sm.add(point{m.ActualDelay.MS(), m.Recovery.MS()})
	}
	add(&a.scenarios, a.scenarioIndex, scenario, func() string { return scenario }, 0, t, m)
	delayMS := int64(math.Round(float64(t.DelayNS) / 1e6))
	add(&a.delays, a.delayIndex, delayMS, func() string { return strconv.FormatInt(delayMS, 10) }, float64(delayMS), t, m)
	add(&a.partitions, a.partitionIndex, t.Partition, func() string { return strconv.Itoa(t.Partition) }, float64(t.Partition), t, m)

	a.addTerms(t)
	if len(a.timeline) < MaxTimelineRows {
		a.timeline = append(a.timeline, newTimelineEntry(t))
	}
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

func newTimelineEntry(t *results.Trial) timelineEntry {
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
		WriteStart: ms(t.T.WriteStart), WriteAck: ms(t.T.WriteAck), KillSent: ms(t.T.KillSent),
		NewLeader: ms(t.T.NewLeader), FirstOK: ms(t.T.FirstOK),
	}
}

// report computes the report. It consumes the accumulator: the columns
// are compacted and sorted in place.
func (a *accumulator) report(title string, runs []RunInfo) Report {
	r := Report{
		Title: title, Runs: runs, Trials: a.outcomes.Total(), Outcomes: a.outcomes,
		InconclusiveShare: Float(math.NaN()),
		Success:           newSuccess(a.outcomes),
		Terms:             a.terms,
		points:            map[string][]point{},
		timeline:          a.timeline,
	}
	// First what needs the columns aligned trial by trial.
	r.DelayVsRecovery = a.spearman()
	r.Scenarios = a.scenarios.rows(a.recovery.values, func(x, y *groupAcc) int {
		return cmp.Or(cmp.Compare(scenarioRank(x.key), scenarioRank(y.key)), cmp.Compare(x.key, y.key))
	})
	byOrder := func(x, y *groupAcc) int { return cmp.Compare(x.order, y.order) }
	r.Delays = a.delays.rows(a.recovery.values, byOrder)
	r.Partitions = a.partitions.rows(a.recovery.values, byOrder)
	a.scenarios, a.delays, a.partitions = grouping{}, grouping{}, grouping{}

	r.Duration = a.duration.describe()
	r.Recovery = a.recovery.describe()
	r.Election = a.election.describe()
	r.WriteLatency = a.writeLatency.describe()
	r.ActualDelay = a.actualDel.describe()
	r.recoverySorted, r.electionSorted = a.recovery.values, a.election.values
	r.Recomputed = map[string]int{
		"duration": a.duration.recomputed, "recovery": a.recovery.recomputed, "election": a.election.recomputed,
		"write_latency": a.writeLatency.recomputed, "actual_delay": a.actualDel.recomputed,
	}
	for k, sm := range a.points {
		r.points[k] = sm.pts
	}
	if r.Trials > 0 {
		r.InconclusiveShare = Float(float64(a.outcomes.Inconclusive) / float64(r.Trials))
	}
	r.Terms.MeanDelta = Float(math.NaN())
	if a.terms.Known > 0 {
		r.Terms.MeanDelta = Float(a.termDeltaSum / float64(a.terms.Known))
	} else {
		r.Terms.MaxDelta = Float(math.NaN())
	}
	return r
}

// spearman tests actual delay against recovery over the trials with both.
func (a *accumulator) spearman() Spearman {
	both := func(i int) bool { return !math.IsNaN(a.actualDel.values[i]) && !math.IsNaN(a.recovery.values[i]) }
	n := 0
	for i := range a.actualDel.values {
		if both(i) {
			n++
		}
	}
	x, y := make([]float64, 0, n), make([]float64, 0, n)
	for i, d := range a.actualDel.values {
		if both(i) {
			x = append(x, d)
			y = append(y, a.recovery.values[i])
		}
	}
	return SpearmanTest(x, y)
}

// MaxChartPoints bounds the points of a scenario in the recovery-vs-delay
// chart; beyond it every k-th trial is shown (k a power of two).
const MaxChartPoints = 4096

// sampler keeps every stride-th point, doubling the stride whenever it
// holds MaxChartPoints, so that its memory is bounded and its points
// spread over the whole log.
type sampler struct {
	pts          []point
	stride, seen int
}

func (s *sampler) add(p point) {
	if s.seen%s.stride == 0 {
		s.pts = append(s.pts, p)
		if len(s.pts) == MaxChartPoints {
			for i := range len(s.pts) / 2 {
				s.pts[i] = s.pts[2*i]
			}
			s.pts = s.pts[:len(s.pts)/2]
			s.stride *= 2
		}
	}
	s.seen++
}

func scenarioRank(s string) int {
	if i := slices.Index(scenarioOrder, s); i >= 0 {
		return i
	}
	return len(scenarioOrder)
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
