package cli

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, Streams{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

func TestLeadersLocal(t *testing.T) {
	code, out, stderr := runCLI(t, "leaders", "--target", "local")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	row := regexp.MustCompile(`(?m)^(\d+)\s+(\d+)\s+node-(\d)\s+(\d+)\s+127\.0\.0\.1:\d+\s+(\d+)\s+\S+$`)
	rows := row.FindAllStringSubmatch(out, -1)
	if len(rows) != 3 {
		t.Fatalf("want 3 partition rows with a leader, got %d:\n%s", len(rows), out)
	}
	for i, r := range rows {
		if r[1] != strconv.Itoa(i+1) {
			t.Errorf("row %d is partition %s", i, r[1])
		}
		if r[2] != r[3] {
			t.Errorf("partition %s: leader member %s runs on node-%s", r[1], r[2], r[3])
		}
		if term, _ := strconv.Atoi(r[5]); term < 1 {
			t.Errorf("partition %s: term %s", r[1], r[5])
		}
	}
}

func TestKillLeaderLocal(t *testing.T) {
	code, out, stderr := runCLI(t, "kill-leader", "--target", "local", "--partition", "2")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	killed := regexp.MustCompile(`killed\s+node-\d \(member \d, pid \d+\), leader of partition 2 in term (\d+)`).FindStringSubmatch(out)
	newLeader := regexp.MustCompile(`new leader node-\d \(member \d, pid \d+\) in term (\d+)`).FindStringSubmatch(out)
	if killed == nil || newLeader == nil || !strings.Contains(out, "election ") {
		t.Fatalf("unexpected output:\n%s", out)
	}
	oldTerm, _ := strconv.Atoi(killed[1])
	newTerm, _ := strconv.Atoi(newLeader[1])
	if newTerm <= oldTerm {
		t.Errorf("new term %d not above old term %d", newTerm, oldTerm)
	}
}

func TestCommandsRejectBadInput(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	taken := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown flag", []string{"leaders", "--no-such-flag"}, "unknown flag"},
		{"unknown target", []string{"leaders", "--target", "mars"}, `--target "mars"`},
		{"bad replicas", []string{"leaders", "--target", "local", "--replicas", "0"}, "--replicas 0"},
		{"port taken", []string{"leaders", "--target", "local", "--base-port", taken}, "node-1 raft port"},
		{"missing partition", []string{"kill-leader", "--target", "local"}, "--partition is required"},
		{"partition out of range", []string{"kill-leader", "--target", "local", "--partition", "7"}, "partitions 1..3"},
		{"bad log level", []string{"leaders", "--log-level", "loud"}, "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q does not mention %q", stderr, tt.wantErr)
			}
		})
	}
}
