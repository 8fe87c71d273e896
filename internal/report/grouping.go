package report

import (
	"cmp"
	"math"
	"slices"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// groupAcc accumulates the counts of one breakdown row; its recovery
// times are gathered from the recovery column when the report is made.
type groupAcc struct {
	key   string
	rank  int     // first sort key
	order float64 // second sort key (numeric groups)
	// anchor and delayMS describe a delay row.
	anchor  string
	delayMS *int64
	// outcomes counts the trials in the row's statistics.
	outcomes Outcomes
	// ackBeforeKill counts the write_start trials left out of the row's
	// statistics because their write was acknowledged before the kill.
	ackBeforeKill int
	electionN     int
	election      float64 // sum, ms
}

func (g *groupAcc) add(t *results.Trial, m Metrics) {
	g.outcomes.add(t.Outcome)
	if m.Election.OK {
		g.electionN++
		g.election += m.Election.MS()
	}
}

// leftOut marks a trial counted in a group but not in its statistics.
const leftOut = 1 << 31

// grouping assigns every trial to one group of a breakdown.
type grouping struct {
	groups []*groupAcc
	of     []uint32 // group index of each trial, | leftOut
}

// add counts the trial in the group whose key is k in index, creating the
// group with newGroup at its first trial. A trial that is leftOut only
// counts in the group's ackBeforeKill.
func add[K comparable](g *grouping, index map[K]int, k K, newGroup func() *groupAcc, t *results.Trial, m Metrics, out bool) {
	i, ok := index[k]
	if !ok {
		i = len(g.groups)
		index[k] = i
		g.groups = append(g.groups, newGroup())
	}
	if out {
		g.groups[i].ackBeforeKill++
		g.of = append(g.of, uint32(i)|leftOut)
		return
	}
	g.groups[i].add(t, m)
	g.of = append(g.of, uint32(i))
}

// byRankThenOrder sorts groups by rank, order, then key.
func byRankThenOrder(x, y *groupAcc) int {
	return cmp.Or(cmp.Compare(x.rank, y.rank), cmp.Compare(x.order, y.order), cmp.Compare(x.key, y.key))
}

// recoveryByGroup splits the recovery column (aligned with the trials) by
// group: the values of each group and its number of trials without one.
func (g *grouping) recoveryByGroup(recovery []float64) (values [][]float64, missing []int) {
	values = make([][]float64, len(g.groups))
	missing = make([]int, len(g.groups))
	counts := make([]int, len(g.groups))
	for trial, gi := range g.of {
		if gi&leftOut == 0 && !math.IsNaN(recovery[trial]) {
			counts[gi]++
		}
	}
	for i, n := range counts {
		values[i] = make([]float64, 0, n)
	}
	for trial, gi := range g.of {
		switch v := recovery[trial]; {
		case gi&leftOut != 0:
		case math.IsNaN(v):
			missing[gi]++
		default:
			values[gi] = append(values[gi], v)
		}
	}
	return values, missing
}

// rows returns the breakdown rows sorted by byRankThenOrder, with each
// group's recovery distribution taken from recovery (aligned with the trials).
func (g *grouping) rows(recovery []float64) []Group {
	values, missing := g.recoveryByGroup(recovery)
	order := make([]int, len(g.groups))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return byRankThenOrder(g.groups[x], g.groups[y]) })
	out := make([]Group, 0, len(order))
	for _, i := range order {
		a := g.groups[i]
		em := math.NaN()
		if a.electionN > 0 {
			em = a.election / float64(a.electionN)
		}
		out = append(out, Group{
			Key: a.key, Anchor: a.anchor, DelayMS: a.delayMS,
			Trials: a.outcomes.Total(), AckBeforeKill: a.ackBeforeKill, Outcomes: a.outcomes, Success: newSuccess(a.outcomes),
			Recovery: Describe(values[i], missing[i]), ElectionMean: Float(em), ElectionN: a.electionN,
		})
		values[i] = nil
	}
	return out
}
