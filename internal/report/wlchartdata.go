package report

import (
	"math"
)

// Bounds of the per-trial load charts.
const (
	// MaxWorkloadChartTrials is how many trials of a run (the first ones
	// with operations) get load charts.
	MaxWorkloadChartTrials = 24
	// LoadBucketNS is the least width of a load timeline's buckets.
	LoadBucketNS = 100_000_000
	// MaxLoadBuckets bounds a load timeline's buckets; longer trials get
	// wider buckets (multiples of LoadBucketNS).
	MaxLoadBuckets = 1200
	// MaxScatterPoints bounds the latency points drawn per status; beyond it
	// every k-th operation of that status is drawn.
	MaxScatterPoints = 1000
	// minLatencyMS is the least latency drawn on the log scale.
	minLatencyMS = 0.01
)

// trialChart is what a trial's load charts draw; times are ms since the
// trial's start (clock_ns), or since its first invocation without one.
type trialChart struct {
	fromSpan     bool
	bucketMS     float64
	firstMS      float64
	okPerS       []float64
	errRate      []float64
	faultMS      float64
	recoveredMS  float64
	censored     bool
	points       [3][]point
	total        [3]int
	atTimeout    int
	omitted      int
	stride       [3]int
	endMS        float64
	hasFaultTime bool
}

// newTrialChart buckets the trial's operations by invocation and samples
// their latencies; unknown operations without a completion are drawn at
// the workload's operation timeout, or omitted when it is not known.
func newTrialChart(h *runHistory, idx []int32, sp span, ft faultTimes, clock *int64, opTimeout int64) *trialChart {
	origin := sp.start
	c := &trialChart{fromSpan: clock == nil, faultMS: math.NaN(), recoveredMS: math.NaN()}
	if clock != nil {
		origin = *clock
	}
	ms := func(t int64) float64 { return float64(t-origin) / 1e6 }
	width := bucketWidth(sp.end - sp.start)
	c.bucketMS, c.firstMS, c.endMS = float64(width)/1e6, ms(sp.start), ms(sp.end)
	c.bucket(h, idx, sp.start, width)
	if ft.hasFault {
		c.hasFaultTime, c.faultMS = true, ms(ft.start)
		c.censored = ft.by == RecoveredCensored
		if !c.censored {
			c.recoveredMS = ms(ft.recovered)
		}
	}
	c.sample(h, idx, ms, opTimeout)
	return c
}

func bucketWidth(length int64) int64 {
	buckets := int64(MaxLoadBuckets)
	width := (length + buckets - 1) / buckets
	return max(LoadBucketNS, (width+LoadBucketNS-1)/LoadBucketNS*LoadBucketNS)
}

// bucket sets the ok operations per second and the error rate of each
// bucket (NaN without operations).
func (c *trialChart) bucket(h *runHistory, idx []int32, start, width int64) {
	n := 1
	for _, i := range idx {
		n = max(n, int((h.ops[i].invoke-start)/width)+1)
	}
	ok, all, bad := make([]int, n), make([]int, n), make([]int, n)
	for _, i := range idx {
		op := &h.ops[i]
		b := int((op.invoke - start) / width)
		all[b]++
		switch op.status {
		case statusOK:
			ok[b]++
		default:
			bad[b]++
		}
	}
	c.okPerS, c.errRate = make([]float64, n), make([]float64, n)
	for b := range n {
		c.okPerS[b] = float64(ok[b]) / (float64(width) / 1e9)
		c.errRate[b] = math.NaN()
		if all[b] > 0 {
			c.errRate[b] = float64(bad[b]) / float64(all[b])
		}
	}
}

// sample keeps every stride-th operation of each status (stride chosen so
// that at most MaxScatterPoints remain) as (invocation, latency) in ms.
func (c *trialChart) sample(h *runHistory, idx []int32, ms func(int64) float64, opTimeout int64) {
	for _, i := range idx {
		c.total[h.ops[i].status]++
	}
	seen := [3]int{}
	for s := range c.stride {
		c.stride[s] = max(1, (c.total[s]+MaxScatterPoints-1)/MaxScatterPoints)
	}
	for _, i := range idx {
		op := &h.ops[i]
		s := op.status
		seen[s]++
		if (seen[s]-1)%c.stride[s] != 0 {
			continue
		}
		latency := op.complete - op.invoke
		if op.complete == noComplete {
			if opTimeout <= 0 {
				c.omitted++
				continue
			}
			latency = opTimeout
			c.atTimeout++
		}
		c.points[s] = append(c.points[s], point{ms(op.invoke), max(float64(latency)/1e6, minLatencyMS)})
	}
}
