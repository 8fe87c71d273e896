package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the report as GitHub-flavoured markdown.
func WriteMarkdown(w io.Writer, a *Analysis) error {
	bw := bufio.NewWriter(w)
	d := newDocument(a)
	fmt.Fprintf(bw, "# %s\n", titleCase(d.title))
	for _, rd := range d.reports {
		fmt.Fprintf(bw, "\n## %s\n", mdEscape(rd.title))
		for _, s := range rd.sections {
			writeMarkdownSection(bw, s, "###")
		}
	}
	writeMarkdownSection(bw, d.input, "##")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing markdown report: %w", err)
	}
	return nil
}

func writeMarkdownSection(w io.Writer, s section, level string) {
	fmt.Fprintf(w, "\n%s %s\n\n", level, titleCase(s.title))
	for _, kv := range s.kv {
		fmt.Fprintf(w, "- **%s:** %s\n", mdEscape(kv[0]), mdEscape(kv[1]))
	}
	if s.table != nil {
		if len(s.kv) > 0 {
			fmt.Fprintln(w)
		}
		if len(s.table.rows) == 0 {
			fmt.Fprintln(w, "_No trials._")
		} else {
			fmt.Fprintf(w, "| %s |\n", strings.Join(mdRow(s.table.header), " | "))
			fmt.Fprintf(w, "|---|%s\n", strings.Repeat("---:|", len(s.table.header)-1))
			for _, row := range s.table.rows {
				fmt.Fprintf(w, "| %s |\n", strings.Join(mdRow(row), " | "))
			}
		}
	}
	if len(s.notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range s.notes {
			fmt.Fprintf(w, "%s  \n", mdEscape(n))
		}
	}
}

func mdRow(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = mdEscape(c)
	}
	return out
}

var mdReplacer = strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "#", `\#`)

// mdEscape escapes the characters markdown would interpret.
func mdEscape(s string) string { return mdReplacer.Replace(s) }

// titleCase turns an upper-case section title into "Title case"; a part in
// parentheses at its end is kept as it is (a run ID).
func titleCase(s string) string {
	if s == "" {
		return s
	}
	head, tail := s, ""
	if i := strings.Index(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
		head, tail = s[:i], s[i:]
	}
	lower := strings.ToLower(head)
	return strings.ToUpper(lower[:1]) + lower[1:] + tail
}
