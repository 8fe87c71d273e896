package report

import (
	"fmt"
)

// A document is the report laid out once as titled sections of
// label/value lines, tables and notes; the text, markdown and HTML
// renderers each draw it their own way.
type document struct {
	title   string
	input   section
	reports []reportDoc
}

type reportDoc struct {
	title    string
	report   *Report
	sections []section
}

type section struct {
	title string
	kv    [][2]string
	table *table
	notes []string
}

// add appends a label/value line.
func (s *section) add(k, v string) { s.kv = append(s.kv, [2]string{k, v}) }

type table struct {
	header []string
	rows   [][]string
}

// MaxListedWarnings is how many warnings the rendered report lists.
const MaxListedWarnings = 20

func newDocument(a *Analysis) document {
	d := document{title: "ATOMIX FAILOVER TEST REPORT"}
	d.input = section{title: "INPUT"}
	for _, in := range a.Inputs {
		d.input.add(in.Name, fmt.Sprintf("%d lines, %d records, %s",
			in.Lines, in.Records, plural(in.Warnings, "unusable line", "unusable lines")))
	}
	d.input.add("Warnings", fmt.Sprint(a.WarningCount))
	for i, w := range a.Warnings {
		if i == MaxListedWarnings {
			d.input.notes = append(d.input.notes, fmt.Sprintf("… and %d more warnings", a.WarningCount-MaxListedWarnings))
			break
		}
		d.input.notes = append(d.input.notes, "warning: "+w.String())
	}
	for i := range a.Reports {
		d.reports = append(d.reports, newReportDoc(&a.Reports[i]))
	}
	return d
}

func newReportDoc(r *Report) reportDoc {
	doc := reportDoc{title: "Report: " + r.Title, report: r}
	doc.sections = append(doc.sections, runsSection(r), overallSection(r))
	if r.PositiveControl.Trials > 0 {
		doc.sections = append(doc.sections, controlSection(r))
	}
	doc.sections = append(doc.sections, finalReadSection(r), scenarioSection(r), timingsSection(r), delaySection(r),
		breakdownSection("BY PARTITION", "partition", r.Partitions, false, nil),
		splitSection("VICTIM BACK BEFORE NEW LEADER", "victim back", r.ByVictimBack, victimNote),
		splitSection("BY ELECTION ROUNDS", "term increase", r.ByRounds, roundsNote),
		termsSection(r), correlationSection(r))
	for i := range r.Workload {
		doc.sections = append(doc.sections, workloadSections(&r.Workload[i])...)
	}
	return doc
}
