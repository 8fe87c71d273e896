package report

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Z95 is the two-sided 95% standard normal quantile used by the Wilson interval.
const Z95 = 1.959963984540054

// Conf95 is the confidence level of the report's intervals.
const Conf95 = 0.95

// MinRuleOfThreeN is the least number of decided trials for which the
// report gives the rule-of-three bound (3/n approximates the exact bound
// only for large n).
const MinRuleOfThreeN = 30

// Wilson returns the Wilson score interval for k successes in n trials
// with the normal quantile z; NaNs when n is zero.
func Wilson(k, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return math.NaN(), math.NaN()
	}
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return max(0, centre-half), min(1, centre+half)
}

// ClopperPearsonUpper is the upper limit of the exact (Clopper–Pearson)
// two-sided interval at confidence conf for a proportion with k events in
// n trials: the (1+conf)/2 quantile of Beta(k+1, n−k), 1 when k = n; NaN
// when n ≤ 0 or k is not in 0..n. With conf = 0.95 it is also the
// one-sided 97.5% upper bound.
func ClopperPearsonUpper(k, n int, conf float64) float64 {
	if n <= 0 || k < 0 || k > n {
		return math.NaN()
	}
	if k == n {
		return 1
	}
	return distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile((1 + conf) / 2)
}

// RuleOfThree is the approximate 95% upper bound 3/n on the rate of an
// event seen in none of n trials; NaN when n is zero.
func RuleOfThree(n int) float64 {
	if n <= 0 {
		return math.NaN()
	}
	return 3 / float64(n)
}

// TrialsNeeded is the smallest n such that zero events in n trials bound
// the event rate below 1−level at confidence conf by the exact binomial
// bound: (level)^n ≤ 1−conf, i.e. n = ⌈ln(1−conf)/ln(level)⌉.
func TrialsNeeded(level, conf float64) int {
	return int(math.Ceil(math.Log(1-conf)/math.Log(level) - 1e-9))
}
