package report

import "math"

// Row labels of the victim-back and election-rounds breakdowns, by class.
var (
	victimLabels = [...]string{victimUnknown: "unknown", victimBackFirst: "victim back first", leaderFirst: "new leader first"}
	roundsLabels = [...]string{roundsUnknown: "unknown", roundsOne: "1", roundsMore: "≥ 2"}
)

// splitRows splits the aligned election and recovery columns by the class
// each trial's flags give (class(f) < len(labels)); rows are in label order
// after the known classes, unknown last, and rows without trials are left out.
func splitRows(flags []uint8, class func(uint8) uint8, labels []string, election, recovery []float64) []SplitRow {
	n := len(labels)
	trials := make([]int, n)
	el, re := make([][]float64, n), make([][]float64, n)
	elMiss, reMiss := make([]int, n), make([]int, n)
	for i, f := range flags {
		c := class(f)
		trials[c]++
		if v := election[i]; math.IsNaN(v) {
			elMiss[c]++
		} else {
			el[c] = append(el[c], v)
		}
		if v := recovery[i]; math.IsNaN(v) {
			reMiss[c]++
		} else {
			re[c] = append(re[c], v)
		}
	}
	var out []SplitRow
	for _, c := range append(seqFrom(1, n), 0) {
		if trials[c] == 0 {
			continue
		}
		out = append(out, SplitRow{Key: labels[c], Trials: trials[c],
			Election: Describe(el[c], elMiss[c]), Recovery: Describe(re[c], reMiss[c])})
	}
	if out == nil {
		out = []SplitRow{}
	}
	return out
}

// seqFrom is lo, lo+1, …, hi−1.
func seqFrom(lo, hi int) []int {
	out := make([]int, 0, max(hi-lo, 0))
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func victimClass(f uint8) uint8 { return f >> victimShift & classBitsMask }
func roundsClass(f uint8) uint8 { return f >> roundsShift & classBitsMask }
