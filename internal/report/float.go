package report

import (
	"math"
	"strconv"
)

// Float is a number of the report; NaN (not available) is encoded in JSON as null.
type Float float64

// MarshalJSON encodes NaN and infinities as null.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// OK reports whether f is a number (not NaN).
func (f Float) OK() bool { return !math.IsNaN(float64(f)) }

func nan() Float { return Float(math.NaN()) }
