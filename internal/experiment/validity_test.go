package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest/observer"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/experiment/faketarget"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// TestControlDataLossOnFake runs the positive control on the fake store:
// the wipe loses the acknowledged write, the trial is lost, and the final
// read does not re-read keys the wipe destroyed by construction.
func TestControlDataLossOnFake(t *testing.T) {
	run := runFake(t, context.Background(), testConfig(Immediate, ControlDataLoss), nil, nil)
	if len(run.log.trials) != 4 {
		t.Fatalf("%d trials, want 4", len(run.log.trials))
	}
	ctl := run.log.trials[3]
	if ctl.Outcome != results.OutcomeLost || ctl.Fault != results.FaultWipeAll || ctl.Verify.Status != results.VerifyMissing {
		t.Fatalf("control trial: outcome %s fault %q verify %s (%s)", ctl.Outcome, ctl.Fault, ctl.Verify.Status, ctl.Error)
	}
	if run.res.Lost() != 1 {
		t.Errorf("Lost() = %d, want 1", run.res.Lost())
	}
	if fr := run.log.summaries[0].FinalRead; fr == nil || fr.Keys != 0 || len(run.log.lost) != 0 {
		t.Errorf("final read %+v with %d lost records, want no key after the wipe", fr, len(run.log.lost))
	}
}

// forgetAfter is a sink that makes the fake store forget a trial's key once
// that trial's record is written: a loss after the trial verified, which
// only the final read can see.
type forgetAfter struct {
	Sink
	f     *faketarget.Target
	trial int
}

func (s forgetAfter) Append(rec any) error {
	if tr, ok := rec.(results.Trial); ok && tr.Trial == s.trial {
		s.f.Forget(tr.Key)
	}
	return s.Sink.Append(rec)
}

// TestFinalReadFindsLaterLoss is the final read's positive control: a key
// that verified durable and vanished afterwards is a lost record, and the
// campaign counts it as a violation.
func TestFinalReadFindsLaterLoss(t *testing.T) {
	var target *faketarget.Target
	run := runFake(t, context.Background(), testConfig(Immediate), func(f *faketarget.Target, _ []TrialPlan) { target = f },
		func(r *Runner) { r.Sink = forgetAfter{Sink: r.Sink, f: target, trial: 2} })
	if got := run.log.trials[1].Outcome; got != results.OutcomeDurable {
		t.Fatalf("trial 2: %s, want durable at its own verification", got)
	}
	fr := run.log.summaries[0].FinalRead
	if fr == nil || fr.Keys != 3 || fr.OK != 2 || fr.Lost != 1 {
		t.Fatalf("final read %+v, want 3 keys, 2 ok, 1 lost", fr)
	}
	if len(run.log.lost) != 1 || run.log.lost[0].Trial != 2 || run.log.lost[0].Key != run.log.trials[1].Key || run.log.lost[0].Read != results.VerifyMissing {
		t.Fatalf("lost records %+v", run.log.lost)
	}
	if run.res.Lost() != 1 || run.res.FinalLost != 1 {
		t.Errorf("Lost() = %d, FinalLost = %d, want 1 and 1", run.res.Lost(), run.res.FinalLost)
	}
}

// TestInFlightKillFollowsTheRequest checks that an in-flight kill waits for
// the write's request to leave for the leader, records that instant, and
// flags the trials whose ack came before the kill.
func TestInFlightKillFollowsTheRequest(t *testing.T) {
	run := runFake(t, context.Background(), testConfig(InFlight), nil, nil)
	for _, tr := range run.log.trials {
		if tr.T.RequestSent == nil || tr.T.KillSent == nil || *tr.T.RequestSent > *tr.T.KillSent {
			t.Errorf("trial %d: request_sent %v kill_sent %v, want the request sent before the kill", tr.Trial, tr.T.RequestSent, tr.T.KillSent)
			continue
		}
		acked := tr.T.WriteAck != nil && *tr.T.WriteAck < *tr.T.KillSent
		if tr.AckBeforeKill != acked {
			t.Errorf("trial %d: ack_before_kill %v, write_ack %v kill_sent %d", tr.Trial, tr.AckBeforeKill, tr.T.WriteAck, *tr.T.KillSent)
		}
	}
	// The fake answers a Put in 200 µs: a kill 5 ms after the write starts comes after the ack.
	if last := run.log.trials[2]; !last.AckBeforeKill {
		t.Errorf("5 ms in-flight trial not flagged ack_before_kill: write_ack %v kill_sent %v", last.T.WriteAck, last.T.KillSent)
	}
}

// TestTrialsStartFromAHealthyStore checks the health gate: every trial but
// the back-to-back ones records its settle time, the killed leader had led
// for at least the minimum age, and the victim's return is recorded.
func TestTrialsStartFromAHealthyStore(t *testing.T) {
	cfg := testConfig(DefaultScenarios()...)
	cfg.MinLeaderAge = 60 * time.Millisecond
	run := runFake(t, context.Background(), cfg, nil, nil)
	for i, tr := range run.log.trials {
		checkTimestamps(t, tr)
		if tr.BackToBack {
			continue
		}
		if tr.LeaderAgeNS == nil || *tr.LeaderAgeNS < int64(cfg.MinLeaderAge) {
			t.Errorf("trial %d: leader age %v, want ≥ %s", tr.Trial, tr.LeaderAgeNS, cfg.MinLeaderAge)
		}
		if i+1 < len(run.log.trials) && run.log.trials[i+1].BackToBack {
			continue // the next trial does not wait for this victim
		}
		if tr.T.VictimBack == nil || tr.VictimBackFirst == nil {
			t.Errorf("trial %d: victim_back %v, victim_back_before_new_leader %v", tr.Trial, tr.T.VictimBack, tr.VictimBackFirst)
		}
	}
	h := run.log.runs[0]
	if h.Schema != results.SchemaVersion || h.MinLeaderAgeNS != int64(cfg.MinLeaderAge) || h.Repeat != 1 {
		t.Errorf("run header schema %d min leader age %d repeat %d", h.Schema, h.MinLeaderAgeNS, h.Repeat)
	}
}

// TestProgressLines checks that each trial line says how far the campaign is.
func TestProgressLines(t *testing.T) {
	run := runFake(t, context.Background(), testConfig(Immediate), nil, nil)
	lines := run.logs.Filter(func(e observer.LoggedEntry) bool { return strings.HasPrefix(e.Message, "trial") }).All()
	if len(lines) != 3 {
		t.Fatalf("%d trial lines, want 3", len(lines))
	}
	for i, l := range lines {
		m := l.ContextMap()
		if m["progress"] != strings.Join([]string{string(rune('1' + i)), "3"}, "/") {
			t.Errorf("line %d: progress %v", i, m["progress"])
		}
		for _, k := range []string{"lost_so_far", "elapsed", "eta"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d: no %s", i, k)
			}
		}
	}
}

func TestControlNeedsAWiper(t *testing.T) {
	tgt := faketarget.New(faketarget.DefaultConfig())
	defer func() { _ = tgt.Close() }()
	w, path := newWriter(t)
	// Only the Target methods: no Wiper, as on Kubernetes.
	r := &Runner{Target: struct{ cluster.Target }{tgt}, Sink: w, Config: testConfig(Immediate, ControlDataLoss)}
	_, err := r.Run(context.Background())
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Run: %v, want ErrUnsupported", err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != 0 {
		t.Errorf("the log got records before the refusal: %v %v", st, err)
	}
}

func TestAcknowledgedSinceWipe(t *testing.T) {
	sent := int64(1)
	tr := func(n int, fault, write, outcome string, killed bool) results.Trial {
		r := results.Trial{Trial: n, Fault: fault, Write: results.Write{Status: write}, Outcome: outcome}
		if killed {
			r.T.KillSent = &sent
		}
		return r
	}
	ok, kill, wipe := results.WriteOK, results.FaultKillLeader, results.FaultWipeAll
	tests := []struct {
		name string
		recs []results.Trial
		want []int
	}{
		{"every acked key", []results.Trial{tr(1, kill, ok, results.OutcomeDurable, true), tr(2, kill, results.WriteUnknown, results.OutcomeIndeterminateAbsent, true), tr(3, kill, ok, results.OutcomeInconclusive, true)}, []int{1, 3}},
		{"a key already lost is not read again", []results.Trial{tr(1, kill, ok, results.OutcomeLost, true), tr(2, kill, ok, results.OutcomeDurable, true)}, []int{2}},
		{"a wipe destroys what came before", []results.Trial{tr(1, kill, ok, results.OutcomeDurable, true), tr(2, wipe, ok, results.OutcomeLost, true), tr(3, kill, ok, results.OutcomeDurable, true)}, []int{3}},
		{"a wipe that never happened destroys nothing", []results.Trial{tr(1, kill, ok, results.OutcomeDurable, true), tr(2, wipe, ok, results.OutcomeInconclusive, false)}, []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, r := range acknowledgedSinceWipe(tt.recs) {
				got = append(got, r.Trial)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("keys of trials %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFinalReadGivesUp checks that the final read stops asking a store that
// does not answer and says so.
func TestFinalReadGivesUp(t *testing.T) {
	run := runFake(t, context.Background(), testConfig(Immediate, DuringReplication), func(f *faketarget.Target, plans []TrialPlan) {
		for _, p := range plans {
			f.SetFault(p.Key.Name, faketarget.HangReads)
		}
	}, nil)
	fr := run.log.summaries[0].FinalRead
	if fr == nil || fr.Keys != 6 || fr.Unanswered != 6 || fr.OK != 0 || !strings.Contains(fr.Error, "6 of 6 keys unanswered") {
		t.Fatalf("final read %+v, want 6 keys all unanswered and an error", fr)
	}
}
