package report

import (
	"math"
	"slices"
)

// column holds one metric in ms. An aligned column holds a value for every
// trial, NaN where the trial lacks it, so that columns can be read trial by
// trial; an unaligned one holds only the values present.
type column struct {
	values     []float64
	missing    int
	recomputed int
	aligned    bool
}

func (c *column) add(m Metric) {
	if !m.OK {
		c.missing++
		if c.aligned {
			c.values = append(c.values, math.NaN())
		}
		return
	}
	if m.Recomputed {
		c.recomputed++
	}
	c.values = append(c.values, m.MS())
}

// describe summarises the column; it compacts and sorts the values in
// place, so the column is no longer aligned afterwards.
func (c *column) describe() Distribution {
	v := slices.DeleteFunc(c.values, math.IsNaN)
	c.values = v
	c.aligned = false
	return Describe(v, c.missing)
}
