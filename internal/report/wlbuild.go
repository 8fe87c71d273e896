package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// workloads adds the workload analysis of each of r's runs that had one.
// Each run's history is read, analyzed and let go before the next.
func (an *analyzer) workloads(r *Report) {
	for _, run := range r.Runs {
		if w := an.wl[run.RunID]; w != nil {
			r.Workload = append(r.Workload, an.buildWorkload(w, scenarioRanker([]RunInfo{run})))
		}
	}
}

// buildWorkload analyzes the workload of run w.
func (an *analyzer) buildWorkload(w *wlRun, rank func(string) int) RunWorkload {
	rw := RunWorkload{
		RunID: w.runID, Config: w.config, Recorded: w.summary, Rechecked: !an.opts.NoRecheck,
		CheckTimeoutMS: Float(float64(an.checkTimeout().Milliseconds())), MaxHistoryOps: an.maxHistoryOps(),
		Trials: []WorkloadTrial{}, Scenarios: []WorkloadGroup{},
	}
	h := an.openRunHistory(w, &rw)
	trials := w.trialNumbers()
	var tc *trialContext
	if h != nil && !h.tooLarge {
		tc = &trialContext{h: h, byTrial: h.byTrial(), opTimeout: opTimeoutNS(w.config)}
		if !an.opts.NoRecheck {
			tc.rechecked = an.rechecker(w, h).judge(h, trials)
		}
	}
	for _, n := range trials {
		wt := an.workloadTrial(w, n, h, tc)
		rw.Trials = append(rw.Trials, wt)
		rw.Verdicts.add(wt.Verdict)
	}
	rw.Scenarios = workloadGroups(rw.Trials, rank)
	return rw
}

// rechecker re-checks run w, visualizing the violations its check records
// do not.
func (an *analyzer) rechecker(w *wlRun, h *runHistory) *rechecker {
	return &rechecker{
		runID: w.runID, faults: h.faults, timeout: an.checkTimeout(), vizDir: an.opts.VisualizationDir,
		wantViz: func(n int) bool { return w.checks[n] == nil || w.checks[n].Visualization == "" },
	}
}

func (an *analyzer) checkTimeout() time.Duration {
	if an.opts.CheckTimeout > 0 {
		return an.opts.CheckTimeout
	}
	return DefaultCheckTimeout
}

func (an *analyzer) maxHistoryOps() int {
	if an.opts.MaxHistoryOps > 0 {
		return an.opts.MaxHistoryOps
	}
	return DefaultMaxHistoryOps
}

// openRunHistory reads run w's history; nil when it is not available.
func (an *analyzer) openRunHistory(w *wlRun, rw *RunWorkload) *runHistory {
	rw.HistoryStatus = HistoryNotAvailable
	if w.history == "" {
		rw.HistoryNote = "the run header names no history log"
		if !w.header {
			rw.HistoryNote = "no run header with a history log"
		}
		return nil
	}
	rw.History = w.history
	if !filepath.IsAbs(rw.History) {
		rw.History = filepath.Join(w.dir, w.history)
	}
	h, err := an.loadRunHistory(rw.History, w.runID)
	if err != nil {
		rw.HistoryNote = err.Error()
		an.a.warn("", 0, "run %s: history log %s not available: %v: the workload is reported from the recorded check records, not re-checked",
			w.runID, rw.History, err)
		return nil
	}
	rw.HistoryWarnings = h.warningCount
	if h.tooLarge {
		rw.HistoryStatus = HistoryTooLarge
		rw.HistoryNote = fmt.Sprintf("more than %d operations of run %s (--max-history-ops): not loaded", an.maxHistoryOps(), w.runID)
		an.a.warn("", 0, "run %s: history log %s: %s; its trials are unknown (%s)", w.runID, rw.History, rw.HistoryNote, ReasonHistoryTooLarge)
		return h
	}
	rw.HistoryStatus, rw.HistoryOps, rw.HistoryFaults = HistoryAnalyzed, len(h.ops), len(h.faults)
	return h
}

// loadRunHistory opens and reads one run's history; its unusable lines become warnings.
func (an *analyzer) loadRunHistory(path, runID string) (*runHistory, error) {
	open := an.opts.OpenHistory
	if open == nil {
		open = openRegular
	}
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	h, err := loadHistory(f, runID, an.maxHistoryOps())
	for _, hw := range h.warnings {
		an.a.warn(path, hw.Line, "%s", hw.Msg)
	}
	an.a.WarningCount += h.warningCount - len(h.warnings)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// openRegular opens path if it is a regular file: a device or a pipe named
// in a results log is never read (it could block or never end).
func openRegular(path string) (io.ReadCloser, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("opening history log: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("opening history log %s: %w", path, errNotRegular)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening history log: %w", err)
	}
	return f, nil
}

// errNotRegular is the error for a history log that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// workloadTrial analyzes trial n of run w: its load (tc nil: no history)
// and its verdict, re-checked or recorded.
func (an *analyzer) workloadTrial(w *wlRun, n int, h *runHistory, tc *trialContext) WorkloadTrial {
	t := w.trials[n]
	if t == nil {
		t = &wlTrial{trial: n}
		if c := w.checks[n]; c != nil {
			t.scenario = c.Scenario
		}
	}
	wt := newWorkloadTrial(t)
	f := trialFindings{rec: w.checks[n]}
	fallback := ReasonNotChecked
	switch {
	case tc != nil:
		tc.measure(&wt, t)
		f.rr = tc.recheck(n)
	case h != nil && !an.opts.NoRecheck:
		f.rr = &recheckResult{verdict: results.VerdictUnknown, reason: ReasonHistoryTooLarge}
	case h == nil:
		fallback = ReasonNoHistory
	}
	wt.resolve(f, fallback)
	if msg := f.disagreement(); msg != "" {
		an.a.warn("", 0, "run %s trial %d: the re-check disagrees with the recorded check: %s", w.runID, n, msg)
	}
	an.setVisualization(&wt, w, f)
	return wt
}

// setVisualization links the recorded visualization, else the one the
// re-check wrote (a failure to write it is a warning).
func (an *analyzer) setVisualization(wt *WorkloadTrial, w *wlRun, f trialFindings) {
	switch {
	case f.rec != nil && f.rec.Visualization != "":
		wt.Visualization = an.link(w.dir, f.rec.Visualization)
	case f.rr != nil && f.rr.visualization != "":
		wt.Visualization = an.link("", f.rr.visualization)
	case f.rr != nil && f.rr.vizErr != nil:
		an.a.warn("", 0, "run %s trial %d: %v", w.runID, wt.Trial, f.rr.vizErr)
	}
}

// link is path (relative to dir unless absolute) as the report refers to
// it: relative to Options.LinkDir when set, in slash form.
func (an *analyzer) link(dir, path string) string {
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	if an.opts.LinkDir != "" {
		base, err1 := filepath.Abs(an.opts.LinkDir)
		target, err2 := filepath.Abs(path)
		if err1 == nil && err2 == nil {
			if rel, err := filepath.Rel(base, target); err == nil {
				path = rel
			}
		}
	}
	return filepath.ToSlash(path)
}

// trialContext is what the analysis of a run's trials shares: the history,
// its index by trial and the re-check of each trial (nil: --no-recheck).
type trialContext struct {
	h         *runHistory
	byTrial   map[int][]int32
	rechecked map[int]recheckResult
	opTimeout int64
	charted   int
}

// recheck is the re-check of trial n; nil with --no-recheck.
func (tc *trialContext) recheck(n int) *recheckResult {
	if tc.rechecked == nil {
		return nil
	}
	rr := tc.rechecked[n]
	return &rr
}
