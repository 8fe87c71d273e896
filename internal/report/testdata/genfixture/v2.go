package main

import (
	"encoding/json"
	"fmt"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// v2Run is the run ID of the version 2 fixture.
const v2Run = "20261201T090000Z-local-s5"

// v2Spec is one trial of the version 2 fixture; times are in ms since the
// trial's start (0 = absent), durations in ms.
type v2Spec struct {
	scenario        string
	anchor          string
	fault           string
	delay           float64
	partition       int
	ack             float64 // write_ack; 0 for an unacknowledged write
	requestSent     float64
	kill            float64
	killDone        float64
	restart         float64
	victimBack      float64
	newLeader       float64
	firstOK         float64
	verify          float64 // t.verify
	end             float64
	write           string
	readBack        string // verify status
	outcome         string
	termBefore      uint64
	termAfter       uint64 // 0 with a leader after: term unknown
	noLeaderAfter   bool
	victimBackFirst *bool
	settle          float64 // 0: absent
	settleError     string
	leaderAge       float64
	backToBack      bool
	ackBeforeKill   bool
	retargetReason  string
	probes          int
	interrupted     bool
	err             string
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

const (
	ack   = results.AnchorWriteAck
	start = results.AnchorWriteStart
	kl    = results.FaultKillLeader
	wipe  = results.FaultWipeAll
)

// v2Trials are the fixture's trials, numbered from 1 (comments: the
// expected numbers the tests check).
var v2Trials = []v2Spec{
	// 1: election 400, recovery 450.
	{scenario: "immediate", anchor: ack, fault: kl, delay: 0, partition: 1, ack: 2.1, requestSent: 0.3, kill: 2.5, killDone: 6.5, restart: 10, victimBack: 602.5,
		newLeader: 402.5, firstOK: 452.5, verify: 455, end: 456, write: "ok", readBack: "ok", outcome: "durable",
		termBefore: 4, termAfter: 5, victimBackFirst: no(), settle: 1200, leaderAge: 5000, probes: 18},
	// 2: election 500, recovery 560, two election rounds.
	{scenario: "during-replication", anchor: ack, fault: kl, delay: 50, partition: 2, ack: 3.1, kill: 53.6, killDone: 57.6, restart: 60, victimBack: 353.6,
		newLeader: 553.6, firstOK: 613.6, verify: 615, end: 616, write: "ok", readBack: "ok", outcome: "durable",
		termBefore: 6, termAfter: 8, victimBackFirst: yes(), settle: 800, leaderAge: 3000, probes: 23},
	// 3: in-flight, the write cut off and gone.
	{scenario: "in-flight", anchor: start, fault: kl, delay: 2, partition: 3, requestSent: 0.4, kill: 2.3, killDone: 6, restart: 9, victimBack: 352.3,
		newLeader: 452.3, firstOK: 522.3, verify: 530, end: 531, write: "unknown", readBack: "missing", outcome: "indeterminate_absent",
		termBefore: 3, termAfter: 4, victimBackFirst: yes(), settle: 950, leaderAge: 4000, probes: 21},
	// 4: in-flight, but the ack came before the kill.
	{scenario: "in-flight", anchor: start, fault: kl, delay: 0, partition: 1, ack: 1.6, requestSent: 0.2, kill: 1.9, killDone: 5, restart: 8, victimBack: 701.9,
		newLeader: 501.9, firstOK: 581.9, verify: 585, end: 586, write: "ok", readBack: "ok", outcome: "durable",
		termBefore: 5, termAfter: 6, victimBackFirst: no(), settle: 1000, leaderAge: 2500, ackBeforeKill: true, probes: 24},
	// 5: the positive control: every node wiped, the write lost.
	{scenario: "control-data-loss", anchor: ack, fault: wipe, delay: 0, partition: 2, ack: 2.1, kill: 2.5, killDone: 20, restart: 30, victimBack: 1502.5,
		newLeader: 2002.5, firstOK: 2502.5, verify: 2505, end: 2506, write: "ok", readBack: "missing", outcome: "lost",
		termBefore: 8, termAfter: 2, settle: 900, leaderAge: 6000, probes: 100},
	// 6: retargeted kill.
	{scenario: "rapid-sequential", anchor: ack, fault: kl, delay: 0, partition: 3, ack: 2.1, kill: 2.6, killDone: 6.6, restart: 10, victimBack: 402.6,
		newLeader: 602.6, firstOK: 702.6, verify: 705, end: 706, write: "ok", readBack: "ok", outcome: "durable",
		termBefore: 4, termAfter: 5, victimBackFirst: yes(), settle: 1100, leaderAge: 1500,
		retargetReason: "leader moved between the write and the kill", probes: 28},
	// 7: back to back.
	{scenario: "rapid-sequential", anchor: ack, fault: kl, delay: 0, partition: 1, ack: 2.1, kill: 2.5, killDone: 6.5, restart: 10, victimBack: 1202.5,
		newLeader: 902.5, firstOK: 1002.5, verify: 1005, end: 1006, write: "ok", readBack: "ok", outcome: "durable",
		termBefore: 6, termAfter: 7, victimBackFirst: no(), leaderAge: 300, backToBack: true, probes: 40},
	// 8: back to back, never recovered, no end: censored at the verify timeout (30000).
	{scenario: "rapid-sequential", anchor: ack, fault: kl, delay: 0, partition: 2, ack: 2.1, kill: 2.5, killDone: 6.5, restart: 10, victimBack: 1502.5,
		write: "ok", readBack: "error", outcome: "inconclusive",
		termBefore: 7, noLeaderAfter: true, leaderAge: 200, backToBack: true, probes: 1200,
		err: "no answer within the 30s verify timeout"},
	// 9: recorded indeterminate_applied, but no probe succeeded: the rule
	// says inconclusive; censored at end − kill = 8995.7.
	{scenario: "in-flight", anchor: start, fault: kl, delay: 5, partition: 3, requestSent: 0.5, kill: 5.3, killDone: 9.3, restart: 12, victimBack: 305.3,
		newLeader: 405.3, verify: 9000, end: 9001, write: "unknown", readBack: "ok", outcome: "indeterminate_applied",
		termBefore: 7, termAfter: 8, victimBackFirst: yes(), settle: 1300, leaderAge: 2000, probes: 360},
	// 10: the new leader's term is unknown; the final read finds another value.
	{scenario: "immediate", anchor: ack, fault: kl, delay: 0, partition: 1, ack: 2.1, kill: 2.4, killDone: 6.4, restart: 10, victimBack: 652.4,
		newLeader: 352.4, firstOK: 402.4, verify: 405, end: 406, write: "ok", readBack: "ok", outcome: "durable",
		termBefore: 8, termAfter: 0, victimBackFirst: no(), settle: 1000, leaderAge: 4500, probes: 16},
	// 11: the victim's return was not observed.
	{scenario: "during-replication", anchor: ack, fault: kl, delay: 100, partition: 2, ack: 2.1, kill: 102.6, killDone: 106.6,
		newLeader: 552.6, firstOK: 602.6, verify: 605, end: 606, write: "ok", readBack: "ok", outcome: "durable",
		termBefore: 9, termAfter: 10, settle: 700, leaderAge: 3500, probes: 20},
	// 12: began after the health wait gave up; interrupted after the kill,
	// no end: censored at its last timestamp, kill_done − kill = 4.
	{scenario: "during-replication", anchor: ack, fault: kl, delay: 200, partition: 3, ack: 2.1, kill: 202.6, killDone: 206.6,
		write: "ok", readBack: "error", outcome: "inconclusive",
		termBefore: 8, noLeaderAfter: true, settle: 600, settleError: "partition 3: leader in office 400ms < 1s", leaderAge: 4200,
		interrupted: true, probes: 7, err: "interrupted"},
}

// ns converts ms to a timestamp; nil for 0 (absent).
func ns(ms float64) *int64 {
	if ms == 0 {
		return nil
	}
	return p(int64(ms*1e6 + 0.5))
}

func (s v2Spec) trial(n int) *results.Trial {
	t := &results.Trial{
		Type: results.TypeTrial, RunID: v2Run, Trial: n, Scenario: s.scenario, DelayNS: int64(s.delay * 1e6),
		Partition: s.partition, Key: keyOf(s.scenario, n), Value: valueOf(n),
		LeaderBefore: &results.Leader{Member: uint64(n%3 + 1), Pod: "", Term: s.termBefore},
		StartedAt:    fmt.Sprintf("2026-12-01T09:%02d:00.000Z", n),
		Outcome:      s.outcome, Error: s.err,
		Anchor: s.anchor, Fault: s.fault, BackToBack: s.backToBack, SettleNS: ns(s.settle), SettleError: s.settleError, LeaderAgeNS: ns(s.leaderAge),
		VictimBackFirst: s.victimBackFirst, AckBeforeKill: s.ackBeforeKill, Retargeted: s.retargetReason != "",
		RetargetReason: s.retargetReason, ProbeAttempts: s.probes, Interrupted: s.interrupted,
	}
	if !s.noLeaderAfter {
		t.LeaderAfter = &results.Leader{Member: uint64((n+1)%3 + 1), Term: s.termAfter}
	}
	t.T = results.Timestamps{
		WriteStart: ns(0.1), RequestSent: ns(s.requestSent), WriteAck: ns(s.ack), KillSent: ns(s.kill), KillDone: ns(s.killDone),
		NewLeader: ns(s.newLeader), FirstOK: ns(s.firstOK), Verify: ns(s.verify), Restart: ns(s.restart), VictimBack: ns(s.victimBack), End: ns(s.end),
	}
	t.Write = results.Write{Status: s.write}
	if s.write != results.WriteOK {
		t.Write.Error = "context deadline exceeded"
		t.WriteLatencyNS = p(250e6) // the in-flight write deadline, not a latency
	}
	t.Verify = results.Verify{Status: s.readBack, Attempts: 1}
	switch s.readBack {
	case results.VerifyOK:
		t.Verify.Value = t.Value
	case results.VerifyError:
		t.Verify.Attempts, t.Verify.Error = 60, "context deadline exceeded"
	}
	from := t.T.WriteAck
	if s.anchor == results.AnchorWriteStart {
		from = t.T.WriteStart
	}
	t.ActualDelayNS = sub(t.T.KillSent, from)
	t.ElectionNS = sub(t.T.NewLeader, t.T.KillSent)
	t.RecoveryNS = sub(t.T.FirstOK, t.T.KillSent)
	t.DurationNS = t.T.End
	if t.Write.Status == results.WriteOK {
		t.WriteLatencyNS = sub(t.T.WriteAck, t.T.WriteStart)
	}
	return t
}

func keyOf(scenario string, n int) string {
	return fmt.Sprintf("failover-%s-%d-%d", scenario, n, 5_000_000+n)
}
func valueOf(n int) string { return fmt.Sprintf("%s/%d", v2Run, n) }

func emitV2() {
	emit(&results.Run{
		Type: results.TypeRun, RunID: v2Run, StartedAt: "2026-12-01T09:00:00Z", Seed: 5, Target: "local",
		Store: "raft-store", Partitions: 3, Replicas: 3,
		Scenarios: []string{"during-replication", "immediate", "in-flight", "rapid-sequential", "control-data-loss"},
		Config:    json.RawMessage(`{"seed":5,"repeat":2,"shuffle":true,"verify_timeout_ns":30000000000}`),
		Versions:  map[string]string{"atomix-failover": "dev", "raft": "v0.7.0"},
		Schema:    results.SchemaVersion, Repeat: 2, Shuffle: true,
		RestartPolicy: "after-new-leader+100ms (cap 30s)", MinLeaderAgeNS: 1e9,
	})
	outcomes := map[string]int{}
	for i, s := range v2Trials {
		emit(s.trial(i + 1))
		outcomes[s.outcome]++
	}
	// The final read covers the keys acknowledged since the wipe of trial 5:
	// 6, 7, 8, 10, 11 and 12.
	emit(&results.Lost{Type: results.TypeLost, RunID: v2Run, Trial: 10, Key: keyOf("immediate", 10), Value: valueOf(10),
		Read: results.VerifyMismatch, ReadValue: "stale-value", At: "2026-12-01T09:13:01Z"})
	emit(&results.Summary{Type: results.TypeSummary, RunID: v2Run, Trials: len(v2Trials), EndedAt: "2026-12-01T09:13:02Z",
		Outcomes: outcomes, Interrupted: true,
		FinalRead: &results.FinalRead{Keys: 6, OK: 4, Lost: 1, Unanswered: 1, Error: "1 of 6 keys unanswered"}})
}
