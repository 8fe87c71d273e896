package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// fmtMS formats a duration in ms with three significant figures or more;
// "n/a" when not available.
func fmtMS(f Float) string {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	switch a := math.Abs(v); {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// dash marks a percentile not estimated because there are too few values.
const dash = "—"

// fmtP95 formats a distribution's p95: a dash when it has values, but
// fewer than MinN95.
func fmtP95(d Distribution) string {
	if d.N > 0 && d.N < MinN95 {
		return dash
	}
	return fmtMS(d.P95)
}

// fmtP99 formats a distribution's p99: a dash when it has values, but
// fewer than MinN99.
func fmtP99(d Distribution) string {
	if d.N > 0 && d.N < MinN99 {
		return dash
	}
	return fmtMS(d.P99)
}

// fmtPct formats a proportion as a percentage with one decimal, without a
// trailing ".0"; "n/a" when not available.
func fmtPct(f Float) string {
	v := float64(f)
	if math.IsNaN(v) {
		return "n/a"
	}
	s := strconv.FormatFloat(100*v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + "%"
}

// fmtNum formats a plain number with up to three decimals; "n/a" for NaN.
func fmtNum(f Float) string {
	v := float64(f)
	if math.IsNaN(v) {
		return "n/a"
	}
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// fmtCI formats a Wilson interval.
func fmtCI(s Success) string {
	if !s.Low.OK() {
		return "n/a"
	}
	return fmtPct(s.Low) + "–" + fmtPct(s.High)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
