package report

import (
	"math"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

func msp(ms int64) *int64 { v := ms * 1e6; return &v }

func fault(trial int, kind string, startMS int64, endMS *int64) history.Fault {
	return history.Fault{Type: history.TypeFault, RunID: "r", Trial: trial, Fault: kind, StartNS: startMS * 1e6, EndNS: endMS}
}

func TestTrialFaultTimes(t *testing.T) {
	clock := msp(1000)
	tests := []struct {
		name      string
		trial     wlTrial
		faults    []history.Fault
		by        string
		start, at int64 // ms on the history's clock
	}{
		{"kill: recovered at first ok", wlTrial{trial: 1, clock: clock, firstOK: msp(600)},
			[]history.Fault{fault(1, history.FaultKill, 1200, msp(1205)), fault(1, history.FaultRestart, 1300, msp(1900))},
			RecoveredFirstOK, 1200, 1600},
		{"the earliest disruptive record of the trial counts", wlTrial{trial: 2, clock: clock, firstOK: msp(600)},
			[]history.Fault{fault(1, history.FaultKill, 900, nil), fault(2, history.FaultRestart, 1000, nil), fault(2, history.FaultKill, 1300, nil), fault(2, history.FaultKill, 1250, nil)},
			RecoveredFirstOK, 1250, 1600},
		{"pause healed before the first ok", wlTrial{trial: 1, clock: clock, firstOK: msp(600)},
			[]history.Fault{fault(1, history.FaultPause, 1200, msp(1500))}, RecoveredFirstOK, 1200, 1600},
		{"pause healed after the first ok: recovered at the heal", wlTrial{trial: 1, clock: clock, firstOK: msp(300)},
			[]history.Fault{fault(1, history.FaultPause, 1200, msp(1500))}, RecoveredHeal, 1200, 1500},
		{"partition without a first ok: the heal", wlTrial{trial: 1, clock: clock},
			[]history.Fault{fault(1, history.FaultPartition, 1200, msp(1700))}, RecoveredHeal, 1200, 1700},
		{"pause without end_ns: clock_ns + t.heal", wlTrial{trial: 1, clock: clock, heal: msp(450)},
			[]history.Fault{fault(1, history.FaultPause, 1200, nil)}, RecoveredHeal, 1200, 1450},
		{"kill without a first ok: censored (its end is no recovery)", wlTrial{trial: 1, clock: clock},
			[]history.Fault{fault(1, history.FaultKill, 1200, msp(1205))}, RecoveredCensored, 1200, 0},
		{"no clock_ns: the first ok cannot be placed", wlTrial{trial: 1, firstOK: msp(600)},
			[]history.Fault{fault(1, history.FaultKill, 1200, nil)}, RecoveredCensored, 1200, 0},
		{"a first ok before the fault: recovered at the fault", wlTrial{trial: 1, clock: clock, firstOK: msp(100)},
			[]history.Fault{fault(1, history.FaultKill, 1200, nil)}, RecoveredFirstOK, 1200, 1200},
		{"no fault record", wlTrial{trial: 3, clock: clock, firstOK: msp(600)},
			[]history.Fault{fault(1, history.FaultKill, 1200, nil), fault(3, history.FaultRestart, 1200, nil)}, RecoveredNoFault, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := trialFaultTimes(&tt.trial, tt.faults)
			if ft.by != tt.by || ft.hasFault != (tt.by != RecoveredNoFault) {
				t.Fatalf("by %q (fault %t), want %q", ft.by, ft.hasFault, tt.by)
			}
			if ft.hasFault && ft.start != tt.start*1e6 {
				t.Errorf("start %d, want %d ms", ft.start, tt.start)
			}
			if tt.at != 0 && ft.recovered != tt.at*1e6 {
				t.Errorf("recovered %d, want %d ms", ft.recovered, tt.at)
			}
		})
	}
}

// testHistory holds ops given as (client, invoke ms, complete ms or -1, status).
type testOp struct {
	client           string
	invoke, complete int64
	status           string
}

func testHistory(ops ...testOp) (*runHistory, []int32) {
	h := newRunHistory("r")
	var idx []int32
	for i, o := range ops {
		op := history.Op{Type: history.TypeOp, RunID: "r", Trial: 1, Client: o.client, Op: history.OpGet, Key: "k",
			InvokeNS: o.invoke * 1e6, Status: o.status}
		if o.complete >= 0 {
			op.CompleteNS = msp(o.complete)
		}
		h.ops = append(h.ops, h.compact(&op))
		idx = append(idx, int32(i))
	}
	return h, idx
}

func TestTrialWindows(t *testing.T) {
	h, idx := testHistory(
		testOp{"c1", 0, 10, history.StatusOK}, testOp{"c2", 50, 60, history.StatusFail}, // before
		testOp{"c1", 100, 110, history.StatusOK}, testOp{"c2", 150, -1, history.StatusUnknown}, // during
		testOp{"c1", 300, 310, history.StatusOK}, testOp{"c1", 390, 400, history.StatusOK}, // after
	)
	sp, _ := opSpan(h, idx)
	if sp.start != 0 || sp.end != 400e6 {
		t.Fatalf("span %+v", sp)
	}
	w := trialWindows(h, idx, sp, faultTimes{hasFault: true, start: 100e6, recovered: 200e6, by: RecoveredFirstOK})
	tests := []struct {
		name                  string
		w                     Window
		ops, ok               int
		length, rate, errRate float64
	}{
		{"all", w.All, 6, 4, 400, 10, 2.0 / 6},
		{"before [span start, fault start)", w.Before, 2, 1, 100, 10, 0.5},
		{"during [fault start, recovered)", w.During, 2, 1, 100, 10, 0.5},
		{"after [recovered, span end]", w.After, 2, 2, 200, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.w.Ops != tt.ops || tt.w.OK != tt.ok || !near(float64(tt.w.LengthMS), tt.length, 1e-9) ||
				!near(float64(tt.w.Throughput), tt.rate, 1e-9) || !near(float64(tt.w.ErrorRate), tt.errRate, 1e-9) {
				t.Errorf("%+v, want ops %d ok %d length %v ms, %v ok/s, error rate %v", tt.w, tt.ops, tt.ok, tt.length, tt.rate, tt.errRate)
			}
		})
	}
	// Censored: during runs to the span's end, after is not available.
	c := trialWindows(h, idx, sp, faultTimes{hasFault: true, start: 100e6, by: RecoveredCensored})
	if c.During.Ops != 4 || float64(c.During.LengthMS) != 300 || c.After.Ops != 0 || c.After.LengthMS.OK() || c.After.Throughput.OK() {
		t.Errorf("censored: during %+v, after %+v", c.During, c.After)
	}
	// No fault: only the whole span.
	n := trialWindows(h, idx, sp, faultTimes{by: RecoveredNoFault})
	if n.All.Ops != 6 || n.Before.Ops != 0 || n.Before.LengthMS.OK() || n.During.ErrorRate.OK() {
		t.Errorf("no fault: %+v", n)
	}
	// A fault before the first operation: before has no length, no throughput.
	e := trialWindows(h, idx, sp, faultTimes{hasFault: true, start: -5e6, recovered: 200e6, by: RecoveredHeal})
	if e.Before.LengthMS.OK() || e.Before.Throughput.OK() || e.During.Ops != 4 {
		t.Errorf("fault before the span: before %+v, during %+v", e.Before, e.During)
	}
}

func TestWindowFinish(t *testing.T) {
	tests := []struct {
		name             string
		w                Window
		lengthNS         int64
		length, rate, er float64 // NaN: not available
	}{
		{"no operations", Window{}, 1e9, 1000, 0, math.NaN()},
		{"zero length", Window{Ops: 2, OK: 2}, 0, 0, math.NaN(), 0},
		{"no length", Window{Ops: 2, OK: 1, Unknown: 1}, -1, math.NaN(), math.NaN(), 0.5},
		{"throughput and error rate", Window{Ops: 10, OK: 6, Fail: 3, Unknown: 1}, 2e9, 2000, 3, 0.4},
	}
	same := func(got Float, want float64) bool {
		return (math.IsNaN(want) && !got.OK()) || near(float64(got), want, 1e-12)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.w.finish(tt.lengthNS)
			if !same(tt.w.LengthMS, tt.length) || !same(tt.w.Throughput, tt.rate) || !same(tt.w.ErrorRate, tt.er) {
				t.Errorf("%+v, want length %v, rate %v, error rate %v", tt.w, tt.length, tt.rate, tt.er)
			}
		})
	}
}

func TestUnavailability(t *testing.T) {
	h, idx := testHistory(
		testOp{"c1", 0, 10, history.StatusOK}, testOp{"c1", 20, 30, history.StatusOK}, testOp{"c1", 40, 300, history.StatusFail},
		testOp{"c1", 310, 320, history.StatusOK},
		testOp{"c2", 5, 15, history.StatusFail}, testOp{"c2", 20, -1, history.StatusUnknown},
		testOp{"c3", 100, 110, history.StatusOK}, testOp{"c3", 390, 400, history.StatusOK},
	)
	sp, _ := opSpan(h, idx)
	got := unavailability(h, idx, sp)
	// c1: the gap 30 → 320; c2: no success in the span (0 → 400); c3: 110 → 400.
	want := []float64{290, 400, 290}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("client %d: %v ms, want %v", i+1, got[i], want[i])
		}
	}
	if p50, mx := medianMax(got); p50 != 290 || mx != 400 {
		t.Errorf("p50 %v, max %v", p50, mx)
	}
	if p50, mx := medianMax(nil); p50.OK() || mx.OK() {
		t.Errorf("no clients: p50 %v, max %v", p50, mx)
	}
	if g := longestGap([]int64{50, 20}, span{0, 60}); g != 30 {
		t.Errorf("unsorted completions: gap %d, want 30", g)
	}
}

func TestAgeBins(t *testing.T) {
	ns := func(v int64) *int64 { return &v }
	var b AgeBins
	for _, age := range []*int64{nil, ns(-1), ns(0), ns(9_999_999), ns(10e6), ns(49_999_999), ns(50e6), ns(100e6), ns(199_999_999), ns(200e6), ns(5e9)} {
		b.add(age)
	}
	want := AgeBins{NoAge: 1, Negative: 1, To10: 2, To50: 2, To100: 1, To200: 2, Over200: 2}
	if b != want {
		t.Errorf("%+v, want %+v", b, want)
	}
	if s := b.plus(b); s.To10 != 4 || s.NoAge != 2 {
		t.Errorf("plus: %+v", s)
	}
}

func TestWorkloadGroupsPool(t *testing.T) {
	win := func(ops, ok, bad int, lengthNS int64) Window {
		w := Window{Ops: ops, OK: ok, Fail: bad}
		w.finish(lengthNS)
		return w
	}
	trials := []WorkloadTrial{
		{Trial: 1, Scenario: "b", Verdict: "linearizable", unavailability: []float64{100, 300},
			Windows: Windows{During: win(10, 5, 5, 1e9), After: win(4, 4, 0, -1)}},
		{Trial: 2, Scenario: "a", Verdict: "violation", StaleReads: 1},
		{Trial: 3, Scenario: "b", Verdict: "unknown", LostWrites: 1, LostByAge: AgeBins{To10: 1}, unavailability: []float64{200},
			Windows: Windows{During: win(10, 1, 9, 3e9), After: win(2, 2, 0, 1e9)}},
	}
	groups := workloadGroups(trials, func(s string) int { return map[string]int{"b": 0, "a": 1}[s] })
	if len(groups) != 2 || groups[0].Scenario != "b" || groups[1].Scenario != "a" {
		t.Fatalf("groups %+v", groups)
	}
	g := groups[0]
	if g.Trials != 2 || g.Verdicts != (Verdicts{Linearizable: 1, Unknown: 1}) || g.LostWrites != 1 || g.LostByAge.To10 != 1 {
		t.Errorf("counts %+v", g)
	}
	// Throughput pooled: (5 + 1) ok over 4 s; error rate 14 of 20.
	if d := g.Windows.During; d.Throughput != 1.5 || d.ErrorRate != 0.7 || d.LengthMS != 4000 {
		t.Errorf("during %+v", d)
	}
	// After: trial 1's has no length and is left out.
	if a := g.Windows.After; a.Ops != 2 || a.LengthMS != 1000 || a.Throughput != 2 {
		t.Errorf("after %+v", a)
	}
	if g.Clients != 3 || g.UnavailabilityP50 != 200 || g.UnavailabilityMax != 300 {
		t.Errorf("unavailability %d clients, p50 %v, max %v", g.Clients, g.UnavailabilityP50, g.UnavailabilityMax)
	}
}
