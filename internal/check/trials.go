package check

import (
	"sort"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// TrialResult is the judgement of one trial of a run's history.
type TrialResult struct {
	Trial int `json:"trial"`
	// Verdict, Violations and Keys judge the trial's window (TrialOps).
	Verdict    Verdict     `json:"verdict"`
	Violations []string    `json:"violations,omitempty"`
	Keys       []KeyResult `json:"keys"`
	// Ops counts the operations invoked in the trial, final reads aside.
	Ops int `json:"ops"`
	// StaleReads are the reads invoked in the trial that read an old value.
	StaleReads []StaleRead `json:"stale_reads,omitempty"`
	// LostWrites are the lost writes counted in the trial (LostWrite.Trial).
	LostWrites []LostWrite `json:"lost_writes,omitempty"`
	// Window is what was checked, for WriteWindowVisualization.
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
	stale, lost, counts := byTrial(ops, faults)
	out := make([]TrialResult, 0, len(trials))
	for _, n := range trials {
		var window []history.Op
		for _, k := range keys {
			window = append(window, k.window(n, wipes)...)
		}
		began := time.Now()
		res := checkKeys(groupByKey(window), opts)
		out = append(out, TrialResult{
			Trial: n, Verdict: overall(res), Violations: violations(res), Keys: res, Ops: counts[n],
			StaleReads: stale[n], LostWrites: lost[n], Window: window, Duration: time.Since(began),
		})
	}
	return out
}

// byTrial attributes the history's stale reads to the trial of the read,
// its lost writes to the trial they are counted in, and counts each
// trial's operations.
func byTrial(ops []history.Op, faults []history.Fault) (map[int][]StaleRead, map[int][]LostWrite, map[int]int) {
	stale := map[int][]StaleRead{}
	for _, s := range StaleReads(ops) {
		stale[s.Read.Trial] = append(stale[s.Read.Trial], s)
	}
	lost := map[int][]LostWrite{}
	for _, w := range LostWrites(ops, faults) {
		lost[w.Trial] = append(lost[w.Trial], w)
	}
	counts := map[int]int{}
	for _, op := range ops {
		if op.Client != history.FinalClient {
			counts[op.Trial]++
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
