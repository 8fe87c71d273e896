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

// The fixtures (go run ./testdata/genfixture [-v2 | -workload HISTORY] writes them).
const (
	fixture         = "testdata/campaign.ndjson"
	fixtureV2       = "testdata/campaign-v2.ndjson"
	workloadFixture = "testdata/workload.ndjson"
	workloadHistory = "testdata/workload.history.ndjson"
)

// goldenCase is one rendering of a fixture and what Execute must return.
type goldenCase struct {
	golden   string
	log      string
	cfg      Config
	lost     int
	warnings int
	// violations and workloadLost are the workload's (0 for the others).
	violations, workloadLost int
}

// goldenCases are TestGolden's renderings.
// v1: two torn lines and a trial without a kill recorded durable (the
// outcome rule says inconclusive); one lost trial in run s42.
// v2: trial 9's recorded outcome disagrees with the rule; the final read
// lost trial 10's write; the positive control lost its write (and counts:
// a control run exits 1, as the campaign did).
// workload: a kill under load that loses a write-once key (a violation
// of its trial too), a pause, and an isolation with a stale read.
func goldenCases() []goldenCase {
	return []goldenCase{
		{"report.txt", fixture, Config{Format: "text"}, 1, 3, 0, 0},
		{"report.md", fixture, Config{Format: "markdown"}, 1, 3, 0, 0},
		{"report.json", fixture, Config{Format: "json"}, 1, 3, 0, 0},
		{"report.csv", fixture, Config{Format: "csv"}, 1, 3, 0, 0},
		{"report.html", fixture, Config{Format: "html"}, 1, 3, 0, 0},
		{"merged.txt", fixture, Config{Format: "text", Merge: true}, 1, 3, 0, 0},
		{"run-s99.txt", fixture, Config{Format: "text", RunID: "20261125T110500Z-local-s99"}, 0, 2, 0, 0},
		{"report-v2.txt", fixtureV2, Config{Format: "text"}, 2, 1, 0, 0},
		{"report-v2.md", fixtureV2, Config{Format: "markdown"}, 2, 1, 0, 0},
		{"report-v2.json", fixtureV2, Config{Format: "json"}, 2, 1, 0, 0},
		{"report-v2.csv", fixtureV2, Config{Format: "csv"}, 2, 1, 0, 0},
		{"report-v2.html", fixtureV2, Config{Format: "html"}, 2, 1, 0, 0},
		{"merged-v1-v2.txt", fixture + "," + fixtureV2, Config{Format: "text", Merge: true}, 3, 4, 0, 0},
		{"workload.txt", workloadFixture, Config{Format: "text"}, 0, 0, 2, 1},
		{"workload.md", workloadFixture, Config{Format: "markdown"}, 0, 0, 2, 1},
		{"workload.json", workloadFixture, Config{Format: "json"}, 0, 0, 2, 1},
		{"workload.csv", workloadFixture, Config{Format: "csv"}, 0, 0, 2, 1},
		{"workload.html", workloadFixture, Config{Format: "html"}, 0, 0, 2, 1},
	}
}

// TestGolden renders the fixture campaigns in every format and compares the
// output with testdata/*.golden (go test ./internal/report/ -run TestGolden -update
// rewrites them).
func TestGolden(t *testing.T) {
	tests := goldenCases()
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			tt.cfg.Logs = strings.Split(tt.log, ",")
			var out, errOut bytes.Buffer
			res, err := Execute(tt.cfg, nil, &out, &errOut)
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if res.Lost != tt.lost || res.Warnings != tt.warnings || res.Violations != tt.violations || res.WorkloadLost != tt.workloadLost {
				t.Errorf("result %+v, want %d lost, %d warnings, %d violations, %d workload lost", res, tt.lost, tt.warnings, tt.violations, tt.workloadLost)
			}
			if tt.warnings > 0 && !strings.Contains(errOut.String(), plural(tt.warnings, "warning", "warnings")) {
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
