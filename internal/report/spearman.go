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

// Permutations is the number of random permutations of the Spearman test.
const Permutations = 9999

// PermutationSeed seeds the permutation test's generator, so that the
// p-value is the same on every run.
const PermutationSeed = 20261125

// MaxPermutationN is the largest sample tested by permutation; larger
// samples use the t approximation (the permutation test would cost
// n × Permutations operations).
const MaxPermutationN = 5000

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
	// Scope says which trials the test covers.
	Scope string `json:"scope"`
	// Descriptive is true when the design does not separate the delay from
	// the order and time of the trials (no shuffle, one round): the
	// correlation then describes this run and supports no inference.
	Descriptive bool `json:"descriptive"`
	// DescriptiveReason says why, when Descriptive.
	DescriptiveReason string `json:"descriptive_reason"`
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
	s.P = Float(permutationP(rx, ry))
	return s
}

// permutationP is the Monte Carlo permutation p-value of the rank
// correlation of rx and ry. With ranks fixed, rho* is monotone in
// Σ rx·ry*, so it compares centred cross products instead of recomputing
// correlations.
func permutationP(rx, ry []float64) float64 {
	n := len(rx)
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
	return float64(1+extreme) / float64(1+Permutations)
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
