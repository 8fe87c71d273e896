package experiment

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// runLog is a results log decoded line by line.
type runLog struct {
	runs      []results.Run
	trials    []results.Trial
	summaries []results.Summary
	lost      []results.Lost
	checks    []results.Check
}

func readLog(t *testing.T, path string) runLog {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out runLog
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var head struct {
			Type string `json:"type"`
		}
		line := sc.Bytes()
		if err := json.Unmarshal(line, &head); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		var target any
		switch head.Type {
		case results.TypeRun:
			out.runs = append(out.runs, results.Run{})
			target = &out.runs[len(out.runs)-1]
		case results.TypeTrial:
			out.trials = append(out.trials, results.Trial{})
			target = &out.trials[len(out.trials)-1]
		case results.TypeSummary:
			out.summaries = append(out.summaries, results.Summary{})
			target = &out.summaries[len(out.summaries)-1]
		case results.TypeLost:
			out.lost = append(out.lost, results.Lost{})
			target = &out.lost[len(out.lost)-1]
		case results.TypeCheck:
			out.checks = append(out.checks, results.Check{})
			target = &out.checks[len(out.checks)-1]
		default:
			t.Fatalf("%s:%d: unknown record type %q", path, n, head.Type)
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(target); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	checkWithReader(t, path, out)
	return out
}

// checkWithReader reads the log again with the project's tolerant reader and
// expects the same records and no warnings.
func checkWithReader(t *testing.T, path string, want runLog) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rd := results.NewReader(f)
	var runs, trials, sums int
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("results.Reader: %v", err)
		}
		switch {
		case rec.Run != nil:
			runs++
		case rec.Trial != nil:
			if rec.Trial.Key != want.trials[trials].Key || rec.Trial.Outcome != want.trials[trials].Outcome {
				t.Errorf("results.Reader trial %d: %s %s, want %s %s", trials+1, rec.Trial.Key, rec.Trial.Outcome, want.trials[trials].Key, want.trials[trials].Outcome)
			}
			trials++
		case rec.Summary != nil:
			sums++
		}
	}
	if rd.WarningCount() != 0 || runs != len(want.runs) || trials != len(want.trials) || sums != len(want.summaries) {
		t.Errorf("results.Reader: %d runs, %d trials, %d summaries, warnings %v", runs, trials, sums, rd.Warnings())
	}
}

func newWriter(t *testing.T) (*results.Writer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "logs", "results.log")
	w, err := results.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w, path
}

// checkTimestamps asserts the trial's timestamps are present where the
// protocol requires them and in protocol order.
func checkTimestamps(t *testing.T, tr results.Trial) {
	t.Helper()
	ts := tr.T
	need := map[string]*int64{"write_start": ts.WriteStart, "kill_sent": ts.KillSent, "kill_done": ts.KillDone,
		"new_leader": ts.NewLeader, "first_ok": ts.FirstOK, "verify": ts.Verify, "end": ts.End}
	for name, v := range need {
		if v == nil {
			t.Errorf("trial %d: t.%s absent", tr.Trial, name)
		}
	}
	if t.Failed() {
		return
	}
	order := func(a, b string, x, y *int64) {
		if x != nil && y != nil && *x > *y {
			t.Errorf("trial %d: t.%s %d after t.%s %d", tr.Trial, a, *x, b, *y)
		}
	}
	order("write_start", "kill_sent", ts.WriteStart, ts.KillSent)
	order("write_start", "write_ack", ts.WriteStart, ts.WriteAck)
	order("kill_sent", "kill_done", ts.KillSent, ts.KillDone)
	order("kill_sent", "new_leader", ts.KillSent, ts.NewLeader)
	order("kill_done", "first_ok", ts.KillDone, ts.FirstOK)
	order("first_ok", "verify", ts.FirstOK, ts.Verify)
	order("write_ack", "verify", ts.WriteAck, ts.Verify)
	order("verify", "end", ts.Verify, ts.End)
	if *ts.WriteStart < 0 {
		t.Errorf("trial %d: t.write_start %d before started_at", tr.Trial, *ts.WriteStart)
	}
	if tr.Scenario != InFlight {
		order("write_ack", "kill_sent", ts.WriteAck, ts.KillSent)
	}
	if tr.ActualDelayNS == nil || *tr.ActualDelayNS < tr.DelayNS {
		t.Errorf("trial %d: actual_delay_ns %v below the planned %d", tr.Trial, tr.ActualDelayNS, tr.DelayNS)
	}
	if tr.ElectionNS == nil || *tr.ElectionNS != *ts.NewLeader-*ts.KillSent {
		t.Errorf("trial %d: election_ns %v != new_leader − kill_sent", tr.Trial, tr.ElectionNS)
	}
	if tr.RecoveryNS == nil || *tr.RecoveryNS != *ts.FirstOK-*ts.KillSent {
		t.Errorf("trial %d: recovery_ns %v != first_ok − kill_sent", tr.Trial, tr.RecoveryNS)
	}
	if tr.DurationNS == nil || *tr.DurationNS != *ts.End {
		t.Errorf("trial %d: duration_ns %v != end", tr.Trial, tr.DurationNS)
	}
	order("request_sent", "kill_sent", ts.RequestSent, ts.KillSent)
	order("write_start", "request_sent", ts.WriteStart, ts.RequestSent)
	order("kill_done", "restart", ts.KillDone, ts.Restart)
	order("restart", "victim_back", ts.Restart, ts.VictimBack)
	wantAnchor := results.AnchorWriteAck
	if tr.Scenario == InFlight {
		wantAnchor = results.AnchorWriteStart
	}
	if tr.Anchor != wantAnchor {
		t.Errorf("trial %d: anchor %q, want %q", tr.Trial, tr.Anchor, wantAnchor)
	}
	if (tr.SettleNS == nil) != tr.BackToBack {
		t.Errorf("trial %d: settle_ns %v with back_to_back %v", tr.Trial, tr.SettleNS, tr.BackToBack)
	}
	if tr.Outcome != results.Outcome(&tr) {
		t.Errorf("trial %d: outcome %s, the rule gives %s", tr.Trial, tr.Outcome, results.Outcome(&tr))
	}
	if tr.LeaderBefore == nil || tr.LeaderAfter == nil || tr.LeaderAfter.Term <= tr.LeaderBefore.Term {
		t.Errorf("trial %d: leader before %+v, after %+v: want a higher term after", tr.Trial, tr.LeaderBefore, tr.LeaderAfter)
	}
}
