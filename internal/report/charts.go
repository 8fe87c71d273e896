package report

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// MaxECDFPoints bounds the points of an ECDF line; larger samples are drawn
// through that many evenly spaced quantiles.
const MaxECDFPoints = 2000

// chart is one rendered chart: inline SVG markup or, without data, a note.
type chart struct {
	Title string
	SVG   string
	Note  string
}

// charts draws a report's charts with gonum/plot into SVG.
func charts(r *Report) ([]chart, error) {
	var out []chart
	for _, f := range []func(*Report) (chart, error){recoveryVsDelayChart, ecdfChart, timelineChart} {
		c, err := f(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

// renderSVG draws p on a w × h SVG canvas and returns the markup without
// its XML prologue, ready to be inlined in HTML.
func renderSVG(p *plot.Plot, w, h vg.Length) (string, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", fmt.Errorf("rendering %q as SVG: %w", p.Title.Text, err)
	}
	s := b.String()
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	return s, nil
}

func recoveryVsDelayChart(r *Report) (chart, error) {
	c := chart{Title: "Recovery vs actual delay, per scenario"}
	p := newPlot(c.Title, "actual delay (ms)", "recovery (ms)")
	var keys []string
	for k := range r.points {
		keys = append(keys, k)
	}
	rank := r.scenarioRank
	if rank == nil {
		rank = scenarioRanker(r.Runs)
	}
	sortScenarios(keys, rank)
	n := 0
	for i, k := range keys {
		pts := r.points[k]
		xys := make(plotter.XYs, len(pts))
		for j, pt := range pts {
			xys[j].X, xys[j].Y = pt.x, pt.y
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return c, fmt.Errorf("plotting scenario %s: %w", k, err)
		}
		s.GlyphStyle.Color = darkColor(i)
		s.GlyphStyle.Shape = plotutil.Shape(i)
		s.GlyphStyle.Radius = vg.Points(3.5)
		p.Add(s)
		p.Legend.Add(k, s)
		n += len(pts)
	}
	if n == 0 {
		c.Note = "No trial has both an actual delay and a recovery time."
		return c, nil
	}
	p.Legend.Top = true
	svg, err := renderSVG(p, 7*vg.Inch, 4.2*vg.Inch)
	c.SVG = svg
	c.Note = fmt.Sprintf("%d points; a scenario with more than %d trials is thinned to every k-th trial.", n, MaxChartPoints)
	return c, err
}

// ecdfXYs is the empirical CDF of sorted as a step line (post-step), or
// through MaxECDFPoints type-7 quantiles for larger samples.
func ecdfXYs(sorted []float64) plotter.XYs {
	n := len(sorted)
	if n > MaxECDFPoints {
		xys := make(plotter.XYs, MaxECDFPoints)
		for i := range xys {
			q := float64(i) / float64(MaxECDFPoints-1)
			xys[i].X, xys[i].Y = Quantile7(q, sorted), q
		}
		return xys
	}
	xys := make(plotter.XYs, 0, n+1)
	xys = append(xys, plotter.XY{X: sorted[0], Y: 0})
	for i, x := range sorted {
		xys = append(xys, plotter.XY{X: x, Y: float64(i+1) / float64(n)})
	}
	return xys
}

func ecdfChart(r *Report) (chart, error) {
	c := chart{Title: "ECDF of recovery and election time"}
	p := newPlot(c.Title, "time after the kill (ms)", "fraction of trials ≤ x")
	drawn := 0
	for i, s := range []struct {
		name   string
		sorted []float64
	}{{"recovery", r.recoverySorted}, {"election", r.electionSorted}} {
		if len(s.sorted) == 0 {
			continue
		}
		l, err := plotter.NewLine(ecdfXYs(s.sorted))
		if err != nil {
			return c, fmt.Errorf("plotting the %s ECDF: %w", s.name, err)
		}
		l.StepStyle = plotter.PostStep
		l.Color = darkColor(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (n=%d)", s.name, len(s.sorted)), l)
		drawn++
	}
	if drawn == 0 {
		c.Note = "No recovery or election times."
		return c, nil
	}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.YOffs = vg.Points(20)
	svg, err := renderSVG(p, 7*vg.Inch, 4.2*vg.Inch)
	c.SVG = svg
	c.Note = "Censored (inconclusive) trials have no recovery time and are not in these curves."
	return c, err
}

func timelineChart(r *Report) (chart, error) {
	c := chart{Title: "Per-trial timeline"}
	rows := r.timeline
	if len(rows) == 0 {
		c.Note = "No trials."
		return c, nil
	}
	p := newPlot(c.Title, "time since the trial started (ms)", "")
	events := []struct {
		name  string
		get   func(timelineEntry) float64
		shape draw.GlyphDrawer
		color color.Color
	}{
		{"write start", func(t timelineEntry) float64 { return t.WriteStart }, draw.RingGlyph{}, color.Gray{Y: 90}},
		{"write ack", func(t timelineEntry) float64 { return t.WriteAck }, draw.CircleGlyph{}, darkColor(0)},
		{"kill sent", func(t timelineEntry) float64 { return t.KillSent }, draw.CrossGlyph{}, darkColor(1)},
		{"new leader", func(t timelineEntry) float64 { return t.NewLeader }, draw.TriangleGlyph{}, darkColor(2)},
		{"first ok", func(t timelineEntry) float64 { return t.FirstOK }, draw.SquareGlyph{}, darkColor(3)},
	}
	var ticks []plot.Tick
	for i, row := range rows {
		y := float64(len(rows) - i)
		label := fmt.Sprintf("#%d %s", row.Trial, row.Outcome)
		if row.Control {
			label += " (control)"
		}
		if len(r.Runs) > 1 {
			label = row.RunID + " " + label
		}
		ticks = append(ticks, plot.Tick{Value: y, Label: label})
		var span plotter.XYs
		for _, e := range events {
			if x := e.get(row); !math.IsNaN(x) {
				span = append(span, plotter.XY{X: x, Y: y})
			}
		}
		if len(span) < 2 {
			continue
		}
		slices.SortFunc(span, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		l, err := plotter.NewLine(plotter.XYs{span[0], span[len(span)-1]})
		if err != nil {
			return c, fmt.Errorf("plotting the timeline of trial %d: %w", row.Trial, err)
		}
		l.Color = color.Gray{Y: 190}
		p.Add(l)
	}
	for _, e := range events {
		var xys plotter.XYs
		for i, row := range rows {
			if x := e.get(row); !math.IsNaN(x) {
				xys = append(xys, plotter.XY{X: x, Y: float64(len(rows) - i)})
			}
		}
		if len(xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return c, fmt.Errorf("plotting %s events: %w", e.name, err)
		}
		s.GlyphStyle.Shape, s.GlyphStyle.Color, s.GlyphStyle.Radius = e.shape, e.color, vg.Points(3)
		p.Add(s)
		p.Legend.Add(e.name, s)
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = 0.5, float64(len(rows))+0.5
	p.Legend.Top = true
	p.Legend.Left = false
	h := vg.Inch + vg.Length(len(rows))*vg.Points(13)
	svg, err := renderSVG(p, 7.5*vg.Inch, h)
	c.SVG = svg
	c.Note = fmt.Sprintf("%d trials (at most the first %d of the report); absent timestamps are not drawn.", len(rows), MaxTimelineRows)
	return c, err
}

// darkColor is the i-th colour of plotutil's dark palette, readable on white.
func darkColor(i int) color.Color { return plotutil.DarkColors[i%len(plotutil.DarkColors)] }
