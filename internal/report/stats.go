package report

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Z95 is the two-sided 95% standard normal quantile used by the Wilson interval.
const Z95 = 1.959963984540054

// Permutations is the number of random permutations of the Spearman test.
const Permutations = 9999

// PermutationSeed seeds the permutation test's generator, so that the
// p-value is the same on every run.
const PermutationSeed = 20261125

// MaxPermutationN is the largest sample tested by permutation; larger
// samples use the t approximation (the permutation test would cost
// n × Permutations operations).
const MaxPermutationN = 5000

// Quantile7 returns the p-quantile of sorted by linear interpolation
// between order statistics (Hyndman & Fan type 7, numpy's and R's
// default): h = (n−1)p, q = x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
// sorted must be in increasing order; NaN when it is empty.
func Quantile7(p float64, sorted []float64) float64 {
	n := len(sorted)
	if n == 0 || p < 0 || p > 1 || math.IsNaN(p) {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := math.Floor(h)
	i := int(lo)
	if i >= n-1 {
		return sorted[n-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

// Distribution summarises one metric over the trials that have it.
type Distribution struct {
	N       int   `json:"n"`
	Missing int   `json:"missing"`
	Mean    Float `json:"mean"`
	Median  Float `json:"median"`
	P95     Float `json:"p95"`
	P99     Float `json:"p99"`
	Min     Float `json:"min"`
	Max     Float `json:"max"`
	// StdDev is the sample standard deviation (n − 1); null below two values.
	StdDev Float `json:"stddev"`
}

// Describe summarises x, which it sorts in place; missing is the number of
// trials without a value.
func Describe(x []float64, missing int) Distribution {
	d := Distribution{N: len(x), Missing: missing}
	nan := Float(math.NaN())
	d.Mean, d.Median, d.P95, d.P99, d.Min, d.Max, d.StdDev = nan, nan, nan, nan, nan, nan, nan
	if len(x) == 0 {
		return d
	}
	slices.Sort(x)
	d.Mean = Float(stat.Mean(x, nil))
	d.Median = Float(Quantile7(0.5, x))
	d.P95 = Float(Quantile7(0.95, x))
	d.P99 = Float(Quantile7(0.99, x))
	d.Min = Float(floats.Min(x))
	d.Max = Float(floats.Max(x))
	if len(x) > 1 {
		d.StdDev = Float(stat.StdDev(x, nil))
	}
	return d
}

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

// Ranks returns the 1-based ranks of x, ties receiving the average of the
// ranks they span.
func Ranks(x []float64) []float64 {
	idx := make([]int32, len(x))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Compare(x[a], x[b]) })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && x[idx[j]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// Spearman is Spearman's rank correlation with a two-sided test of
// independence.
type Spearman struct {
	N   int   `json:"n"`
	Rho Float `json:"rho"`
	P   Float `json:"p"`
	// Method is "permutation" or "t-approximation".
	Method       string `json:"method"`
	Permutations int    `json:"permutations"`
	Seed         uint64 `json:"seed"`
}

// SpearmanTest computes Spearman's rho of x and y (Pearson correlation of
// their average ranks) and its two-sided p-value: by Permutations random
// permutations of y's ranks from a PCG generator seeded with
// PermutationSeed, p = (1 + #{|rho*| ≥ |rho|}) / (1 + Permutations); or, for
// more than MaxPermutationN pairs, from Student's t with n−2 degrees of
// freedom, t = rho·√((n−2)/(1−rho²)). Rho and P are NaN below three pairs
// or when either variable is constant.
func SpearmanTest(x, y []float64) Spearman {
	s := Spearman{N: len(x), Rho: Float(math.NaN()), P: Float(math.NaN())}
	if len(x) != len(y) || len(x) < 3 {
		return s
	}
	rx, ry := Ranks(x), Ranks(y)
	rho := stat.Correlation(rx, ry, nil)
	if math.IsNaN(rho) {
		return s
	}
	s.Rho = Float(rho)
	n := len(x)
	if n > MaxPermutationN {
		s.Method = "t-approximation"
		s.P = Float(spearmanTP(rho, n))
		return s
	}
	s.Method, s.Permutations, s.Seed = "permutation", Permutations, PermutationSeed
	// With ranks fixed, rho* is monotone in Σ rx·ry*, so the test compares
	// centred cross products instead of recomputing correlations.
	mx, my := stat.Mean(rx, nil), stat.Mean(ry, nil)
	cx := make([]float64, n)
	cy := make([]float64, n)
	for i := range rx {
		cx[i], cy[i] = rx[i]-mx, ry[i]-my
	}
	obs := math.Abs(floats.Dot(cx, cy))
	tol := 1e-9 * (1 + obs)
	rng := rand.New(rand.NewPCG(PermutationSeed, 0))
	extreme := 0
	for range Permutations {
		rng.Shuffle(n, func(i, j int) { cy[i], cy[j] = cy[j], cy[i] })
		if math.Abs(floats.Dot(cx, cy)) >= obs-tol {
			extreme++
		}
	}
	s.P = Float(float64(1+extreme) / float64(1+Permutations))
	return s
}

// spearmanTP is the two-sided p-value of rho over n pairs from Student's t
// with n−2 degrees of freedom (as scipy.stats.spearmanr computes it).
func spearmanTP(rho float64, n int) float64 {
	if math.Abs(rho) >= 1 {
		return 0
	}
	t := rho * math.Sqrt(float64(n-2)/(1-rho*rho))
	dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 2)}
	return 2 * dist.Survival(math.Abs(t))
}
