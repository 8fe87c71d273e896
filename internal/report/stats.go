package report

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

// MinN95 and MinN99 are the least numbers of values for which Describe
// estimates the 95th and the 99th percentile: with fewer, the percentile is
// an interpolation between the largest values, not an estimate of a tail.
const (
	MinN95 = 20
	MinN99 = 100
)

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
	// P95 is null below MinN95 values, P99 below MinN99.
	P95 Float `json:"p95"`
	P99 Float `json:"p99"`
	Min Float `json:"min"`
	Max Float `json:"max"`
	// StdDev is the sample standard deviation (n − 1); null below two values.
	StdDev Float `json:"stddev"`
}

// Describe summarises x, which it sorts in place; missing is the number of
// trials without a value. P95 and P99 are NaN below MinN95 and MinN99 values.
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
	if len(x) >= MinN95 {
		d.P95 = Float(Quantile7(0.95, x))
	}
	if len(x) >= MinN99 {
		d.P99 = Float(Quantile7(0.99, x))
	}
	d.Min = Float(floats.Min(x))
	d.Max = Float(floats.Max(x))
	if len(x) > 1 {
		d.StdDev = Float(stat.StdDev(x, nil))
	}
	return d
}
