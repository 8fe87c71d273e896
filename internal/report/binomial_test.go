package report

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

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

// binomCDF is P(X ≤ k) for X ~ Binomial(n, p), summed term by term in log space.
func binomCDF(k, n int, p float64) float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x)); return v }
	sum := 0.0
	for i := 0; i <= k; i++ {
		sum += math.Exp(lg(n+1) - lg(i+1) - lg(n-i+1) + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return sum
}

// upperByBisection is the p at which P(X ≤ k; n, p) = alpha: the exact upper
// bound, found without the Beta distribution (the CDF falls as p rises).
func upperByBisection(k, n int, alpha float64) float64 {
	lo, hi := 0.0, 1.0
	for range 200 {
		mid := (lo + hi) / 2
		if binomCDF(k, n, mid) > alpha {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// Reference upper limits of the two-sided 95% Clopper–Pearson interval:
// bisection on the binomial CDF above, and to 12 digits mpmath's
// regularized incomplete beta inverted by bisection at 40 digits. Known
// values: 0/n gives 1 − 0.025^(1/n) (0/12 → 0.2646; one-sided 95%
// 1 − 0.05^(1/12) = 0.2209); R's binom.test(3, 10) gives 0.0667–0.6525.
func TestClopperPearsonUpper(t *testing.T) {
	tests := []struct {
		k, n int
		conf float64
		want float64
	}{
		{0, 12, 0.95, 0.264648469397},
		{0, 12, 0.90, 0.220922191946}, // the one-sided 95% bound
		{0, 30, 0.95, 0.115703308222},
		{1, 29, 0.95, 0.177644295489},
		{3, 10, 0.95, 0.652452850060},
		{0, 1, 0.95, 0.975},
		{0, 300, 0.95, 0.0122209746943},
		{81, 263, 0.95, 0.367621922601},
		{12, 12, 0.95, 1},
	}
	for _, tt := range tests {
		got := ClopperPearsonUpper(tt.k, tt.n, tt.conf)
		if !near(got, tt.want, 1e-9) {
			t.Errorf("ClopperPearsonUpper(%d/%d, %v) = %.12f, want %.12f", tt.k, tt.n, tt.conf, got, tt.want)
		}
		if tt.k < tt.n {
			if ref := upperByBisection(tt.k, tt.n, (1-tt.conf)/2); !near(got, ref, 1e-9) {
				t.Errorf("ClopperPearsonUpper(%d/%d, %v) = %.12f, bisection gives %.12f", tt.k, tt.n, tt.conf, got, ref)
			}
		}
	}
	if k0 := ClopperPearsonUpper(0, 12, 0.95); !near(k0, 1-math.Pow(0.025, 1.0/12), 1e-12) {
		t.Errorf("0/12: %v, want 1 − 0.025^(1/12)", k0)
	}
	for _, bad := range [][2]int{{0, 0}, {-1, 5}, {6, 5}} {
		if got := ClopperPearsonUpper(bad[0], bad[1], 0.95); !math.IsNaN(got) {
			t.Errorf("ClopperPearsonUpper(%d/%d) = %v, want NaN", bad[0], bad[1], got)
		}
	}
}

func TestNewSuccessBounds(t *testing.T) {
	tests := []struct {
		name        string
		o           Outcomes
		cpUpper     float64
		ruleOfThree float64
		reason      string
	}{
		{"0 of 12", Outcomes{Durable: 12}, 0.264648469397, math.NaN(), "n < 30"},
		{"0 of 29", Outcomes{Durable: 29, Inconclusive: 4}, ClopperPearsonUpper(0, 29, 0.95), math.NaN(), "n < 30"},
		{"0 of 30", Outcomes{Durable: 30}, 0.115703308222, 0.1, ""},
		{"1 of 29", Outcomes{Durable: 28, Lost: 1}, 0.177644295489, math.NaN(), "losses observed"},
		{"none decided", Outcomes{Inconclusive: 3}, math.NaN(), math.NaN(), "no decided trials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSuccess(tt.o)
			if !near(float64(s.LossUpperCP), tt.cpUpper, 1e-9) || !near(float64(s.LossUpper), tt.ruleOfThree, 1e-12) || s.LossUpperReason != tt.reason {
				t.Errorf("CP %v, rule of three %v (%q); want %v, %v (%q)", s.LossUpperCP, s.LossUpper, s.LossUpperReason, tt.cpUpper, tt.ruleOfThree, tt.reason)
			}
		})
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
