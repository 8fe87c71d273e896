package report

import (
	"math"
	"slices"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// KaplanMeier is the Kaplan–Meier estimate of the median recovery time over
// the trials whose kill was sent: those that recovered are events, those
// that did not are censored at their last observation.
type KaplanMeier struct {
	// N is Recovered + Censored.
	N         int `json:"n"`
	Recovered int `json:"recovered"`
	Censored  int `json:"censored"`
	// Unobserved counts trials with a kill and no recovery that were not
	// observed after the kill (no censoring time): left out.
	Unobserved int `json:"unobserved"`
	// Median is the Kaplan–Meier median (ms); null when the estimate never
	// falls to one half (more than half censored) or N is zero.
	Median Float `json:"median"`
}

// KaplanMeierMedian returns the Kaplan–Meier median of survival times with
// events at the times in events and right-censoring at the times in
// censored (any order; both are sorted in place). A time censored at t is
// at risk at t. The median is the smallest event time t with Ŝ(t) ≤ ½;
// where Ŝ equals ½ exactly from an event time t₁ to the next event time t₂
// it is (t₁ + t₂)/2 (R survival's convention, so that without censoring it
// is the ordinary sample median), and t₁ when no event follows. NaN when
// Ŝ never falls to ½. NaN times are ignored.
func KaplanMeierMedian(events, censored []float64) float64 {
	events = slices.DeleteFunc(events, math.IsNaN)
	censored = slices.DeleteFunc(censored, math.IsNaN)
	slices.Sort(events)
	slices.Sort(censored)
	atRisk := len(events) + len(censored)
	s := 1.0
	for i, j := 0, 0; i < len(events); {
		t := events[i]
		for j < len(censored) && censored[j] < t {
			atRisk--
			j++
		}
		d := 0
		for i < len(events) && events[i] == t {
			d++
			i++
		}
		s *= 1 - float64(d)/float64(atRisk)
		atRisk -= d
		switch {
		case math.Abs(s-0.5) <= 1e-9 && i < len(events):
			return (t + events[i]) / 2
		case s <= 0.5+1e-9:
			return t
		}
	}
	return math.NaN()
}

// censorTime is how long after its kill a trial that never recovered was
// seen not to have recovered: t.end − t.kill_sent; else, unless the trial
// was interrupted, the verify timeout (the probe ran that long); else the
// latest timestamp after the kill. ok is false when nothing was observed
// after the kill.
func censorTime(t *results.Trial, verifyTimeoutNS int64) (ns int64, ok bool) {
	ts := &t.T
	kill := *ts.KillSent
	switch {
	case ts.End != nil && *ts.End > kill:
		return *ts.End - kill, true
	case verifyTimeoutNS > 0 && !t.Interrupted:
		return verifyTimeoutNS, true
	}
	last := kill
	for _, p := range []*int64{ts.KillDone, ts.NewLeader, ts.FirstOK, ts.Verify, ts.Restart, ts.VictimBack, ts.End} {
		if p != nil && *p > last {
			last = *p
		}
	}
	return last - kill, last > kill
}
