package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const fixture = "testdata/campaign.ndjson"

// TestGolden renders the fixture campaign in every format and compares the
// output with testdata/*.golden (go test ./internal/report/ -run TestGolden -update
// rewrites them).
func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		cfg    Config
	}{
		{"report.txt", Config{Format: "text"}},
		{"report.md", Config{Format: "markdown"}},
		{"report.json", Config{Format: "json"}},
		{"report.csv", Config{Format: "csv"}},
		{"report.html", Config{Format: "html"}},
		{"merged.txt", Config{Format: "text", Merge: true}},
		{"run-s99.txt", Config{Format: "text", RunID: "20261125T110500Z-local-s99"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			tt.cfg.Logs = []string{fixture}
			var out, errOut bytes.Buffer
			res, err := Execute(tt.cfg, nil, &out, &errOut)
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			wantLost := 1
			if tt.cfg.RunID != "" {
				wantLost = 0
			}
			if res.Lost != wantLost || res.Warnings != 2 {
				t.Errorf("result %+v, want %d lost and 2 warnings (torn lines)", res, wantLost)
			}
			if !strings.Contains(errOut.String(), "2 warnings") {
				t.Errorf("stderr %q does not count the warnings", errOut.String())
			}
			path := filepath.Join("testdata", tt.golden+".golden")
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create it): %v", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s (go test -run 'TestGolden/%s' -update rewrites it): %s",
					path, tt.golden, firstDifference(out.String(), string(want)))
			}
		})
	}
}

// firstDifference describes the first line where got and want differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %.300q\nwant: %.300q", i+1, gl, wl)
		}
	}
	return "no line differs"
}
