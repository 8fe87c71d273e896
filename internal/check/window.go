package check

import (
	"math"
	"sort"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// TrialOps cuts from a run's history the operations that judge one trial,
// to be checked with Options.OpenStart. For each key the trial operated on,
// the window runs from the last quiescent point (no answered operation on
// the key in flight) before the trial's first operation on the key to the
// first quiescent point after its last: every answered operation invoked in
// it, and every unanswered one invoked before its end (it may have taken
// effect at any later time). Everything before the window is summed up by
// the key's unknown state at its start; everything after it follows every
// operation inside. When only final reads follow the window they join it,
// so that an acknowledged write the final read misses is judged with its
// trial.
func TrialOps(ops []history.Op, trial int) []history.Op {
	byKey := map[string][]history.Op{}
	touched := map[string]bool{}
	for _, op := range ops {
		byKey[op.Key] = append(byKey[op.Key], op)
		if op.Trial == trial && op.Client != history.FinalClient {
			touched[op.Key] = true
		}
	}
	var out []history.Op
	for _, key := range sortedKeys(byKey) {
		if touched[key] {
			out = append(out, keyWindow(byKey[key], trial)...)
		}
	}
	return out
}

// keyWindow is TrialOps for one key's operations.
func keyWindow(ops []history.Op, trial int) []history.Op {
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].InvokeNS < ops[j].InvokeNS })
	from, to := trialSpan(ops, trial)
	quiet := quiescent(ops)
	for from > 0 && !quiet[from] {
		from--
	}
	to++
	for to < len(ops) && !quiet[to] {
		to++
	}
	if onlyFinal(ops[to:]) {
		to = len(ops)
	}
	end := int64(math.MaxInt64)
	if to < len(ops) {
		end = ops[to].InvokeNS
	}
	var out []history.Op
	for i, op := range ops {
		switch {
		case i >= from && i < to:
			out = append(out, op)
		case !answered(op) && isWrite(op) && op.InvokeNS < end:
			out = append(out, op)
		}
	}
	return out
}

// trialSpan is the index of the trial's first and last operation in ops.
func trialSpan(ops []history.Op, trial int) (int, int) {
	first, last := -1, -1
	for i, op := range ops {
		if op.Trial == trial && op.Client != history.FinalClient {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// quiescent reports, for each index i, whether no answered operation
// invoked before ops[i] is still in flight when ops[i] is invoked: a cut
// there separates everything before from everything after in real time.
func quiescent(ops []history.Op) []bool {
	q := make([]bool, len(ops))
	var reach int64 = math.MinInt64
	for i, op := range ops {
		q[i] = reach < op.InvokeNS
		if answered(op) && op.CompleteNS != nil {
			reach = max(reach, *op.CompleteNS)
		}
	}
	return q
}

func onlyFinal(ops []history.Op) bool {
	for _, op := range ops {
		if op.Client != history.FinalClient {
			return false
		}
	}
	return true
}
