package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/history"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// wlRunID is the run ID of the workload fixture.
const wlRunID = "20261210T100000Z-local-s11"

const msNS = int64(time.Millisecond)

// wlTrialSpec is one trial of the workload fixture; times in ms on the
// run's clock.
type wlTrialSpec struct {
	scenario, fault string
	from, to        int64 // the trial's operations (its settle phase included)
	clock           int64 // the trial's start
	faultKind       string
	faultStart      int64
	faultEnd        int64 // 0: none
	firstOK         int64 // since clock; 0: absent
	down            [2]int64
}

// The fixture's three trials: a kill under load (trial 1 loses a write
// acknowledged 5 ms before the kill), a pause, and an isolation whose
// isolated leader serves one stale read (a violation) and whose probe
// never succeeded (recovered at the heal).
var wlTrials = []wlTrialSpec{
	{scenario: "kill-under-load", fault: results.FaultKillLeader, from: 800, to: 2800, clock: 1000,
		faultKind: history.FaultKill, faultStart: 1200, faultEnd: 1204, firstOK: 650, down: [2]int64{1200, 1600}},
	{scenario: "pause", fault: results.FaultPauseLeader, from: 2800, to: 4800, clock: 3000,
		faultKind: history.FaultPause, faultStart: 3200, faultEnd: 3500, firstOK: 560, down: [2]int64{3200, 3500}},
	{scenario: "isolate", fault: results.FaultIsolateLeader, from: 4800, to: 6600, clock: 5000,
		faultKind: history.FaultPartition, faultStart: 5200, faultEnd: 5600, down: [2]int64{5200, 5550}},
}

const (
	wlHot1 = "wl/hot-p1-0"
	wlHot2 = "wl/hot-p2-0"
	// wlLostKey is trial 1's write-once key acknowledged 5 ms before the kill and lost.
	wlLostKey = "wl/wo-c1-lost"
	// wlOpTimeout is the workload's operation timeout, ms.
	wlOpTimeout = 300
)

// emitWorkload writes the workload fixture's results log to stdout and its
// history to historyPath.
func emitWorkload(historyPath string) {
	ops := simulate()
	faults := wlFaults()
	f, err := os.Create(historyPath)
	if err != nil {
		panic(err)
	}
	enc := json.NewEncoder(f)
	for _, rec := range historyRecords(ops, faults) {
		if err := enc.Encode(rec); err != nil {
			panic(err)
		}
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
	emitWorkloadResults(ops, faults)
}

// historyRecords interleaves ops (by completion, as the clients append
// them) and faults (by start).
func historyRecords(ops []history.Op, faults []history.Fault) []any {
	type rec struct {
		at  int64
		val any
	}
	var recs []rec
	for _, op := range ops {
		at := op.InvokeNS + wlOpTimeout*msNS
		if op.CompleteNS != nil {
			at = *op.CompleteNS
		}
		recs = append(recs, rec{at, op})
	}
	for _, f := range faults {
		recs = append(recs, rec{f.StartNS, f})
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].at < recs[j].at })
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = r.val
	}
	return out
}

func wlFaults() []history.Fault {
	var out []history.Fault
	for i, s := range wlTrials {
		f := history.Fault{Type: history.TypeFault, RunID: wlRunID, Trial: i + 1, Fault: s.faultKind, Target: "raft-node-2",
			Partition: 1, StartNS: s.faultStart * msNS, EndNS: p(s.faultEnd * msNS)}
		out = append(out, f)
		if s.faultKind == history.FaultKill {
			out = append(out, history.Fault{Type: history.TypeFault, RunID: wlRunID, Trial: i + 1, Fault: history.FaultRestart,
				Target: "raft-node-2", Partition: 1, StartNS: 1500 * msNS, EndNS: p(1900 * msNS)})
		}
	}
	return out
}

func emitWorkloadResults(ops []history.Op, faults []history.Fault) {
	emit(&results.Run{
		Type: results.TypeRun, RunID: wlRunID, StartedAt: "2026-12-10T10:00:00Z", Seed: 11, Target: "local",
		Store: "raft-store", Partitions: 2, Replicas: 3, Scenarios: []string{"kill-under-load", "pause", "isolate"},
		Config:   json.RawMessage(`{"seed":11,"repeat":1,"verify_timeout_ns":30000000000}`),
		Versions: map[string]string{"atomix-failover": "dev"}, Schema: results.SchemaVersion, Repeat: 1,
		RestartPolicy: "after-new-leader+100ms (cap 30s)", History: "workload.history.ndjson",
		Workload: json.RawMessage(`{"run_id":"` + wlRunID + `","clients":3,"rate":75,"partitions":2,"mix":{"put":30,"get":40,"cas":20,"write_once":10},"op_timeout_ns":300000000,"map":"workload"}`),
	})
	for i, s := range wlTrials {
		emit(s.record(i + 1))
	}
	checks := recordedChecks(ops, faults)
	for _, c := range checks {
		emit(&c)
	}
	emit(&results.Summary{Type: results.TypeSummary, RunID: wlRunID, Trials: len(wlTrials), EndedAt: "2026-12-10T10:00:08Z",
		Outcomes: map[string]int{"durable": 3}, FinalRead: &results.FinalRead{Keys: 3, OK: 3},
		Workload: workloadSummary(ops, checks)})
}

func (s wlTrialSpec) record(n int) *results.Trial {
	rel := func(abs int64) *int64 { return p((abs - s.clock) * msNS) }
	t := &results.Trial{
		Type: results.TypeTrial, RunID: wlRunID, Trial: n, Scenario: s.scenario, Partition: 1,
		Key: fmt.Sprintf("failover-%s-%d-%d", s.scenario, n, 11_000_000+n), Value: fmt.Sprintf("%s/%d", wlRunID, n),
		LeaderBefore: &results.Leader{Member: 2, Term: uint64(3 + n)}, LeaderAfter: &results.Leader{Member: 1, Term: uint64(4 + n)},
		StartedAt: fmt.Sprintf("2026-12-10T10:00:0%d.000Z", s.clock/1000), Anchor: results.AnchorWriteAck, Fault: s.fault,
		Write: results.Write{Status: results.WriteOK}, Verify: results.Verify{Status: results.VerifyOK, Attempts: 1},
		Outcome: results.OutcomeDurable, ClockNS: p(s.clock * msNS),
	}
	t.Verify.Value = t.Value
	t.T = results.Timestamps{WriteStart: p(100_000), WriteAck: p(2 * msNS), KillSent: rel(s.faultStart), End: rel(s.to - 100)}
	if s.firstOK > 0 {
		t.T.FirstOK = p(s.firstOK * msNS)
		t.T.NewLeader = p((s.firstOK - 50) * msNS)
	}
	if s.faultKind != history.FaultKill {
		t.FaultDurationNS = (s.faultEnd - s.faultStart) * msNS
		t.T.Heal = rel(s.faultEnd)
	}
	if s.faultKind == history.FaultPartition {
		t.IsolatedFrom = "peers"
	}
	derive(t)
	return t
}

// recordedChecks are the check records the runner writes: each trial
// judged by check.CheckTrials (its window checked with an open start, the
// stale reads it invoked, the lost writes counted in it).
func recordedChecks(ops []history.Op, faults []history.Fault) []results.Check {
	trials := make([]int, len(wlTrials))
	for i := range wlTrials {
		trials[i] = i + 1
	}
	var out []results.Check
	for i, j := range check.CheckTrials(ops, faults, trials, check.Options{}) {
		c := results.Check{Type: results.TypeCheck, RunID: wlRunID, Trial: j.Trial, Scenario: wlTrials[i].scenario, Verdict: string(j.Verdict),
			Ops: j.Ops, Keys: len(j.Keys), Violations: j.Violations, StaleReads: len(j.StaleReads), CheckNS: int64(j.Trial) * 3 * msNS}
		for _, lw := range j.LostWrites {
			c.LostWrites = append(c.LostWrites, results.LostWrite{Key: lw.Key, AgeNS: lw.AgeNS})
		}
		if len(j.Violations) > 0 {
			c.Visualization = fmt.Sprintf("workload.%s.trial-%d.%s.html", wlRunID, j.Trial, strings.ReplaceAll(j.Violations[0], "/", "_"))
		}
		out = append(out, c)
	}
	return out
}

func workloadSummary(ops []history.Op, checks []results.Check) *results.WorkloadSummary {
	s := &results.WorkloadSummary{Verdict: results.VerdictLinearizable}
	for _, op := range ops {
		s.Ops++
		switch op.Status {
		case history.StatusOK:
			s.OK++
		case history.StatusFail:
			s.Fail++
		default:
			s.Unknown++
		}
	}
	for _, c := range checks {
		if c.Verdict == results.VerdictViolation {
			s.Verdict, s.Violations = results.VerdictViolation, s.Violations+1
		}
		s.StaleReads += c.StaleReads
		s.LostWrites += len(c.LostWrites)
	}
	return s
}
