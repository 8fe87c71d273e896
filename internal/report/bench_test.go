package report

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// benchTrials is the size of the benchmark's log.
const benchTrials = 1_000_000

// writeBenchLog writes a run of n realistic trial lines (about 750 bytes
// each, all five scenarios and outcomes) to path.
func writeBenchLog(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating benchmark log: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	scenarios := []string{"immediate", "during-replication", "precision-timed", "rapid-sequential", "in-flight"}
	delays := []int64{0, 100e6, 25e6, 0, 2e6}
	outcomes := []string{"durable", "durable", "durable", "durable", "durable", "durable", "lost", "indeterminate_applied", "indeterminate_absent", "inconclusive"}
	fmt.Fprintf(w, `{"type":"run","run_id":"bench","started_at":"2026-11-25T10:00:00Z","seed":1,"target":"local","store":"raft","partitions":3,"replicas":3,"scenarios":["immediate","during-replication","precision-timed","rapid-sequential","in-flight"]}`+"\n")
	for i := range n {
		s := i % len(scenarios)
		ws := int64(50_000 + rng.IntN(100_000))
		ack := ws + int64(1_500_000+rng.IntN(3_000_000))
		kill := ack + delays[s] + int64(rng.IntN(400_000))
		nl := kill + int64(250e6+rng.IntN(650e6))
		ok := nl + int64(15e6+rng.IntN(100e6))
		end := ok + 3_000_000
		outcome := outcomes[rng.IntN(len(outcomes))]
		write, verify := benchStatuses(outcome)
		fmt.Fprintf(w, `{"type":"trial","run_id":"bench","trial":%d,"scenario":%q,"delay_ns":%d,"partition":%d,"key":"failover-%s-%d-%d","value":"value-%d","leader_before":{"member":%d,"pod":"raft-store-0","term":%d},"leader_after":{"member":%d,"pod":"raft-store-1","term":%d},"started_at":"2026-11-25T10:00:01.000Z","t":{"write_start":%d,"write_ack":%d,"kill_sent":%d,"kill_done":%d,"new_leader":%d,"first_ok":%d,"verify":%d,"end":%d},"actual_delay_ns":%d,"election_ns":%d,"recovery_ns":%d,"duration_ns":%d,"write_latency_ns":%d,"write":{"status":%q},"verify":{"status":%q,"attempts":1,"value":"value-%d"},"outcome":%q}`+"\n",
			i+1, scenarios[s], delays[s], i%3+1, scenarios[s], i+1, rng.IntN(1000), i, i%3+1, 10+i, (i+1)%3+1, 11+i,
			ws, ack, kill, kill+5_000_000, nl, ok, ok+2_000_000, end,
			kill-ack, nl-kill, ok-kill, end, ack-ws, write, verify, i, outcome)
	}
	fmt.Fprintf(w, `{"type":"summary","run_id":"bench","trials":%d,"ended_at":"2026-11-26T10:00:00Z"}`+"\n", n)
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing benchmark log: %w", err)
	}
	return f.Close()
}

// benchStatuses are the write and verify statuses that give outcome by
// results.Outcome (for a trial that was killed and recovered).
func benchStatuses(outcome string) (write, verify string) {
	switch outcome {
	case "lost":
		return "ok", "missing"
	case "indeterminate_applied":
		return "unknown", "ok"
	case "indeterminate_absent":
		return "unknown", "missing"
	case "inconclusive":
		return "ok", "error"
	}
	return "ok", "ok"
}

// BenchmarkAnalyze1M analyzes a log of one million trials and renders the
// text report. REPORT_BENCH_LOG=path keeps (and reuses) the log, e.g. to
// compare with `jq -c . path > /dev/null` and measure the analyzer's peak
// RSS with /usr/bin/time -v.
func BenchmarkAnalyze1M(b *testing.B) {
	path := os.Getenv("REPORT_BENCH_LOG")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.log")
	}
	if _, err := os.Stat(path); err != nil {
		if err := writeBenchLog(path, benchTrials); err != nil {
			b.Fatal(err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ResetTimer()
	for b.Loop() {
		res, err := Execute(Config{Logs: []string{path}}, nil, io.Discard, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if res.Lost == 0 {
			b.Fatal("the benchmark log records lost writes; none found")
		}
	}
}

func TestBenchLogIsReadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.log")
	if err := writeBenchLog(path, 50); err != nil {
		t.Fatal(err)
	}
	a, err := Analyze([]Input{{Name: path, R: mustOpen(t, path)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.WarningCount != 0 || len(a.Reports) != 1 || a.Reports[0].Trials != 50 || len(a.Reports[0].Scenarios) != 5 {
		t.Fatalf("warnings %v, reports %d", a.Warnings, len(a.Reports))
	}
}

func mustOpen(t *testing.T, path string) io.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}
