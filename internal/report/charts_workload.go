package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

var (
	faultShade     = color.NRGBA{R: 246, G: 193, B: 193, A: 255}
	statusColors   = [3]color.Color{color.NRGBA{R: 27, G: 120, B: 55, A: 255}, color.NRGBA{R: 230, G: 140, B: 0, A: 255}, color.NRGBA{R: 200, G: 30, B: 30, A: 255}}
	statusGlyphs   = [3]draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.CrossGlyph{}}
	errorRateLine  = color.NRGBA{R: 200, G: 30, B: 30, A: 255}
	throughputLine = color.NRGBA{R: 31, G: 90, B: 160, A: 255}
)

// workloadCharts draws the load and latency charts of a run's trials that have chart data.
func workloadCharts(w *RunWorkload) ([]chart, error) {
	var out []chart
	for i := range w.Trials {
		t := &w.Trials[i]
		if t.chart == nil {
			continue
		}
		load, err := loadChart(t)
		if err != nil {
			return nil, err
		}
		latency, err := latencyChart(t)
		if err != nil {
			return nil, err
		}
		out = append(out, load, latency)
	}
	return out, nil
}

// shade adds the fault window [from, to) as a filled band from y0 to y1.
func shade(p *plot.Plot, from, to, y0, y1 float64) error {
	if math.IsNaN(from) || !(to > from) {
		return nil
	}
	poly, err := plotter.NewPolygon(plotter.XYs{{X: from, Y: y0}, {X: to, Y: y0}, {X: to, Y: y1}, {X: from, Y: y1}})
	if err != nil {
		return fmt.Errorf("shading the fault window: %w", err)
	}
	poly.Color = faultShade
	poly.LineStyle.Width = 0
	p.Add(poly)
	return nil
}

// faultEnd is where the shaded fault window ends: recovered, or the end of
// the trial's operations when censored.
func (c *trialChart) faultEnd() float64 {
	if c.censored {
		return c.endMS
	}
	return c.recoveredMS
}

func (c *trialChart) xLabel() string {
	if c.fromSpan {
		return "time since the trial's first operation (ms; no clock_ns)"
	}
	return "time since the trial started (ms)"
}

func loadChart(t *WorkloadTrial) (chart, error) {
	c := t.chart
	ch := chart{Title: fmt.Sprintf("Trial %d (%s, %s): ok operations per second and error rate", t.Trial, t.Scenario, orNA(t.Fault))}
	rate := newPlot("", "", "ok ops/s")
	errs := newPlot("", c.xLabel(), "error rate")
	top := 1.0
	for _, v := range c.okPerS {
		top = max(top, v*1.05)
	}
	if err := shade(rate, c.faultMS, c.faultEnd(), 0, top); err != nil {
		return ch, err
	}
	if err := shade(errs, c.faultMS, c.faultEnd(), 0, 1); err != nil {
		return ch, err
	}
	if err := c.addRateLine(rate); err != nil {
		return ch, err
	}
	if err := c.addErrorLines(errs); err != nil {
		return ch, err
	}
	rate.Y.Min, rate.Y.Max, errs.Y.Min, errs.Y.Max = 0, top, 0, 1
	lo, hi := c.firstMS, c.firstMS+c.bucketMS*float64(len(c.okPerS))
	rate.X.Min, rate.X.Max, errs.X.Min, errs.X.Max = lo, hi, lo, hi
	svg, err := renderStackedSVG([]*plot.Plot{rate, errs}, 7.5*vg.Inch, 4.4*vg.Inch)
	ch.SVG = svg
	ch.Note = fmt.Sprintf("Operations bucketed by invocation time, %s ms buckets; error rate = (fail + unknown) / all, gaps where a bucket has no operation. Shaded: the fault window, fault start to %s.",
		fmtMS(Float(c.bucketMS)), recoveredWord(c))
	return ch, err
}

func recoveredWord(c *trialChart) string {
	if c.censored {
		return "the end of the trial's operations (censored: no recovery observed)"
	}
	return "recovered"
}

func (c *trialChart) addRateLine(p *plot.Plot) error {
	xys := make(plotter.XYs, 0, len(c.okPerS)+1)
	for b, v := range c.okPerS {
		xys = append(xys, plotter.XY{X: c.firstMS + c.bucketMS*float64(b), Y: v})
	}
	last := xys[len(xys)-1]
	xys = append(xys, plotter.XY{X: last.X + c.bucketMS, Y: last.Y})
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("plotting the throughput: %w", err)
	}
	l.StepStyle, l.Color, l.Width = plotter.PostStep, throughputLine, vg.Points(1.2)
	p.Add(l)
	return nil
}

// addErrorLines draws the error rate at bucket centres, broken where a
// bucket has no operation.
func (c *trialChart) addErrorLines(p *plot.Plot) error {
	var seg plotter.XYs
	flush := func() error {
		if len(seg) == 0 {
			return nil
		}
		l, s, err := plotter.NewLinePoints(seg)
		if err != nil {
			return fmt.Errorf("plotting the error rate: %w", err)
		}
		l.Color, s.Color, s.Radius = errorRateLine, errorRateLine, vg.Points(1.2)
		p.Add(l, s)
		seg = nil
		return nil
	}
	for b, v := range c.errRate {
		if math.IsNaN(v) {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		seg = append(seg, plotter.XY{X: c.firstMS + c.bucketMS*(float64(b)+0.5), Y: v})
	}
	return flush()
}

func latencyChart(t *WorkloadTrial) (chart, error) {
	c := t.chart
	ch := chart{Title: fmt.Sprintf("Trial %d (%s, %s): latency of every operation", t.Trial, t.Scenario, orNA(t.Fault))}
	p := newPlot("", c.xLabel(), "latency (ms, log scale)")
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	lo, top, drawn := math.Inf(1), minLatencyMS*10, 0
	for _, pts := range c.points {
		for _, pt := range pts {
			lo, top = min(lo, pt.y), max(top, pt.y*1.5)
		}
		drawn += len(pts)
	}
	lo = max(minLatencyMS, math.Pow(10, math.Floor(math.Log10(lo))))
	if drawn == 0 {
		ch.Note = "No operation to draw."
		return ch, nil
	}
	if err := shade(p, c.faultMS, c.faultEnd(), lo, top); err != nil {
		return ch, err
	}
	for s, pts := range c.points {
		if err := addStatusPoints(p, s, pts, c.total[s]); err != nil {
			return ch, err
		}
	}
	p.Y.Min, p.Y.Max = lo, top
	p.Legend.Top, p.Legend.Left = true, false
	svg, err := renderSVG(p, 7.5*vg.Inch, 3.6*vg.Inch)
	ch.SVG = svg
	ch.Note = c.latencyNote()
	return ch, err
}

func addStatusPoints(p *plot.Plot, status int, pts []point, total int) error {
	if len(pts) == 0 {
		return nil
	}
	xys := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		xys[i].X, xys[i].Y = pt.x, pt.y
	}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return fmt.Errorf("plotting %s latencies: %w", opStatuses[status], err)
	}
	s.GlyphStyle.Color, s.GlyphStyle.Shape, s.GlyphStyle.Radius = statusColors[status], statusGlyphs[status], vg.Points(1.6)
	p.Add(s)
	p.Legend.Add(fmt.Sprintf("%s (%d)", opStatuses[status], total), s)
	return nil
}

func (c *trialChart) latencyNote() string {
	var b strings.Builder
	b.WriteString("Latency = completion − invocation, by invocation time, coloured by status (as Jepsen's latency plots). ")
	if c.atTimeout > 0 {
		fmt.Fprintf(&b, "%d unknown operations without a completion are drawn at the operation timeout. ", c.atTimeout)
	}
	if c.omitted > 0 {
		fmt.Fprintf(&b, "%d unknown operations without a completion are omitted (no op_timeout_ns in the run header). ", c.omitted)
	}
	for s, k := range c.stride {
		if k > 1 {
			fmt.Fprintf(&b, "%s: every %d-th of %d drawn. ", opStatuses[s], k, c.total[s])
		}
	}
	b.WriteString("Shaded: the fault window.")
	return b.String()
}

// renderStackedSVG draws plots one above the other, sharing their width,
// on one w × h SVG canvas.
func renderStackedSVG(plots []*plot.Plot, w, h vg.Length) (string, error) {
	c := vgsvg.New(w, h)
	rows := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		rows[i] = []*plot.Plot{p}
	}
	canvases := plot.Align(rows, draw.Tiles{Rows: len(plots), Cols: 1, PadY: vg.Points(4)}, draw.New(c))
	for i, p := range plots {
		p.Draw(canvases[i][0])
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", fmt.Errorf("rendering a load chart as SVG: %w", err)
	}
	s := b.String()
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	return s, nil
}
