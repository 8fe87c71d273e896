package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	tRun1    = `{"type":"run","run_id":"a","started_at":"2026-11-25T10:00:00Z","seed":1,"target":"local","store":"s","partitions":3,"replicas":3}`
	tRun2    = `{"type":"run","run_id":"b","started_at":"2026-11-25T10:00:01Z","seed":2,"target":"local","store":"s","partitions":3,"replicas":3}`
	tTrialA1 = `{"type":"trial","run_id":"a","trial":1,"scenario":"immediate","partition":1,"t":{"write_start":0,"write_ack":2000000,"kill_sent":2500000,"new_leader":400000000,"first_ok":500000000,"end":510000000},"write":{"status":"ok"},"verify":{"status":"ok","attempts":1},"outcome":"durable"}`
	tTrialA2 = `{"type":"trial","run_id":"a","trial":2,"scenario":"immediate","partition":2,"recovery_ns":700000000,"t":{"write_start":0,"kill_sent":1000000},"write":{"status":"ok"},"verify":{"status":"ok","attempts":1},"outcome":"durable"}`
	tTrialB1 = `{"type":"trial","run_id":"b","trial":1,"scenario":"rapid-sequential","partition":3,"recovery_ns":900000000,"write":{"status":"ok"},"verify":{"status":"missing","attempts":1},"outcome":"lost"}`
	tTrialB2 = `{"type":"trial","run_id":"b","trial":2,"scenario":"rapid-sequential","partition":3,"outcome":"inconclusive"}`
	tSumA    = `{"type":"summary","run_id":"a","trials":2,"ended_at":"2026-11-25T10:01:00Z"}`
)

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// analyzeJSON runs Execute with JSON output and decodes it.
func analyzeJSON(t *testing.T, cfg Config, stdin string) (Result, map[string]any, error) {
	t.Helper()
	cfg.Format = "json"
	var out, errOut bytes.Buffer
	res, err := Execute(cfg, strings.NewReader(stdin), &out, &errOut)
	if err != nil {
		return res, nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("JSON output does not decode: %v\n%s", err, out.String())
	}
	return res, doc, nil
}

// executeInputCase is one log given to Execute and what it must give.
type executeInputCase struct {
	name     string
	content  string // written to a temp file; "" with noFile for a missing file
	noFile   bool
	cfg      Config
	badInput string // substring of the expected ErrBadInput error
	reports  int
	trials   []float64 // per report
	warnings int
	lost     int
}

// executeInputCases are TestExecuteInputs' logs.
func executeInputCases() []executeInputCase {
	big := `{"type":"trial","run_id":"a","value":"` + strings.Repeat("x", 17<<20) + `"}`
	return []executeInputCase{
		{name: "empty file", content: "", badInput: "no results records"},
		{name: "missing file", noFile: true, badInput: "no such file"},
		{name: "binary garbage", content: "\x00\x01\x02\xff\n\x89PNG\r\n", badInput: "no results records"},
		{name: "two runs", content: lines(tRun1, tTrialA1, tTrialA2, tSumA, tRun2, tTrialB1, tTrialB2),
			reports: 2, trials: []float64{2, 2}, lost: 1},
		{name: "interleaved runs", content: lines(tRun1, tRun2, tTrialB1, tTrialA1, tTrialB2, tTrialA2, tSumA),
			reports: 2, trials: []float64{2, 2}, lost: 1},
		{name: "merged", content: lines(tRun1, tRun2, tTrialB1, tTrialA1, tTrialB2, tTrialA2, tSumA),
			cfg: Config{Merge: true}, reports: 1, trials: []float64{4}, lost: 1},
		{name: "one run selected", content: lines(tRun1, tRun2, tTrialB1, tTrialA1, tTrialB2, tTrialA2, tSumA),
			cfg: Config{RunID: "a"}, reports: 1, trials: []float64{2}, lost: 0},
		{name: "unknown run", content: lines(tRun1, tTrialA1), cfg: Config{RunID: "zz"}, badInput: `run "zz" is not in`},
		{name: "torn last line", content: lines(tRun1, tTrialA1) + tTrialA2[:40],
			reports: 1, trials: []float64{1}, warnings: 1},
		{name: "wrong types and kinds", content: lines(tRun1, `{"type":"trial","run_id":"a","trial":"one","outcome":"durable"}`,
			`{"type":"bogus"}`, `[]`, tTrialA1), reports: 1, trials: []float64{1}, warnings: 3},
		{name: "multi-megabyte line", content: lines(tRun1, big, tTrialA1), reports: 1, trials: []float64{1}, warnings: 1},
		{name: "trial without its run record", content: lines(tTrialB1),
			reports: 1, trials: []float64{1}, warnings: 1, lost: 1},
		{name: "unknown format", content: lines(tRun1), cfg: Config{Format: "pdf"}, badInput: "unknown format"},
		{name: "merge and run", content: lines(tRun1), cfg: Config{Merge: true, RunID: "a"}, badInput: "exclude each other"},
	}
}

func TestExecuteInputs(t *testing.T) {
	tests := executeInputCases()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "absent.log")
			if !tt.noFile {
				path = writeTemp(t, tt.content)
			}
			cfg := tt.cfg
			cfg.Logs = []string{path}
			format := cfg.Format
			var (
				res Result
				doc map[string]any
				err error
			)
			if format != "" {
				var out bytes.Buffer
				res, err = Execute(cfg, nil, &out, &out)
			} else {
				res, doc, err = analyzeJSON(t, cfg, "")
			}
			if tt.badInput != "" {
				if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), tt.badInput) {
					t.Fatalf("err = %v, want ErrBadInput containing %q", err, tt.badInput)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			reports := doc["reports"].([]any)
			if len(reports) != tt.reports {
				t.Fatalf("%d reports, want %d", len(reports), tt.reports)
			}
			for i, r := range reports {
				if got := r.(map[string]any)["trials"].(float64); got != tt.trials[i] {
					t.Errorf("report %d: %v trials, want %v", i, got, tt.trials[i])
				}
			}
			if res.Warnings != tt.warnings || doc["warning_count"].(float64) != float64(tt.warnings) {
				t.Errorf("warnings %d (JSON %v), want %d: %v", res.Warnings, doc["warning_count"], tt.warnings, doc["warnings"])
			}
			if res.Lost != tt.lost {
				t.Errorf("lost %d, want %d", res.Lost, tt.lost)
			}
		})
	}
}

func TestExecuteReadsStdin(t *testing.T) {
	res, doc, err := analyzeJSON(t, Config{Logs: []string{"-"}}, lines(tRun1, tTrialA1, tTrialA2, tSumA))
	if err != nil {
		t.Fatal(err)
	}
	in := doc["inputs"].([]any)[0].(map[string]any)
	if in["name"] != "<stdin>" || in["lines"].(float64) != 4 || res.Lost != 0 {
		t.Errorf("input %v, result %+v", in, res)
	}
	if _, _, err := analyzeJSON(t, Config{Logs: []string{"-", "-"}}, ""); !errors.Is(err, ErrBadInput) {
		t.Errorf("stdin twice: err = %v, want ErrBadInput", err)
	}
}

// Trials without derived metrics are recomputed from their timestamps, and
// counted as missing when the timestamps are absent too.
func TestExecuteRecomputesMetrics(t *testing.T) {
	a, err := Analyze([]Input{{Name: "x", R: strings.NewReader(lines(tRun1, tTrialA1, tTrialA2, tSumA))}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Reports[0]
	// A1: recovery = 500 − 2.5 ms (recomputed); A2: recorded 700 ms.
	if r.Recovery.N != 2 || r.Recovery.Missing != 0 || r.Recomputed["recovery"] != 1 || r.Recovery.Min != 497.5 || r.Recovery.Max != 700 {
		t.Errorf("recovery %+v, recomputed %v", r.Recovery, r.Recomputed)
	}
	// Election: A1 recomputed (397.5 ms), A2 missing.
	if r.Election.N != 1 || r.Election.Missing != 1 || r.Election.Mean != 397.5 {
		t.Errorf("election %+v", r.Election)
	}
	if r.WriteLatency.N != 1 || r.WriteLatency.Mean != 2 || r.Duration.N != 1 || r.Duration.Mean != 510 {
		t.Errorf("write latency %+v, duration %+v", r.WriteLatency, r.Duration)
	}
	// Two decided trials: no rule of three (n < 30); exact bound 1 − 0.025^(1/2).
	if r.Success.Rate != 1 || r.Success.LossUpper.OK() || !near(float64(r.Success.LossUpperCP), 1-math.Sqrt(0.025), 1e-12) || r.Success.Needed99 != 299 {
		t.Errorf("success %+v", r.Success)
	}
}

func TestExecuteWritesOutFile(t *testing.T) {
	log := writeTemp(t, lines(tRun1, tTrialA1, tSumA))
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "report."+format)
			var stdout, stderr bytes.Buffer
			if _, err := Execute(Config{Logs: []string{log}, Format: format, Out: out}, nil, &stdout, &stderr); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(out)
			if err != nil || len(b) == 0 || stdout.Len() != 0 {
				t.Fatalf("out file %d bytes (%v), stdout %d bytes", len(b), err, stdout.Len())
			}
		})
	}
	// A failed analysis leaves no output file behind.
	out := filepath.Join(t.TempDir(), "report.csv")
	if _, err := Execute(Config{Logs: []string{writeTemp(t, "")}, Format: "csv", Out: out}, nil, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Fatal("empty log: no error")
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output file left behind: %v", err)
	}
}
