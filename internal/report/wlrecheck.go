package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/history"
)

// recheckResult is what the report keeps of the re-check of one trial.
type recheckResult struct {
	verdict, reason string
	violations      []string
	staleReads      int
	lost            []check.LostWrite
	// ran is false when the trial was not checked (history too large).
	ran bool
	// visualization is the path of the visualization the re-check wrote;
	// vizErr why it could not.
	visualization string
	vizErr        error
}

// recheckBatch is how many trials one check.CheckTrials call judges: the
// call holds the window of each until it returns.
const recheckBatch = 8

// rechecker re-checks the trials of one run with check.CheckTrials, as the
// runner judges them.
type rechecker struct {
	runID   string
	faults  []history.Fault
	timeout time.Duration
	// vizDir is where visualizations of violations are written ("": none),
	// for the trials wantViz names.
	vizDir  string
	wantViz func(trial int) bool
}

// judge re-checks the listed trials of h, each bounded by rc.timeout.
func (rc *rechecker) judge(h *runHistory, trials []int) map[int]recheckResult {
	opts := check.Options{Timeout: rc.timeout, MemoryLimit: RecheckMemoryLimit}
	out := make(map[int]recheckResult, len(trials))
	for batch := range slices.Chunk(trials, recheckBatch) {
		for _, j := range check.CheckTrials(h.records(), h.faults, batch, opts) {
			out[j.Trial] = rc.result(j)
		}
	}
	return out
}

// result is what the report keeps of a trial's judgement; it writes the
// visualization of the first violating key when wanted.
func (rc *rechecker) result(j check.TrialResult) recheckResult {
	rr := recheckResult{verdict: string(j.Verdict), violations: j.Violations, reason: cmp.Or(string(j.Reason), unknownReason(j.Keys)),
		staleReads: len(j.StaleReads), lost: j.LostWrites, ran: true}
	if rc.vizDir != "" && len(j.Violations) > 0 && rc.wantViz(j.Trial) {
		rr.visualization, rr.vizErr = rc.visualize(j.Trial, j.Window, j.Violations[0])
	}
	return rr
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
