package report

import (
	"math"
	"slices"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// faultTimes are a trial's fault start and recovered instant, on the
// history's clock (ns since the run's start).
type faultTimes struct {
	hasFault bool
	start    int64
	// recovered is valid unless by is RecoveredCensored.
	recovered int64
	by        string
	// healed is true when the fault was a pause or partition with a known end.
	healed bool
	heal   int64
}

// trialFaultTimes finds trial t's fault start (the earliest start of its
// kill, pause and partition records) and its recovered instant: the later of
// clock_ns + t.first_ok and the heal (end_ns of the pause or partition
// record, else clock_ns + t.heal); the heal alone without a first ok;
// censored without either.
func trialFaultTimes(t *wlTrial, faults []history.Fault) faultTimes {
	first := -1
	for i := range faults {
		f := &faults[i]
		if f.Trial == t.trial && disruptiveFault(f.Fault) && (first < 0 || f.StartNS < faults[first].StartNS) {
			first = i
		}
	}
	if first < 0 {
		return faultTimes{by: RecoveredNoFault}
	}
	f := &faults[first]
	ft := faultTimes{hasFault: true, start: f.StartNS, by: RecoveredCensored}
	if f.Fault != history.FaultKill {
		switch {
		case f.EndNS != nil:
			ft.healed, ft.heal = true, *f.EndNS
		case t.clock != nil && t.heal != nil:
			ft.healed, ft.heal = true, *t.clock+*t.heal
		}
	}
	if t.clock != nil && t.firstOK != nil {
		ft.recovered, ft.by = *t.clock+*t.firstOK, RecoveredFirstOK
	}
	if ft.healed && (ft.by == RecoveredCensored || ft.heal > ft.recovered) {
		ft.recovered, ft.by = ft.heal, RecoveredHeal
	}
	ft.recovered = max(ft.recovered, ft.start)
	return ft
}

func disruptiveFault(kind string) bool {
	return kind == history.FaultKill || kind == history.FaultPause || kind == history.FaultPartition
}

// span is a trial's operations' extent: the first invocation to the last
// completion (or invocation, for operations without one).
type span struct{ start, end int64 }

func opSpan(h *runHistory, idx []int32) (span, bool) {
	if len(idx) == 0 {
		return span{}, false
	}
	s := span{start: math.MaxInt64, end: math.MinInt64}
	for _, i := range idx {
		c := &h.ops[i]
		s.start = min(s.start, c.invoke)
		s.end = max(s.end, c.invoke)
		if c.complete != noComplete {
			s.end = max(s.end, c.complete)
		}
	}
	return s, true
}

// trialWindows counts the operations idx by the phase they were invoked in:
// before the fault start, during [fault start, recovered), after.
func trialWindows(h *runHistory, idx []int32, sp span, ft faultTimes) Windows {
	var w Windows
	for _, i := range idx {
		c := &h.ops[i]
		w.All.count(c)
		switch {
		case !ft.hasFault:
		case c.invoke < ft.start:
			w.Before.count(c)
		case ft.by == RecoveredCensored || c.invoke < ft.recovered:
			w.During.count(c)
		default:
			w.After.count(c)
		}
	}
	w.All.finish(sp.end - sp.start)
	if !ft.hasFault {
		w.Before.finish(-1)
		w.During.finish(-1)
		w.After.finish(-1)
		return w
	}
	w.Before.finish(ft.start - sp.start)
	if ft.by == RecoveredCensored {
		w.During.finish(sp.end - ft.start)
		w.After.finish(-1)
		return w
	}
	w.During.finish(ft.recovered - ft.start)
	w.After.finish(sp.end - ft.recovered)
	return w
}

func (w *Window) count(c *hop) {
	w.Ops++
	switch c.status {
	case statusOK:
		w.OK++
	case statusFail:
		w.Fail++
	default:
		w.Unknown++
	}
}

// finish sets the window's length (ns; negative: none), throughput and error rate.
func (w *Window) finish(lengthNS int64) {
	w.LengthMS, w.Throughput, w.ErrorRate = nan(), nan(), nan()
	w.lengthNS, w.hasLength = lengthNS, lengthNS >= 0
	if w.hasLength {
		w.LengthMS = Float(float64(lengthNS) / 1e6)
	}
	if lengthNS > 0 {
		w.Throughput = Float(float64(w.OK) / (float64(lengthNS) / 1e9))
	}
	if w.Ops > 0 {
		w.ErrorRate = Float(float64(w.Fail+w.Unknown) / float64(w.Ops))
	}
}

// unavailability is, per client of the trial, its longest time (ms) within
// the span without a successful completion: the largest gap between the
// span's start, its successful completions in order, and the span's end.
func unavailability(h *runHistory, idx []int32, sp span) []float64 {
	done := map[int32][]int64{}
	var clients []int32
	for _, i := range idx {
		c := &h.ops[i]
		if _, ok := done[c.client]; !ok {
			done[c.client] = nil
			clients = append(clients, c.client)
		}
		if c.answered() {
			done[c.client] = append(done[c.client], c.complete)
		}
	}
	out := make([]float64, 0, len(clients))
	for _, cl := range clients {
		out = append(out, float64(longestGap(done[cl], sp))/1e6)
	}
	return out
}

func longestGap(completions []int64, sp span) int64 {
	slices.Sort(completions)
	gap, prev := int64(0), sp.start
	for _, t := range completions {
		gap = max(gap, t-prev)
		prev = t
	}
	return max(gap, sp.end-prev)
}
