package report

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/history"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// judgeFixture is check.CheckTrials on the workload fixture's history, as
// the analyzer bounds it.
func judgeFixture(t *testing.T) []check.TrialResult {
	t.Helper()
	ops, faults, warnings, err := history.ReadAll(strings.NewReader(lines(fileLines(t, workloadHistory)...)), "20261210T100000Z-local-s11")
	if err != nil || len(warnings) > 0 {
		t.Fatalf("reading the fixture's history: %v, %v", err, warnings)
	}
	return check.CheckTrials(ops, faults, check.Trials(ops), check.Options{Timeout: DefaultCheckTimeout, MemoryLimit: RecheckMemoryLimit})
}

// The analyzer's per-trial verdicts, stale reads and lost writes are
// check.CheckTrials' on the fixture.
func TestRecheckIsCheckTrials(t *testing.T) {
	judged := judgeFixture(t)
	_, w := analyzeWorkload(t, workloadFixture, Options{})
	if len(w.Trials) != len(judged) {
		t.Fatalf("%d trials, check judged %d", len(w.Trials), len(judged))
	}
	for i, wt := range w.Trials {
		j := judged[i]
		if wt.Trial != j.Trial || wt.RecheckVerdict != string(j.Verdict) || wt.StaleReads != len(j.StaleReads) || wt.Ops != j.Ops {
			t.Errorf("trial %d: verdict %s, %d stale reads, %d ops; check: trial %d %s, %d, %d",
				wt.Trial, wt.RecheckVerdict, wt.StaleReads, wt.Ops, j.Trial, j.Verdict, len(j.StaleReads), j.Ops)
		}
		if !slices.Equal(wt.ViolationKeys, nonNil(j.Violations)) {
			t.Errorf("trial %d: violation keys %v, check %v", wt.Trial, wt.ViolationKeys, j.Violations)
		}
		if got, want := reportedLost(wt), checkedLost(j.LostWrites); !reflect.DeepEqual(got, want) {
			t.Errorf("trial %d: lost writes %v, check %v", wt.Trial, got, want)
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// reportedLost are a trial's lost writes as "key@age_ns" ("key@-" without an age).
func reportedLost(wt WorkloadTrial) []string {
	out := []string{}
	for _, l := range wt.Lost {
		out = append(out, lostString(l.Key, l.ageNS))
	}
	return out
}

func checkedLost(lws []check.LostWrite) []string {
	out := []string{}
	for _, l := range lws {
		out = append(out, lostString(l.Key, l.AgeNS))
	}
	slices.Sort(out)
	return out
}

func lostString(key string, age *int64) string {
	if age == nil {
		return key + "@-"
	}
	return fmt.Sprintf("%s@%d", key, *age)
}

// The analyzer's compact history hands check.CheckTrials what the history
// says: on random histories (overlapping operations across trials,
// unanswered and failed operations, write-once keys, final reads, a wipe
// of every member), its judgement is check.CheckTrials' on the records.
func TestRecheckRandomHistories(t *testing.T) {
	for seed := range uint64(60) {
		ops, faults := randomHistory(seed)
		h := newRunHistory("r")
		h.faults = faults
		for i := range ops {
			h.ops = append(h.ops, h.compact(&ops[i]))
		}
		trials := check.Trials(ops)
		rechecked := (&rechecker{runID: "r", faults: faults, timeout: time.Minute}).judge(h, trials)
		for _, j := range check.CheckTrials(ops, faults, trials, check.Options{MemoryLimit: RecheckMemoryLimit}) {
			rr := rechecked[j.Trial]
			if rr.verdict != string(j.Verdict) || !slices.Equal(rr.violations, j.Violations) || rr.staleReads != len(j.StaleReads) ||
				!reflect.DeepEqual(checkedLost(rr.lost), checkedLost(j.LostWrites)) {
				t.Fatalf("seed %d trial %d: %s %v, %d stale, lost %v; check: %s %v, %d, %v", seed, j.Trial, rr.verdict, rr.violations,
					rr.staleReads, checkedLost(rr.lost), j.Verdict, j.Violations, len(j.StaleReads), checkedLost(j.LostWrites))
			}
		}
	}
}

// randomHistory is 60 operations of three clients in three trials of 200
// ns on two hot keys and a few write-once keys, then final reads; trial 3
// wipes every member.
func randomHistory(seed uint64) ([]history.Op, []history.Fault) {
	rng := rand.New(rand.NewPCG(seed, 3))
	var ops []history.Op
	for i := range 60 {
		invoke := int64(i*10 + rng.IntN(30))
		op := history.Op{Type: history.TypeOp, RunID: "r", Trial: 1 + int(invoke/200), Client: fmt.Sprintf("c%d", rng.IntN(3)),
			Op: []string{history.OpPut, history.OpGet, history.OpCAS}[rng.IntN(3)], Key: fmt.Sprintf("k%d", rng.IntN(2)),
			Value: fmt.Sprint(i), InvokeNS: invoke, Status: history.StatusOK, Version: ptr(uint64(rng.IntN(40)))}
		if rng.IntN(5) == 0 {
			op.Op, op.Key = history.OpPut, fmt.Sprintf("wo-%d", i)
		}
		if op.Op == history.OpGet {
			op.Value, op.Read = "", ptr(fmt.Sprint(rng.IntN(i+1)))
		}
		switch rng.IntN(6) {
		case 0:
			op.Status = history.StatusUnknown
		case 1:
			op.Status, op.CompleteNS = history.StatusFail, ptr(invoke+int64(rng.IntN(50)))
		default:
			op.CompleteNS = ptr(invoke + int64(rng.IntN(80)))
		}
		ops = append(ops, op)
	}
	ops = append(ops, finalReads(rng, ops)...)
	return ops, []history.Fault{
		{Type: history.TypeFault, RunID: "r", Trial: 1, Fault: history.FaultKill, Target: "n1", StartNS: 100},
		{Type: history.TypeFault, RunID: "r", Trial: 3, Fault: history.FaultKill, Target: history.TargetAll, StartNS: 450},
	}
}

// finalReads read each key once at 1 000 ns: the last value written, or
// (one time in three) nothing.
func finalReads(rng *rand.Rand, ops []history.Op) []history.Op {
	last := map[string]string{}
	var keys []string
	for _, op := range ops {
		if _, ok := last[op.Key]; !ok {
			keys = append(keys, op.Key)
		}
		if op.Op != history.OpGet && op.Status != history.StatusFail {
			last[op.Key] = op.Value
		}
	}
	var out []history.Op
	for i, k := range keys {
		read := last[k]
		op := history.Op{Type: history.TypeOp, RunID: "r", Trial: 3, Client: history.FinalClient, Op: history.OpGet, Key: k,
			InvokeNS: int64(1000 + 2*i), CompleteNS: ptr(int64(1001 + 2*i)), Status: history.StatusOK}
		if read != "" && rng.IntN(3) > 0 {
			op.Read = &read
		}
		out = append(out, op)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// A wipe of every member takes the losses of the writes acknowledged
// before it, aged to the wipe; the final read that misses a write is no
// stale read.
func TestRecheckWipeTakesTheLoss(t *testing.T) {
	hist := lines(
		`{"type":"op","run_id":"w","trial":1,"client":"c1","op":"put","key":"wo-1","value":"a","version":3,"invoke_ns":100,"complete_ns":200,"status":"ok"}`,
		`{"type":"fault","run_id":"w","trial":1,"fault":"kill","target":"n1","start_ns":250,"end_ns":260}`,
		`{"type":"op","run_id":"w","trial":1,"client":"c2","op":"get","key":"wo-1","read":"a","version":3,"invoke_ns":300,"complete_ns":400,"status":"ok"}`,
		`{"type":"op","run_id":"w","trial":2,"client":"c2","op":"put","key":"wo-2","value":"b","version":4,"invoke_ns":500,"complete_ns":600,"status":"ok"}`,
		`{"type":"fault","run_id":"w","trial":2,"fault":"kill","target":"all","start_ns":700,"end_ns":710}`,
		`{"type":"op","run_id":"w","trial":2,"client":"final","op":"get","key":"wo-1","read":null,"invoke_ns":900,"complete_ns":950,"status":"ok"}`,
		`{"type":"op","run_id":"w","trial":2,"client":"final","op":"get","key":"wo-2","read":null,"invoke_ns":960,"complete_ns":970,"status":"ok"}`,
	)
	log := writeWorkloadRun(t, hist, lines(`{"type":"run","run_id":"w","schema":2,"history":"h.jsonl","workload":{"clients":2}}`,
		`{"type":"trial","run_id":"w","trial":1,"scenario":"kill-under-load","clock_ns":0,"t":{"kill_sent":250,"first_ok":400},"write":{"status":"ok"},"verify":{"status":"ok"},"outcome":"durable"}`,
		`{"type":"trial","run_id":"w","trial":2,"scenario":"control","clock_ns":450,"t":{"kill_sent":250},"write":{"status":"ok"},"verify":{"status":"missing"},"outcome":"lost"}`))
	_, w := analyzeWorkload(t, log, Options{})
	one, two := w.Trials[0], w.Trials[1]
	if one.LostWrites != 0 || one.StaleReads != 0 || one.RecheckVerdict != results.VerdictLinearizable {
		t.Errorf("trial 1: %+v", one)
	}
	if got := reportedLost(two); !slices.Equal(got, []string{"wo-1@500", "wo-2@100"}) || two.StaleReads != 0 || two.LostByAge.To10 != 2 {
		t.Errorf("trial 2: lost %v, %d stale reads, bins %+v", got, two.StaleReads, two.LostByAge)
	}
}
