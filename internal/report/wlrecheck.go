package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/history"
)

// recheckResult is the analyzer's own check of one trial.
type recheckResult struct {
	verdict, reason string
	violations      []string
	staleReads      int
	// ran is false when the trial was not checked (history too large).
	ran bool
	// visualization is the path of the visualization the re-check wrote;
	// vizErr why it could not.
	visualization string
	vizErr        error
}

// rechecker re-checks the trials of one run as the runner checks them: a
// linearizability verdict on each trial's window (check.TrialOps, open
// start), the stale reads of the whole history by the trial of the read,
// its lost writes by the trial of the write.
type rechecker struct {
	h     *runHistory
	byKey map[string][]int32
	keys  map[string]*keyIndex
	stale map[int]int
	opts  check.Options
	// vizDir is where visualizations of violations are written ("": none).
	vizDir string
}

// keyIndex is one key's operations in order of invocation, where each is
// quiescent (check.TrialOps' cut points), the positions of its unanswered
// writes, and each trial's first and last position (final reads left out).
type keyIndex struct {
	ops        []int32
	quiet      []bool
	unanswered []int
	spans      map[int32][2]int
}

func newRechecker(h *runHistory, byKey map[string][]int32, timeout time.Duration) *rechecker {
	return &rechecker{h: h, byKey: byKey, keys: map[string]*keyIndex{}, stale: h.staleReads(byKey), opts: check.Options{
		Timeout: timeout, MemoryLimit: RecheckMemoryLimit, OpenStart: true,
	}}
}

// trial checks trial n, whose operations are idx; with want, it writes the
// visualization of the first violating key.
func (rc *rechecker) trial(n int, idx []int32, want bool) recheckResult {
	var in []history.Op
	for _, key := range rc.touched(idx) {
		in = rc.appendKeyOps(in, key, n)
	}
	window := check.TrialOps(in, nil, n)
	res := check.Check(window, rc.opts)
	rr := recheckResult{verdict: string(res.Verdict), violations: res.Violations, reason: unknownReason(res.Keys),
		staleReads: rc.stale[n], ran: true}
	if want && rc.vizDir != "" && len(res.Violations) > 0 {
		rr.visualization, rr.vizErr = rc.visualize(n, window, res.Violations[0])
	}
	return rr
}

func (rc *rechecker) touched(idx []int32) []string {
	set := map[string]bool{}
	for _, i := range idx {
		set[rc.h.ops[i].key] = true
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// appendKeyOps appends what check.TrialOps needs of key for trial n: the
// key's operations from the last quiescent point at or before the trial's
// first one through the first operation of another client than the final
// reads at or after the first quiescent point after its last, and every
// unanswered write before them. TrialOps cuts the same window from it as
// from the whole history, without copying the whole history for each trial.
func (rc *rechecker) appendKeyOps(in []history.Op, key string, n int) []history.Op {
	k := rc.index(key)
	sp, ok := k.spans[int32(n)]
	if !ok {
		return in
	}
	from, to := sp[0], sp[1]+1
	for from > 0 && !k.quiet[from] {
		from--
	}
	for to < len(k.ops) && !k.quiet[to] {
		to++
	}
	for to < len(k.ops) && rc.h.ops[k.ops[to]].client == rc.h.final {
		to++
	}
	for _, p := range k.unanswered {
		if p >= from {
			break
		}
		in = append(in, rc.h.op(&rc.h.ops[k.ops[p]]))
	}
	for _, i := range k.ops[from:min(to+1, len(k.ops))] {
		in = append(in, rc.h.op(&rc.h.ops[i]))
	}
	return in
}

func (rc *rechecker) index(key string) *keyIndex {
	if k := rc.keys[key]; k != nil {
		return k
	}
	k := &keyIndex{ops: rc.byKey[key], quiet: make([]bool, len(rc.byKey[key])), spans: map[int32][2]int{}}
	reach := int64(noComplete)
	for p, i := range k.ops {
		c := &rc.h.ops[i]
		k.quiet[p] = reach < c.invoke
		if c.answered() {
			reach = max(reach, c.complete)
		} else if c.isWrite() {
			k.unanswered = append(k.unanswered, p)
		}
		if c.client != rc.h.final {
			sp, ok := k.spans[c.trial]
			if !ok {
				sp[0] = p
			}
			sp[1] = p
			k.spans[c.trial] = sp
		}
	}
	rc.keys[key] = k
	return k
}

// staleReads counts the history's stale reads (check.StaleReads, one key
// at a time) by the trial of the read.
func (h *runHistory) staleReads(byKey map[string][]int32) map[int]int {
	out := map[int]int{}
	keyOps := []history.Op{}
	for _, idx := range byKey {
		keyOps = keyOps[:0]
		for _, i := range idx {
			keyOps = append(keyOps, h.op(&h.ops[i]))
		}
		for _, s := range check.StaleReads(keyOps) {
			out[s.Read.Trial]++
		}
	}
	return out
}

// unknownReason sums up why keys are unknown, e.g. "timeout (2 of 5 keys)".
func unknownReason(keys []check.KeyResult) string {
	counts := map[check.Reason]int{}
	var order []check.Reason
	for _, k := range keys {
		if k.Verdict != check.Unknown {
			continue
		}
		if counts[k.Reason] == 0 {
			order = append(order, k.Reason)
		}
		counts[k.Reason]++
	}
	parts := make([]string, len(order))
	for i, r := range order {
		parts[i] = fmt.Sprintf("%s (%d of %d keys)", r, counts[r], len(keys))
	}
	return strings.Join(parts, "; ")
}

// lostWrites are the run's lost writes (check.LostWrites over the keys
// that can have one: a single write, an answered put, and a final read),
// by the trial of the write.
func (h *runHistory) lostWrites(byKey map[string][]int32) map[int][]check.LostWrite {
	var in []history.Op
	for _, idx := range byKey {
		if !h.writeOnceCandidate(idx) {
			continue
		}
		for _, i := range idx {
			in = append(in, h.op(&h.ops[i]))
		}
	}
	out := map[int][]check.LostWrite{}
	for _, lw := range check.LostWrites(in, h.faults) {
		out[lw.Write.Trial] = append(out[lw.Write.Trial], lw)
	}
	return out
}

func (h *runHistory) writeOnceCandidate(idx []int32) bool {
	writes, final := 0, false
	for _, i := range idx {
		c := &h.ops[i]
		switch {
		case c.client == h.final:
			final = final || c.answered()
		case c.isWrite() && c.status != statusFail:
			writes++
		}
	}
	return writes == 1 && final
}
