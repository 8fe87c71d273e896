package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
)

type htmlChart struct {
	Title string
	SVG   template.HTML
	Note  string
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"title": titleCase,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
h1 { border-bottom: 2px solid #444; }
h2 { margin-top: 2em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; }
dd { margin: 0; }
.note { color: #555; font-size: 0.9em; }
figure { margin: 1em 0; }
svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{range .Reports}}
<h2>{{.Title}}</h2>
{{range .Sections}}{{template "section" .}}{{end}}
<h3>Charts</h3>
{{range .Charts}}<figure>
{{if .SVG}}{{.SVG}}{{end}}
<figcaption class="note"><b>{{.Title}}.</b> {{.Note}}</figcaption>
</figure>
{{end}}{{range .Workload}}{{template "workload" .}}{{end}}
{{end}}
<h2>Input</h2>
{{template "section" .Input}}
</body>
</html>
{{define "section"}}<h3>{{title .Title}}</h3>
{{if .KV}}<dl>{{range .KV}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>{{end}}
{{with .Table}}{{if .Rows}}<table>
<tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{else}}<p class="note">No trials.</p>{{end}}{{end}}
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{end}}{{define "workload"}}<h3>{{.Title}}</h3>
{{if .Links}}<ul>
{{range .Links}}<li><a href="{{.Href}}">{{.Text}}</a></li>
{{end}}</ul>
{{else}}<p class="note">No porcupine visualization recorded.</p>
{{end}}{{range .Charts}}<figure>
{{if .SVG}}{{.SVG}}{{end}}
<figcaption class="note"><b>{{.Title}}.</b> {{.Note}}</figcaption>
</figure>
{{end}}{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{end}}`))

// htmlLink is one link of the report (a porcupine visualization).
type htmlLink struct {
	Text string
	Href string
}

// workloadView is one run's workload charts and links.
type workloadView struct {
	Title  string
	Links  []htmlLink
	Charts []htmlChart
	Notes  []string
}

// htmlSection exposes a section's fields to the template.
type htmlSection struct {
	Title string
	KV    [][2]string
	Table *htmlTable
	Notes []string
}

type htmlTable struct {
	Header []string
	Rows   [][]string
}

func toHTMLSection(s section) htmlSection {
	h := htmlSection{Title: s.title, KV: s.kv, Notes: s.notes}
	if s.table != nil {
		h.Table = &htmlTable{Header: s.table.header, Rows: s.table.rows}
	}
	return h
}

// WriteHTML writes the report as one self-contained HTML file: tables and
// inline SVG charts drawn with gonum/plot, no scripts, no external
// resources.
func WriteHTML(w io.Writer, a *Analysis) error {
	d := newDocument(a)
	type reportView struct {
		Title    string
		Sections []htmlSection
		Charts   []htmlChart
		Workload []workloadView
	}
	view := struct {
		Title   string
		Reports []reportView
		Input   htmlSection
	}{Title: titleCase(d.title), Input: toHTMLSection(d.input)}
	for _, rd := range d.reports {
		rv := reportView{Title: rd.title}
		for _, s := range rd.sections {
			rv.Sections = append(rv.Sections, toHTMLSection(s))
		}
		cs, err := charts(rd.report)
		if err != nil {
			return fmt.Errorf("drawing the charts of %s: %w", rd.title, err)
		}
		rv.Charts = htmlCharts(cs)
		if rv.Workload, err = workloadViews(rd.report); err != nil {
			return fmt.Errorf("drawing the workload charts of %s: %w", rd.title, err)
		}
		view.Reports = append(view.Reports, rv)
	}
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, view); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	return nil
}

// htmlCharts marks the charts' SVG safe: gonum/plot generates it from
// numbers and escaped labels.
func htmlCharts(cs []chart) []htmlChart {
	var out []htmlChart
	for _, c := range cs {
		out = append(out, htmlChart{Title: c.Title, SVG: template.HTML(c.SVG), Note: c.Note})
	}
	return out
}

// workloadViews are the charts and links of each run's workload.
func workloadViews(r *Report) ([]workloadView, error) {
	var out []workloadView
	for i := range r.Workload {
		w := &r.Workload[i]
		cs, err := workloadCharts(w)
		if err != nil {
			return nil, err
		}
		v := workloadView{Title: "Workload charts (run " + w.RunID + ")", Charts: htmlCharts(cs)}
		for _, t := range w.Trials {
			if t.Visualization != "" {
				v.Links = append(v.Links, htmlLink{Text: fmt.Sprintf("trial %d: porcupine visualization (%s)", t.Trial, verdictCell(t)), Href: t.Visualization})
			}
		}
		if len(cs) == 0 {
			v.Notes = append(v.Notes, "No load charts: "+historyLine(w)+".")
		}
		if n := len(w.Trials); n > MaxWorkloadChartTrials {
			v.Notes = append(v.Notes, fmt.Sprintf("Charts of the first %d trials with operations (of %d).", MaxWorkloadChartTrials, n))
		}
		out = append(out, v)
	}
	return out, nil
}
