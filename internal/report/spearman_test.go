package report

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat"
)

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
