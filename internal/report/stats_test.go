package report

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat"
)

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol
}

func seq(lo, hi int) []float64 {
	var x []float64
	for i := lo; i <= hi; i++ {
		x = append(x, float64(i))
	}
	return x
}

// Reference values from numpy.percentile / R quantile(type = 7) and the
// worked example of Wikipedia's "Percentile" article (second variant, C = 1).
func TestQuantile7(t *testing.T) {
	tests := []struct {
		name string
		p    float64
		x    []float64
		want float64
	}{
		{"numpy median of 1..4", 0.5, seq(1, 4), 2.5},
		{"numpy p95 of 1..10", 0.95, seq(1, 10), 9.55},
		{"R p99 of 1..10", 0.99, seq(1, 10), 9.91},
		{"R p25 of 1..10", 0.25, seq(1, 10), 3.25},
		{"wikipedia 40th percentile", 0.4, []float64{15, 20, 35, 40, 50}, 29},
		{"minimum", 0, []float64{15, 20, 35, 40, 50}, 15},
		{"maximum", 1, []float64{15, 20, 35, 40, 50}, 50},
		{"single value", 0.99, []float64{7}, 7},
		{"empty", 0.5, nil, math.NaN()},
		{"p out of range", 1.5, seq(1, 3), math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quantile7(tt.p, tt.x); !near(got, tt.want, 1e-12) {
				t.Errorf("Quantile7(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

// gonum's stat.Quantile has no type 7, which is why Quantile7 exists: its
// LinInterp (type 4) gives 2 for the median of 1..4 where numpy gives 2.5.
func TestGonumQuantileIsNotType7(t *testing.T) {
	if got := stat.Quantile(0.5, stat.LinInterp, seq(1, 4), nil); got == Quantile7(0.5, seq(1, 4)) {
		t.Fatalf("gonum LinInterp median of 1..4 = %v, the same as type 7: revisit Quantile7", got)
	}
}

func TestDescribe(t *testing.T) {
	d := Describe([]float64{9, 2, 4, 4, 5, 4, 5, 7}, 3)
	nan := Float(math.NaN())
	// 8 values: p95 and p99 are not estimated (MinN95 = 20, MinN99 = 100).
	want := Distribution{N: 8, Missing: 3, Mean: 5, Median: 4.5, P95: nan, P99: nan, Min: 2, Max: 9,
		StdDev: Float(math.Sqrt(32.0 / 7))} // sample standard deviation, n − 1
	got := []Float{d.Mean, d.Median, d.P95, d.P99, d.Min, d.Max, d.StdDev}
	exp := []Float{want.Mean, want.Median, want.P95, want.P99, want.Min, want.Max, want.StdDev}
	if d.N != want.N || d.Missing != want.Missing {
		t.Errorf("n = %d, missing = %d", d.N, d.Missing)
	}
	for i := range got {
		if !near(float64(got[i]), float64(exp[i]), 1e-12) {
			t.Errorf("field %d = %v, want %v", i, got[i], exp[i])
		}
	}
	one := Describe([]float64{3}, 0)
	if one.Mean != 3 || one.Median != 3 || one.P99.OK() || one.StdDev.OK() {
		t.Errorf("one value: %+v, want mean 3 and no p99 or standard deviation", one)
	}
	if none := Describe(nil, 2); none.N != 0 || none.Mean.OK() || none.Max.OK() {
		t.Errorf("no values: %+v", none)
	}
}

// p95 from MinN95 values on, p99 from MinN99 on (type 7: 1 + (n−1)p for 1..n).
func TestDescribePercentileThresholds(t *testing.T) {
	tests := []struct {
		n        int
		p95, p99 float64
	}{
		{19, math.NaN(), math.NaN()},
		{20, 19.05, math.NaN()},
		{99, 94.1, math.NaN()},
		{100, 95.05, 99.01},
	}
	for _, tt := range tests {
		d := Describe(seq(1, tt.n), 0)
		if !near(float64(d.P95), tt.p95, 1e-9) || !near(float64(d.P99), tt.p99, 1e-9) {
			t.Errorf("n = %d: p95 %v, p99 %v; want %v, %v", tt.n, d.P95, d.P99, tt.p95, tt.p99)
		}
	}
}
