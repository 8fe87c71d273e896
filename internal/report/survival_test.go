package report

import (
	"math"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// Hand-worked Kaplan–Meier medians. Ŝ multiplies (1 − d/r) at each event
// time, r counting those still at risk (a time censored at t is at risk at t).
func TestKaplanMeierMedian(t *testing.T) {
	tests := []struct {
		name             string
		events, censored []float64
		want             float64
	}{
		// Ŝ(1) = 5/6, 2 censored, Ŝ(3) = 5/6·3/4 = 0.625, Ŝ(4) = 0.625·2/3 = 0.417 ≤ ½.
		{"censored in between", []float64{6, 4, 1, 3}, []float64{5, 2}, 4},
		// Ŝ(2) = ½ exactly until 3: the midpoint, the ordinary median.
		{"no censoring, even n", []float64{4, 3, 2, 1}, nil, 2.5},
		{"no censoring, odd n", []float64{5, 1, 4, 2, 3}, nil, 3},
		// Ŝ(1) = 2/3 and no more events: not reached.
		{"mostly censored", []float64{1}, []float64{2, 3}, math.NaN()},
		// At 2: 4 at risk (the time censored at 2 included), 2 events: Ŝ = ½ until 5.
		{"tied event and censoring", []float64{2, 2, 5}, []float64{2}, 3.5},
		// Ŝ(1) = ½ and no later event: the median is 1.
		{"ends at one half", []float64{1}, []float64{2}, 1},
		// 11 at risk, 3 censored late: Ŝ = 10/11, 9/11, …, 5/11 at 580.
		{"late censoring", []float64{450, 560, 520, 580, 700, 1000, 400, 500}, []float64{30000, 8995.7, 30000}, 580},
		// The v2 fixture: one censored at 4, so 10 at risk at 400; Ŝ(560) = ½ until 580.
		{"v2 fixture", []float64{450, 560, 520, 580, 700, 1000, 400, 500}, []float64{30000, 8995.7, 4}, 570},
		{"empty", nil, nil, math.NaN()},
		{"NaNs ignored", []float64{math.NaN(), 2, 1}, []float64{math.NaN()}, 1.5},
		{"only censored", nil, []float64{1, 2}, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KaplanMeierMedian(tt.events, tt.censored); !near(got, tt.want, 1e-12) {
				t.Errorf("median = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCensorTime(t *testing.T) {
	at := func(v int64) *int64 { return &v }
	tests := []struct {
		name          string
		tr            results.Trial
		verifyTimeout int64
		want          int64
		ok            bool
	}{
		{"end", results.Trial{T: results.Timestamps{KillSent: at(10), End: at(500)}}, 300, 490, true},
		{"no end: verify timeout", results.Trial{T: results.Timestamps{KillSent: at(10), KillDone: at(20)}}, 300, 300, true},
		{"interrupted: last timestamp", results.Trial{Interrupted: true, T: results.Timestamps{KillSent: at(10), KillDone: at(20), NewLeader: at(90)}}, 300, 80, true},
		{"no verify timeout: last timestamp", results.Trial{T: results.Timestamps{KillSent: at(10), Restart: at(40)}}, 0, 30, true},
		{"nothing after the kill", results.Trial{T: results.Timestamps{KillSent: at(10)}}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := censorTime(&tt.tr, tt.verifyTimeout); got != tt.want || ok != tt.ok {
				t.Errorf("censorTime = %d, %t; want %d, %t", got, ok, tt.want, tt.ok)
			}
		})
	}
}
