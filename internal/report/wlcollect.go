package report

import (
	"encoding/json"
	"sort"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// wlRun is what the analyzer keeps of a run with a workload until the
// end: the header's history and configuration, a few fields of each
// trial, the check records and the summary's workload totals.
type wlRun struct {
	runID string
	// dir is the directory of the results log the run header came from.
	dir     string
	header  bool
	history string
	config  json.RawMessage
	trials  map[int]*wlTrial
	checks  map[int]*results.Check
	summary *results.WorkloadSummary
}

// wlTrial is what the workload analysis needs of a trial record; times are
// ns, clock on the history's clock, the others since the trial's start.
type wlTrial struct {
	trial           int
	scenario, fault string
	clock           *int64
	firstOK, heal   *int64
}

// workloadRun returns the workload state of run id, creating it.
func (an *analyzer) workloadRun(id string) *wlRun {
	w := an.wl[id]
	if w == nil {
		w = &wlRun{runID: id, dir: an.dir, trials: map[int]*wlTrial{}, checks: map[int]*results.Check{}}
		an.wl[id] = w
	}
	return w
}

// hasWorkload says whether a run header describes a workload.
func hasWorkload(run *results.Run) bool { return run.History != "" || len(run.Workload) > 0 }

func (w *wlRun) setHeader(run *results.Run, dir string) {
	if w.header {
		return
	}
	w.header, w.dir, w.history, w.config = true, dir, run.History, run.Workload
}

func (w *wlRun) addTrial(t *results.Trial) {
	if _, dup := w.trials[t.Trial]; dup {
		return
	}
	w.trials[t.Trial] = &wlTrial{
		trial: t.Trial, scenario: scenarioKey(t), fault: classify(t).fault,
		clock: t.ClockNS, firstOK: t.T.FirstOK, heal: t.T.Heal,
	}
}

// trialNumbers are the trials with a trial or a check record, in order.
func (w *wlRun) trialNumbers() []int {
	set := map[int]bool{}
	for n := range w.trials {
		set[n] = true
	}
	for n := range w.checks {
		set[n] = true
	}
	out := make([]int, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// workloadRecord keeps what a record tells of a run's workload.
func (an *analyzer) workloadRecord(input string, rec results.Record) {
	switch {
	case rec.Run != nil && hasWorkload(rec.Run):
		an.workloadRun(rec.Run.RunID).setHeader(rec.Run, an.dir)
	case rec.Trial != nil && (an.wl[rec.Trial.RunID] != nil || rec.Trial.ClockNS != nil):
		an.workloadRun(rec.Trial.RunID).addTrial(rec.Trial)
	case rec.Summary != nil && rec.Summary.Workload != nil:
		an.workloadRun(rec.Summary.RunID).summary = rec.Summary.Workload
	case rec.Check != nil:
		w := an.workloadRun(rec.Check.RunID)
		if _, dup := w.checks[rec.Check.Trial]; dup {
			an.a.warn(input, rec.Line, "run %s: a second check record of trial %d (the first is used)", rec.Check.RunID, rec.Check.Trial)
			return
		}
		w.checks[rec.Check.Trial] = rec.Check
	}
}
