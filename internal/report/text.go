package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// WriteText writes the plain-text report.
func WriteText(w io.Writer, a *Analysis) error {
	bw := bufio.NewWriter(w)
	d := newDocument(a)
	fmt.Fprintf(bw, "%s\n%s\n", d.title, strings.Repeat("=", len(d.title)))
	for _, rd := range d.reports {
		fmt.Fprintf(bw, "\n%s\n%s\n", rd.title, strings.Repeat("#", len([]rune(rd.title))))
		for _, s := range rd.sections {
			writeTextSection(bw, s)
		}
	}
	writeTextSection(bw, d.input)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing text report: %w", err)
	}
	return nil
}

func writeTextSection(w io.Writer, s section) {
	fmt.Fprintf(w, "\n=== %s ===\n", s.title)
	if len(s.kv) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, kv := range s.kv {
			fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
		}
		_ = tw.Flush()
	}
	if s.table != nil {
		if len(s.table.rows) == 0 {
			fmt.Fprintln(w, "(no trials)")
		} else {
			// Numbers align right, the first (label) column left.
			width := utf8.RuneCountInString(s.table.header[0])
			for _, row := range s.table.rows {
				width = max(width, utf8.RuneCountInString(row[0]))
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			for _, row := range append([][]string{s.table.header}, s.table.rows...) {
				label := row[0] + strings.Repeat(" ", width-utf8.RuneCountInString(row[0]))
				fmt.Fprintln(tw, label+"\t"+strings.Join(row[1:], "\t")+"\t")
			}
			_ = tw.Flush()
		}
	}
	for _, n := range s.notes {
		fmt.Fprintln(w, n)
	}
}
