package check

import (
	"sort"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// TrialResult is the judgement of one trial of a run's history.
type TrialResult struct {
	Trial int `json:"trial"`
	// Verdict, Violations and Keys judge the trial's window (TrialOps); a
	// trial without operations is Unknown (Reason says so).
	Verdict    Verdict     `json:"verdict"`
	Reason     Reason      `json:"reason,omitempty"`
	Violations []string    `json:"violations,omitempty"`
	Keys       []KeyResult `json:"keys"`
	// Ops counts the operations invoked in the trial, final reads aside.
	Ops int `json:"ops"`
	// StaleReads are the reads invoked in the trial that read an old value.
	StaleReads []StaleRead `json:"stale_reads,omitempty"`
	// LostWrites are the lost writes counted in the trial (LostWrite.Trial).
	LostWrites []LostWrite `json:"lost_writes,omitempty"`
	// Window is what was checked, for WriteWindowVisualization; kept only
	// when the verdict is a violation.
	Window []history.Op `json:"-"`
	// Duration is how long the window's check took.
	Duration time.Duration `json:"duration_ns"`
}

// CheckTrials judges each listed trial of a run's history: the
// linearizability of its window from an unknown start (TrialOps), and the
// stale reads and lost writes of the whole history that belong to it.
// opts.Timeout bounds each trial's check; opts.OpenStart is implied.
func CheckTrials(ops []history.Op, faults []history.Fault, trials []int, opts Options) []TrialResult {
	opts = opts.withDefaults()
	opts.OpenStart = true
	keys := keyHistories(ops)
	wipes := wipesOf(faults)
	stale, lost, counts := byTrial(keys, faults)
	out := make([]TrialResult, 0, len(trials))
	for _, n := range trials {
		var window []history.Op
		for _, k := range keys {
			window = append(window, k.window(n, wipes)...)
		}
		began := time.Now()
		res := checkKeys(groupByKey(window), opts)
		tr := TrialResult{
			Trial: n, Verdict: overall(res), Violations: violations(res), Keys: res, Ops: counts[n],
			StaleReads: stale[n], LostWrites: lost[n], Duration: time.Since(began),
		}
		if tr.Verdict == Violation {
			tr.Window = window
		}
		if counts[n] == 0 {
			tr.Verdict, tr.Reason = Unknown, ReasonNoOperations
		}
		out = append(out, tr)
	}
	return out
}

// byTrial attributes the history's stale reads to the trial of the read,
// its lost writes to the trial they are counted in, and counts each
// trial's operations.
func byTrial(keys []*keyHistory, faults []history.Fault) (map[int][]StaleRead, map[int][]LostWrite, map[int]int) {
	stale := map[int][]StaleRead{}
	lost := map[int][]LostWrite{}
	counts := map[int]int{}
	for _, k := range keys {
		for _, s := range keyStaleReads(k.key, k.ops) {
			stale[s.Read.Trial] = append(stale[s.Read.Trial], s)
		}
		if w, ok := keyLostWrite(k.key, k.ops, faults); ok {
			lost[w.Trial] = append(lost[w.Trial], w)
		}
		for _, op := range k.ops {
			if op.Client != history.FinalClient {
				counts[op.Trial]++
			}
		}
	}
	return stale, lost, counts
}

// Trials lists the trials a history's operations belong to, in order.
func Trials(ops []history.Op) []int {
	seen := map[int]bool{}
	var out []int
	for _, op := range ops {
		if op.Client != history.FinalClient && !seen[op.Trial] {
			seen[op.Trial] = true
			out = append(out, op.Trial)
		}
	}
	sort.Ints(out)
	return out
}
