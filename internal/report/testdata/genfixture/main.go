// Command genfixture writes the golden tests' fixture logs.
//
// campaign.ndjson (schema version 1): three runs (one complete and clean,
// one complete with every outcome class, one crashed mid-trial and
// interleaved with the second), all five scenarios, records without
// derived metrics or timestamps, a torn line the writer terminated, and a
// torn last line.
//
// campaign-v2.ndjson (-v2, schema version 2): one interrupted run whose
// twelve trials have round numbers (see v2.go) and use every field version
// 2 added: a positive control, an in-flight trial acknowledged before its
// kill, back-to-back trials, a retargeted kill with its reason, a recorded
// outcome the outcome rule disagrees with, a trial that began on an
// unhealthy store, censored trials, and a lost record from the final read.
//
// workload.ndjson (-workload HISTORY, schema version 2 with a workload): one
// run of three trials under a concurrent workload (see workload.go): a kill
// under load that loses a write-once key acknowledged 5 ms before the kill,
// a pause, and an isolation with one stale read (a violation); their check
// records as the runner writes them; the history log goes to HISTORY.
//
//	go run ./internal/report/testdata/genfixture > internal/report/testdata/campaign.ndjson
//	go run ./internal/report/testdata/genfixture -v2 > internal/report/testdata/campaign-v2.ndjson
//	go run ./internal/report/testdata/genfixture -workload internal/report/testdata/workload.history.ndjson > internal/report/testdata/workload.ndjson
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

func p(v int64) *int64 { return &v }

var rng = rand.New(rand.NewPCG(7, 11))

func ms(lo, hi float64) int64 { return int64((lo + rng.Float64()*(hi-lo)) * 1e6) }

type spec struct {
	scenario string
	delayNS  int64
	outcome  string
}

// trial builds a realistic trial record; the mutators below remove parts.
func trial(run string, n int, s spec, partition int, term uint64) *results.Trial {
	t := &results.Trial{
		Type: results.TypeTrial, RunID: run, Trial: n, Scenario: s.scenario, DelayNS: s.delayNS,
		Partition: partition, Key: fmt.Sprintf("failover-%s-%d-%d", s.scenario, n, rng.IntN(900)+100),
		Value:        fmt.Sprintf("v-%s-%d", run[len(run)-2:], n),
		LeaderBefore: &results.Leader{Member: uint64(rng.IntN(3) + 1), Term: term},
		StartedAt:    fmt.Sprintf("2026-11-25T10:%02d:%02d.%03dZ", 15+n/6, (n*9)%60, rng.IntN(1000)),
		Outcome:      s.outcome,
	}
	t.LeaderBefore.Pod = fmt.Sprintf("raft-store-%d", t.LeaderBefore.Member-1)
	ts := &t.T
	ts.WriteStart = p(ms(0.05, 0.2))
	ack := *ts.WriteStart + ms(1.5, 4.5)
	ts.WriteAck = p(ack)
	killFrom := ack
	if s.scenario == "in-flight" {
		killFrom = *ts.WriteStart
	}
	ts.KillSent = p(killFrom + s.delayNS + ms(0.02, 0.4))
	ts.KillDone = p(*ts.KillSent + ms(1, 8))
	election := ms(250, 900)
	if s.scenario == "rapid-sequential" {
		election += ms(200, 900)
	}
	ts.NewLeader = p(*ts.KillSent + election)
	ts.FirstOK = p(*ts.NewLeader + ms(15, 120))
	ts.Verify = p(*ts.FirstOK + ms(1, 4))
	ts.End = p(*ts.Verify + ms(0.1, 0.5))
	t.Write = results.Write{Status: results.WriteOK}
	t.Verify = results.Verify{Status: results.VerifyOK, Attempts: 1, Value: t.Value}
	after := uint64(1)
	if rng.IntN(6) == 0 {
		after = 2
	}
	m := t.LeaderBefore.Member%3 + 1
	t.LeaderAfter = &results.Leader{Member: m, Pod: fmt.Sprintf("raft-store-%d", m-1), Term: term + after}

	switch s.outcome {
	case results.OutcomeLost:
		t.Verify = results.Verify{Status: results.VerifyMissing, Attempts: 3}
	case results.OutcomeIndeterminateApplied, results.OutcomeIndeterminateAbsent:
		ts.WriteAck = nil
		t.Write = results.Write{Status: results.WriteUnknown, Error: "rpc error: code = Unavailable desc = transport is closing"}
		if s.outcome == results.OutcomeIndeterminateAbsent {
			t.Verify = results.Verify{Status: results.VerifyMissing, Attempts: 1}
		}
	case results.OutcomeInconclusive:
		ts.NewLeader, ts.FirstOK, ts.Verify = nil, nil, nil
		ts.End = p(*ts.KillSent + 30e9)
		t.LeaderAfter = nil
		t.Verify = results.Verify{Status: results.VerifyError, Attempts: 15, Error: "context deadline exceeded"}
		t.Error = "no answer within the 30s verify timeout"
	}
	derive(t)
	return t
}

func sub(a, b *int64) *int64 {
	if a == nil || b == nil {
		return nil
	}
	return p(*a - *b)
}

func derive(t *results.Trial) {
	ts := &t.T
	from := ts.WriteAck
	if t.Scenario == "in-flight" {
		from = ts.WriteStart
	}
	t.ActualDelayNS = sub(ts.KillSent, from)
	t.ElectionNS = sub(ts.NewLeader, ts.KillSent)
	t.RecoveryNS = sub(ts.FirstOK, ts.KillSent)
	t.DurationNS = ts.End
	t.WriteLatencyNS = sub(ts.WriteAck, ts.WriteStart)
}

func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", b)
}

func run(id, target, started string, seed int64, scenarios []string) *results.Run {
	return &results.Run{
		Type: results.TypeRun, RunID: id, StartedAt: started, Seed: seed, Target: target,
		Store: "raft-store", Partitions: 3, Replicas: 3, Scenarios: scenarios,
		Config:   json.RawMessage(`{"verify_timeout":"30s","repeat":1}`),
		Versions: map[string]string{"atomix-failover": "dev", "raft": "v0.7.0"},
	}
}

var defaultCampaign = []spec{
	{"immediate", 0, "durable"}, {"immediate", 0, "durable"}, {"immediate", 0, "durable"},
	{"during-replication", 50e6, "durable"}, {"during-replication", 100e6, "durable"}, {"during-replication", 200e6, "durable"},
	{"precision-timed", 10e6, "durable"}, {"precision-timed", 25e6, "durable"}, {"precision-timed", 75e6, "durable"},
	{"rapid-sequential", 0, "durable"}, {"rapid-sequential", 0, "durable"}, {"rapid-sequential", 0, "durable"},
}

func main() {
	v2 := flag.Bool("v2", false, "write the schema version 2 fixture")
	wl := flag.String("workload", "", "write the workload fixture, its history to this file")
	flag.Parse()
	if *wl != "" {
		emitWorkload(*wl)
		return
	}
	if *v2 {
		emitV2()
		return
	}
	emitV1()
}

func emitV1() {
	// Run 1: the seed campaign's shape, clean.
	r1 := "20261125T101500Z-local-s7"
	emit(run(r1, "local", "2026-11-25T10:15:00Z", 7, []string{"immediate", "during-replication", "precision-timed", "rapid-sequential"}))
	term := uint64(2)
	for i, s := range defaultCampaign {
		emit(trial(r1, i+1, s, i%3+1, term))
		term++
	}
	emit(&results.Summary{Type: results.TypeSummary, RunID: r1, Trials: 12, EndedAt: "2026-11-25T10:17:31Z", Outcomes: map[string]int{"durable": 12}})

	// Run 2: kubernetes, all five scenarios, every outcome class.
	r2 := "20261125T110000Z-kubernetes-s42"
	r3 := "20261125T110500Z-local-s99"
	emit(run(r2, "kubernetes", "2026-11-25T11:00:00Z", 42, []string{"immediate", "during-replication", "precision-timed", "rapid-sequential", "in-flight"}))
	specs2 := []spec{
		{"immediate", 0, "durable"}, {"immediate", 0, "durable"}, {"immediate", 0, "durable"},
		{"during-replication", 50e6, "durable"}, {"during-replication", 100e6, "durable"}, {"during-replication", 200e6, "durable"},
		{"precision-timed", 10e6, "durable"}, {"precision-timed", 25e6, "durable"}, {"precision-timed", 75e6, "durable"},
		{"rapid-sequential", 0, "durable"}, {"rapid-sequential", 0, "lost"}, {"rapid-sequential", 0, "inconclusive"},
		{"in-flight", 1.2e6, "indeterminate_applied"}, {"in-flight", 3.7e6, "indeterminate_absent"}, {"in-flight", 0.4e6, "indeterminate_applied"},
	}
	outcomes := map[string]int{}
	for i, s := range specs2 {
		t := trial(r2, i+1, s, (i+1)%3+1, uint64(5+i))
		switch i {
		case 1: // an older runner: no derived metrics, recomputed from t
			t.ActualDelayNS, t.ElectionNS, t.RecoveryNS, t.DurationNS, t.WriteLatencyNS = nil, nil, nil, nil, nil
		case 4: // the leader watch missed the new leader: no new_leader, no election
			t.T.NewLeader, t.ElectionNS = nil, nil
		case 7: // timestamps lost entirely, derived metrics too
			t.T = results.Timestamps{WriteStart: t.T.WriteStart}
			t.ActualDelayNS, t.ElectionNS, t.RecoveryNS, t.DurationNS, t.WriteLatencyNS = nil, nil, nil, nil, nil
			t.LeaderAfter = nil
		case 8: // retargeted kill
			t.Retargeted = true
		}
		outcomes[s.outcome]++
		emit(t)
		if i == 5 {
			// Run 3 starts while run 2 is still running: interleaved lines.
			emit(run(r3, "local", "2026-11-25T11:05:00Z", 99, []string{"precision-timed", "in-flight"}))
		}
		if i >= 6 && i <= 9 {
			emit(trial(r3, i-5, spec{"precision-timed", []int64{10e6, 25e6, 75e6, 10e6}[i-6], "durable"}, 2, uint64(30+i)))
		}
		if i == 10 {
			// A record torn by a crash, later terminated by the writer.
			b, _ := json.Marshal(trial(r3, 5, spec{"in-flight", 2e6, "durable"}, 1, 41))
			fmt.Printf("%s\n", b[:97])
		}
	}
	emit(&results.Summary{Type: results.TypeSummary, RunID: r2, Trials: len(specs2), EndedAt: "2026-11-25T11:03:12Z", Outcomes: outcomes})
	// Run 3 crashes while appending its last trial: a torn last line.
	b, _ := json.Marshal(trial(r3, 6, spec{"in-flight", 2.5e6, "durable"}, 3, 44))
	fmt.Printf("%s", b[:180])
}
