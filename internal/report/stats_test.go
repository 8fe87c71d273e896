package report

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
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
	want := Distribution{N: 8, Missing: 3, Mean: 5, Median: 4.5, P95: 8.3, P99: 8.86, Min: 2, Max: 9,
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
	if one.Mean != 3 || one.P99 != 3 || one.StdDev.OK() {
		t.Errorf("one value: %+v, want mean 3 and no standard deviation", one)
	}
	if none := Describe(nil, 2); none.N != 0 || none.Mean.OK() || none.Max.OK() {
		t.Errorf("no values: %+v", none)
	}
}

// Reference intervals: Newcombe (1998), Statistics in Medicine 17:857–872,
// Table I, method 3 (Wilson score, no continuity correction), to 4 places;
// and 12/12, the seed campaign's shape.
func TestWilson(t *testing.T) {
	tests := []struct {
		k, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
		{12, 12, 0.7575, 1},
	}
	for _, tt := range tests {
		lo, hi := Wilson(tt.k, tt.n, Z95)
		if !near(lo, tt.lo, 5e-5) || !near(hi, tt.hi, 5e-5) {
			t.Errorf("Wilson(%d/%d) = %.5f–%.5f, want %.4f–%.4f", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
	if lo, hi := Wilson(0, 0, Z95); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("Wilson(0/0) = %v–%v, want NaN", lo, hi)
	}
}

func TestZ95IsTheNormalQuantile(t *testing.T) {
	if z := distuv.UnitNormal.Quantile(0.975); !near(z, Z95, 1e-12) {
		t.Errorf("UnitNormal.Quantile(0.975) = %.15f, Z95 = %.15f", z, Z95)
	}
}

func TestZeroLossBounds(t *testing.T) {
	if got := RuleOfThree(12); got != 0.25 {
		t.Errorf("RuleOfThree(12) = %v, want 0.25", got)
	}
	if got := RuleOfThree(0); !math.IsNaN(got) {
		t.Errorf("RuleOfThree(0) = %v, want NaN", got)
	}
	tests := []struct {
		level float64
		want  int
	}{
		{0.99, 299},   // 0.99^299 = 0.0496 ≤ 0.05 < 0.99^298 = 0.0501
		{0.999, 2995}, // ln 0.05 / ln 0.999 = 2994.2
		{0.95, 59},    // 0.95^59 = 0.0485, 0.95^58 = 0.0510
	}
	for _, tt := range tests {
		got := TrialsNeeded(tt.level, 0.95)
		if got != tt.want {
			t.Errorf("TrialsNeeded(%v) = %d, want %d", tt.level, got, tt.want)
		}
		if math.Pow(tt.level, float64(got)) > 0.05 || math.Pow(tt.level, float64(got-1)) <= 0.05 {
			t.Errorf("TrialsNeeded(%v) = %d is not the smallest n with level^n ≤ 0.05", tt.level, got)
		}
	}
}

func TestRanks(t *testing.T) {
	got := Ranks([]float64{30, 10, 20, 20, 50, 20})
	want := []float64{5, 1, 3, 3, 6, 3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Ranks = %v, want %v", got, want)
		}
	}
}

// exactPermutationP enumerates every permutation of y: the exact two-sided
// p-value the Monte Carlo test estimates.
func exactPermutationP(x, y []float64) float64 {
	rho := stat.Correlation(Ranks(x), Ranks(y), nil)
	ry := Ranks(y)
	rx := Ranks(x)
	perm := make([]float64, len(ry))
	var extreme, total int
	var rec func(used []bool, k int)
	rec = func(used []bool, k int) {
		if k == len(ry) {
			total++
			if math.Abs(stat.Correlation(rx, perm, nil)) >= math.Abs(rho)-1e-12 {
				extreme++
			}
			return
		}
		for i := range ry {
			if !used[i] {
				used[i] = true
				perm[k] = ry[i]
				rec(used, k+1)
				used[i] = false
			}
		}
	}
	rec(make([]bool, len(ry)), 0)
	return float64(extreme) / float64(total)
}

func TestSpearman(t *testing.T) {
	// scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) (its
	// documentation's example, with a tie): rho 0.8207826816681233,
	// t-approximation p 0.0885870053135438.
	x := []float64{1, 2, 3, 4, 5}
	y := []float64{5, 6, 7, 8, 7}
	s := SpearmanTest(x, y)
	if !near(float64(s.Rho), 0.8207826816681233, 1e-12) {
		t.Errorf("rho = %.16f", s.Rho)
	}
	if got := spearmanTP(0.8207826816681233, 5); !near(got, 0.0885870053135438, 1e-9) {
		t.Errorf("t-approximation p = %.16f", got)
	}
	exact := exactPermutationP(x, y)
	se := math.Sqrt(exact * (1 - exact) / Permutations)
	if s.Method != "permutation" || s.Permutations != Permutations || !near(float64(s.P), exact, 4*se+1.0/Permutations) {
		t.Errorf("p = %v by %s (%d), exact permutation p = %v", s.P, s.Method, s.Permutations, exact)
	}
	if again := SpearmanTest(x, y); again.P != s.P {
		t.Errorf("p not deterministic: %v then %v", s.P, again.P)
	}

	if s := SpearmanTest([]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}); s.Rho != 1 || float64(s.P) > 0.1 {
		t.Errorf("monotone: rho %v p %v", s.Rho, s.P)
	}
	if s := SpearmanTest([]float64{1, 1, 1, 1}, []float64{1, 2, 3, 4}); s.Rho.OK() || s.P.OK() {
		t.Errorf("constant x: rho %v p %v, want NaN", s.Rho, s.P)
	}
	if s := SpearmanTest([]float64{1, 2}, []float64{1, 2}); s.Rho.OK() {
		t.Errorf("two pairs: rho %v, want NaN", s.Rho)
	}

	// Above MaxPermutationN the t approximation is used.
	n := MaxPermutationN + 1
	bx, by := make([]float64, n), make([]float64, n)
	for i := range bx {
		bx[i], by[i] = float64(i), float64((i*7919)%n)
	}
	big := SpearmanTest(bx, by)
	if big.Method != "t-approximation" || big.Permutations != 0 || !near(float64(big.P), spearmanTP(float64(big.Rho), n), 1e-15) {
		t.Errorf("large sample: %+v", big)
	}
}
