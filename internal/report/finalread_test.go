package report

import (
	"strings"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

func TestFinalReadLostRecords(t *testing.T) {
	lostTrial := func(tr *results.Trial) { tr.Verify.Status, tr.Outcome = results.VerifyMissing, results.OutcomeLost }
	fr := func(lost int) *results.FinalRead { return &results.FinalRead{Keys: 3, OK: 3 - lost, Lost: lost} }
	tests := []struct {
		name             string
		log              []string
		records, counted int
		lost             int // Analysis.Lost
		warning          string
	}{
		{"durable trial lost later", []string{v2Header("r", true, 1), v2Trial("r", 1, "immediate", nil), lostRecord("r", 1), summary("r", 1, fr(1))},
			1, 1, 1, ""},
		{"control's loss is expected", []string{v2Header("r", true, 1), v2Trial("r", 1, scenarioControl, control(true)), lostRecord("r", 1), summary("r", 1, fr(1))},
			1, 0, 1, ""},
		{"trial already lost", []string{v2Header("r", true, 1), v2Trial("r", 1, "immediate", lostTrial), lostRecord("r", 1), summary("r", 1, fr(1))},
			1, 0, 1, ""},
		{"trial not in the log", []string{v2Header("r", true, 1), lostRecord("r", 7), summary("r", 0, fr(1))},
			1, 1, 1, ""},
		{"summary disagrees", []string{v2Header("r", true, 1), v2Trial("r", 1, "immediate", nil), lostRecord("r", 1), summary("r", 1, fr(0))},
			1, 1, 1, "the summary's final read counts 0 lost keys, the log holds 1 lost records"},
		{"no summary", []string{v2Header("r", true, 1), v2Trial("r", 1, "immediate", nil), lostRecord("r", 1)},
			1, 1, 1, "1 lost records but no final read in a summary"},
		{"other run's trial", []string{v2Header("r", true, 1), v2Header("s", true, 1), v2Trial("s", 1, scenarioControl, control(true)),
			v2Trial("r", 1, "immediate", nil), lostRecord("r", 1), summary("r", 1, fr(1))}, 1, 1, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := analyzeLines(t, Options{Merge: true}, tt.log...)
			f := a.Reports[0].FinalRead
			if f.LostRecords != tt.records || f.Counted != tt.counted || a.Lost() != tt.lost || len(f.LostWrites) != tt.records ||
				f.Counted+f.ControlRecords+f.LostTrialRecords != f.LostRecords {
				t.Errorf("records %d, counted %d, Lost %d, listed %d; want %d, %d, %d", f.LostRecords, f.Counted, a.Lost(), len(f.LostWrites), tt.records, tt.counted, tt.lost)
			}
			if tt.warning != "" && !hasWarning(a, tt.warning) {
				t.Errorf("no warning %q in %v", tt.warning, a.Warnings)
			}
		})
	}
}

// A lost record makes the analyzer's result (and so its exit status) lost,
// and CSV, which has no room for it, names it on stderr.
func TestExecuteFinalReadLost(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var out, errOut strings.Builder
			res, err := Execute(Config{Logs: []string{fixtureV2}, Format: format}, nil, &out, &errOut)
			if err != nil || res.Lost != 2 {
				t.Fatalf("lost %d, err %v; want 2 (the final read's and the control's)", res.Lost, err)
			}
			where := out.String()
			if format == "csv" {
				where = errOut.String()
			}
			if !strings.Contains(where, "failover-immediate-10-5000010") || !strings.Contains(where, "stale-value") {
				t.Errorf("%s output does not list the lost key and the value read", format)
			}
		})
	}
}
