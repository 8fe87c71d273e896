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
// it, every unanswered write invoked before it (it may have taken effect at
// any later time) unless nothing ever read it (pruneUnseenWith), and the
// answered operation with the highest version before it (latest). Everything before the window is summed up by
// the key's unknown state at its start; everything after it follows every
// operation inside. When only final reads follow the window they join it,
// so that an acknowledged write the final read misses is judged with its
// trial — unless a wipe of every member (IsWipe) in a later trial came in
// between: the loss is that trial's (LostWrite.Trial).
func TrialOps(ops []history.Op, faults []history.Fault, trial int) []history.Op {
	var out []history.Op
	wipes := wipesOf(faults)
	for _, k := range keyHistories(ops) {
		out = append(out, k.window(trial, wipes)...)
	}
	return out
}

// keyHistory is one key's operations in order of invocation, with what
// cutting windows needs.
type keyHistory struct {
	key   string
	ops   []history.Op
	quiet []bool
	// spans holds each trial's first and last operation (final reads aside).
	spans map[int][2]int
	// versions are the versions answered on the key (pruneUnseenWith).
	versions map[uint64]bool
}

// keyHistories groups a history by key, in key order.
func keyHistories(ops []history.Op) []*keyHistory {
	byKey := groupByKey(ops)
	out := make([]*keyHistory, 0, len(byKey))
	for _, key := range sortedKeys(byKey) {
		out = append(out, newKeyHistory(key, byKey[key]))
	}
	return out
}

func newKeyHistory(key string, ops []history.Op) *keyHistory {
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].InvokeNS < ops[j].InvokeNS })
	k := &keyHistory{key: key, ops: ops, quiet: quiescent(ops), spans: map[int][2]int{}, versions: answeredVersions(ops)}
	for i, op := range ops {
		if op.Client == history.FinalClient {
			continue
		}
		sp, ok := k.spans[op.Trial]
		if !ok {
			sp[0] = i
		}
		sp[1] = i
		k.spans[op.Trial] = sp
	}
	return k
}

// window is TrialOps for this key; nil when the trial did not operate on it.
func (k *keyHistory) window(trial int, wipes []history.Fault) []history.Op {
	sp, ok := k.spans[trial]
	if !ok {
		return nil
	}
	from, to := sp[0], sp[1]+1
	for from > 0 && !k.quiet[from] {
		from--
	}
	for to < len(k.ops) && !k.quiet[to] {
		to++
	}
	if to < len(k.ops) && onlyFinal(k.ops[to:]) && !wipedBetween(wipes, trial, k.ops[to-1].InvokeNS, k.ops[to].InvokeNS) {
		to = len(k.ops)
	}
	var out []history.Op
	for _, op := range k.ops[:from] {
		if op.Status == history.StatusUnknown && isWrite(op) {
			out = append(out, op)
		}
	}
	if last, ok := latest(k.ops[:from]); ok {
		out = append(out, last)
	}
	return pruneUnseenWith(append(out, k.ops[from:to]...), k.versions)
}

// latest is the answered operation with the highest version among ops
// (the last of equals): it carries what is known at the cut. Versions rise
// in apply order, so every answered write before the cut took effect before
// it, and after it only writes still pending at the cut (carried too) can
// change the key before the window; starting from it the window knows the
// key exists and its version, and cannot accept a later version that goes
// back or a key that vanished.
func latest(ops []history.Op) (history.Op, bool) {
	var best history.Op
	found := false
	for _, op := range ops {
		if answered(op) && op.Version != nil && (!found || *op.Version >= *best.Version) {
			best, found = op, true
		}
	}
	return best, found
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

func wipesOf(faults []history.Fault) []history.Fault {
	var out []history.Fault
	for _, f := range faults {
		if IsWipe(f) {
			out = append(out, f)
		}
	}
	return out
}

// wipedBetween says whether a wipe of a trial other than trial started in [from, to].
func wipedBetween(wipes []history.Fault, trial int, from, to int64) bool {
	for _, w := range wipes {
		if w.Trial != trial && w.StartNS >= from && w.StartNS <= to {
			return true
		}
	}
	return false
}
