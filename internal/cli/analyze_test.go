package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/report"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAnalyzeMemoryLimit(t *testing.T) {
	if got := analyzeMemoryLimitFor(0); got != analyzeMemoryLimit+report.RecheckMemoryLimit {
		t.Errorf("no history: %d", got)
	}
	if got, want := analyzeMemoryLimitFor(2_000_000), int64(analyzeMemoryLimit+2_000_000*report.HistoryOpBytes+report.RecheckMemoryLimit); got != want {
		t.Errorf("2M operations: %d, want %d", got, want)
	}
}

func TestAnalyzeExitStatus(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := `{"type":"run","run_id":"r","started_at":"2026-11-25T10:00:00Z","partitions":1,"replicas":3}` + "\n"
	durable := `{"type":"trial","run_id":"r","trial":1,"scenario":"immediate","recovery_ns":5000000,"outcome":"durable"}` + "\n"
	lost := `{"type":"trial","run_id":"r","trial":2,"scenario":"immediate","recovery_ns":6000000,"outcome":"lost"}` + "\n"
	clean := write("clean.log", run+durable)
	violated := write("lost.log", run+durable+lost)
	empty := write("empty.log", "")

	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"clean log", []string{"analyze", clean}, "", ExitOK, "Success rate:", ""},
		{"lost write: report, then exit 1", []string{"analyze", violated}, "", ExitViolation, "LOST WRITES", "acknowledged writes lost: 1"},
		{"stdin", []string{"analyze", "-", "--format", "csv"}, run + durable, ExitOK, "r,1,immediate", ""},
		{"json", []string{"analyze", "--format", "json", clean}, "", ExitOK, `"success"`, ""},
		{"missing file", []string{"analyze", filepath.Join(dir, "nope.log")}, "", ExitUsage, "", "no such file"},
		{"empty file", []string{"analyze", empty}, "", ExitUsage, "", "no results records"},
		{"no log", []string{"analyze"}, "", ExitUsage, "", "at least one results log"},
		{"bad format", []string{"analyze", "--format", "pdf", clean}, "", ExitUsage, "", "unknown format"},
		{"bad flag", []string{"analyze", "--frmat", "csv", clean}, "", ExitUsage, "", "unknown flag"},
		{"unknown run", []string{"analyze", "--run", "x", clean}, "", ExitUsage, "", `run "x" is not in`},
		{"bad check timeout", []string{"analyze", "--check-timeout", "0s", clean}, "", ExitUsage, "", "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runAnalyzeCase(t, tt.args, tt.stdin, tt.code, tt.stdout, tt.stderr) })
	}
}

// runAnalyzeCase runs args and checks the exit status and substrings of stdout and stderr.
func runAnalyzeCase(t *testing.T, args []string, stdin string, wantCode int, wantStdout, wantStderr string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, Streams{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr})
	if code != wantCode {
		t.Errorf("exit %d, want %d; stderr: %s", code, wantCode, stderr.String())
	}
	if !strings.Contains(stdout.String(), wantStdout) {
		t.Errorf("stdout lacks %q:\n%s", wantStdout, stdout.String())
	}
	if !strings.Contains(stderr.String(), wantStderr) {
		t.Errorf("stderr lacks %q:\n%s", wantStderr, stderr.String())
	}
}

// The report's workload fixture has a lost workload write and two trials
// violating linearizability: exit 1, also without its history (the recorded
// check records count) and without the re-check.
func TestAnalyzeWorkloadExitStatus(t *testing.T) {
	workload := filepath.Join("..", "report", "testdata", "workload.ndjson")
	recorded := filepath.Join(t.TempDir(), "workload.ndjson")
	if err := os.WriteFile(recorded, []byte(readFile(t, workload)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		args           []string
		stdout, stderr string
	}{
		{"re-checked", []string{"analyze", workload}, "WORKLOAD TRIALS", "workload writes lost: 1; trials violating linearizability: 2"},
		{"without its history", []string{"analyze", recorded}, "history not available", "trials violating linearizability: 2"},
		{"recorded checks only", []string{"analyze", "--no-recheck", "--check-timeout", "5s", "--max-history-ops", "1000", workload},
			"not re-checked (--no-recheck)", "trials violating linearizability: 2"},
		{"csv", []string{"analyze", "--format", "csv", workload}, "workload_verdict", "workload lost write: run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runAnalyzeCase(t, tt.args, "", ExitViolation, tt.stdout, tt.stderr) })
	}
}
