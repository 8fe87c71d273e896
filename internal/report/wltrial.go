package report

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// newWorkloadTrial is trial t with every measure not available.
func newWorkloadTrial(t *wlTrial) WorkloadTrial {
	wt := WorkloadTrial{
		Trial: t.trial, Scenario: t.scenario, Fault: t.fault,
		ViolationKeys: []string{}, Lost: []WorkloadLostWrite{},
		UnavailabilityP50: nan(), UnavailabilityMax: nan(), FaultStart: nan(), Recovered: nan(),
	}
	for _, w := range []*Window{&wt.Windows.All, &wt.Windows.Before, &wt.Windows.During, &wt.Windows.After} {
		w.finish(-1)
	}
	return wt
}

// measure sets the load metrics of trial t from the history.
func (tc *trialContext) measure(wt *WorkloadTrial, t *wlTrial) {
	ft := trialFaultTimes(t, tc.h.faults)
	wt.RecoveredBy = ft.by
	if ft.hasFault && t.clock != nil {
		wt.FaultStart = Float(float64(ft.start-*t.clock) / 1e6)
		if ft.by != RecoveredCensored {
			wt.Recovered = Float(float64(ft.recovered-*t.clock) / 1e6)
		}
	}
	idx := tc.byTrial[t.trial]
	sp, ok := opSpan(tc.h, idx)
	if !ok {
		return
	}
	wt.Ops = len(idx)
	wt.Windows = trialWindows(tc.h, idx, sp, ft)
	wt.unavailability = unavailability(tc.h, idx, sp)
	wt.Clients = len(wt.unavailability)
	wt.UnavailabilityP50, wt.UnavailabilityMax = medianMax(wt.unavailability)
	if tc.charted < MaxWorkloadChartTrials {
		tc.charted++
		wt.chart = newTrialChart(tc.h, idx, sp, ft, t.clock, tc.opTimeout)
	}
}

// medianMax are the type-7 median and the maximum of x (NaN when empty).
func medianMax(x []float64) (Float, Float) {
	if len(x) == 0 {
		return nan(), nan()
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return Float(Quantile7(0.5, s)), Float(s[len(s)-1])
}

// trialFindings are what the recorded check and the re-check found of a trial.
type trialFindings struct {
	rec *results.Check
	rr  *recheckResult
}

// lost are the re-check's lost writes of the trial.
func (f trialFindings) lost() []check.LostWrite {
	if f.rr == nil {
		return nil
	}
	return f.rr.lost
}

// resolve sets the reported verdict, stale reads, violation keys and lost
// writes; fallback is the reason of a trial neither checked nor recorded.
func (wt *WorkloadTrial) resolve(f trialFindings, fallback string) {
	rec, rr := f.rec, f.rr
	wt.Verdict, wt.VerdictSource, wt.Reason = results.VerdictUnknown, SourceNone, fallback
	if rec != nil {
		wt.RecordedVerdict, wt.RecordedReason = rec.Verdict, rec.Reason
		wt.Verdict, wt.VerdictSource, wt.Reason = rec.Verdict, SourceRecorded, rec.Reason
		wt.StaleReads = rec.StaleReads
		wt.ViolationKeys = append(wt.ViolationKeys, rec.Violations...)
	}
	if rr != nil {
		wt.RecheckVerdict, wt.RecheckReason = rr.verdict, rr.reason
		wt.Verdict, wt.VerdictSource, wt.Reason = rr.verdict, SourceRecheck, rr.reason
		wt.ViolationKeys = append(wt.ViolationKeys, rr.violations...)
	}
	if rr != nil && rr.ran {
		wt.StaleReads = rr.staleReads
	}
	slices.Sort(wt.ViolationKeys)
	wt.ViolationKeys = slices.Compact(wt.ViolationKeys)
	wt.Lost = mergeLost(rec, f.lost())
	wt.LostWrites = len(wt.Lost)
	for _, l := range wt.Lost {
		wt.LostByAge.add(l.ageNS)
	}
	wt.CountsAsViolation = wt.RecordedVerdict == results.VerdictViolation || wt.RecheckVerdict == results.VerdictViolation ||
		wt.StaleReads > 0 || (rec != nil && rec.StaleReads > 0)
}

// mergeLost is the union by key of the recorded and re-checked lost
// writes, in key order; the re-check's age is kept when both have the key.
func mergeLost(rec *results.Check, rechecked []check.LostWrite) []WorkloadLostWrite {
	byKey := map[string]*WorkloadLostWrite{}
	for _, lw := range rechecked {
		byKey[lw.Key] = &WorkloadLostWrite{Key: lw.Key, Source: SourceRecheck, ageNS: lw.AgeNS}
	}
	if rec != nil {
		for _, lw := range rec.LostWrites {
			if w := byKey[lw.Key]; w != nil {
				w.Source = "both"
			} else {
				byKey[lw.Key] = &WorkloadLostWrite{Key: lw.Key, Source: SourceRecorded, ageNS: lw.AgeNS}
			}
		}
	}
	out := make([]WorkloadLostWrite, 0, len(byKey))
	for _, w := range byKey {
		w.AgeMS = nan()
		if w.ageNS != nil {
			w.AgeMS = Float(float64(*w.ageNS) / 1e6)
		}
		out = append(out, *w)
	}
	slices.SortFunc(out, func(a, b WorkloadLostWrite) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// disagreement says how the re-check and the recorded check differ; "" when
// they agree or one of them is missing.
func (f trialFindings) disagreement() string {
	if f.rec == nil || f.rr == nil || !f.rr.ran {
		return ""
	}
	var diffs []string
	if f.rr.verdict != f.rec.Verdict {
		d := fmt.Sprintf("verdict %s (recorded %s)", f.rr.verdict, f.rec.Verdict)
		if f.rr.reason != "" {
			d = fmt.Sprintf("verdict %s: %s (recorded %s)", f.rr.verdict, f.rr.reason, f.rec.Verdict)
		}
		diffs = append(diffs, d)
	}
	if f.rr.staleReads != f.rec.StaleReads {
		diffs = append(diffs, fmt.Sprintf("%d stale reads (recorded %d)", f.rr.staleReads, f.rec.StaleReads))
	}
	if lost := f.lost(); len(lost) != len(f.rec.LostWrites) {
		diffs = append(diffs, fmt.Sprintf("%d lost writes (recorded %d)", len(lost), len(f.rec.LostWrites)))
	}
	return strings.Join(diffs, "; ")
}

// opTimeoutNS is the workload configuration's op_timeout_ns; 0 when absent.
func opTimeoutNS(config json.RawMessage) int64 {
	var cfg struct {
		OpTimeoutNS int64 `json:"op_timeout_ns"`
	}
	if json.Unmarshal(config, &cfg) != nil || cfg.OpTimeoutNS <= 0 || cfg.OpTimeoutNS > math.MaxInt64/2 {
		return 0
	}
	return cfg.OpTimeoutNS
}
