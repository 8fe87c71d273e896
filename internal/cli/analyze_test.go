package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), tt.args, Streams{Stdin: strings.NewReader(tt.stdin), Stdout: &stdout, Stderr: &stderr})
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr.String())
			}
		})
	}
}
