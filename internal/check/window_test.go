package check

import (
	"reflect"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

func TestTrialOpsWindow(t *testing.T) {
	tests := []struct {
		name  string
		ops   []history.Op
		trial int
		// want lists the values (put/cas) or reads (get) of the ops kept, in order.
		want    []string
		verdict Verdict
	}{
		{
			name: "earlier quiescent ops are summed up by the latest one",
			ops: []history.Op{
				inTrial(put("c1", "k", "a", 10, 20, 1), 1),
				inTrial(get("c2", "k", "a", 100, 110, 1), 2),
				inTrial(put("c1", "k", "b", 120, 130, 2), 2),
				inTrial(get("c2", "k", "b", 140, 150, 2), 2),
			},
			trial: 2, want: []string{"put a", "get a", "put b", "get b"}, verdict: Linearizable,
		},
		{
			name: "a stale read inside the window is a violation",
			ops: []history.Op{
				inTrial(put("c1", "k", "a", 10, 20, 1), 1),
				inTrial(put("c1", "k", "b", 100, 110, 2), 2),
				inTrial(get("c2", "k", "a", 120, 130, 1), 2),
			},
			trial: 2, want: []string{"put a", "put b", "get a"}, verdict: Violation,
		},
		{
			name: "an earlier unanswered write is kept: it may apply later",
			ops: []history.Op{
				inTrial(put("c1", "k", "a", 10, 20, 1), 1),
				inTrial(unknown(put("c3", "k", "x", 30, 0, 0)), 1),
				inTrial(put("c1", "k", "b", 100, 110, 2), 2),
				inTrial(get("c2", "k", "x", 120, 130, 0), 2),
			},
			trial: 2, want: []string{"put x", "put a", "put b", "get x"}, verdict: Linearizable,
		},
		{
			name: "an earlier failed write is not carried",
			ops: []history.Op{
				inTrial(put("c1", "k", "a", 10, 20, 1), 1),
				inTrial(failed(cas("c3", "k", "x", 9, 30, 40, 0)), 1),
				inTrial(get("c2", "k", "a", 100, 110, 1), 2),
			},
			trial: 2, want: []string{"put a", "get a"}, verdict: Linearizable,
		},
		{
			name: "an operation in flight at the trial's start widens the window; one after its end does not",
			ops: []history.Op{
				inTrial(put("c1", "k", "a", 10, 20, 1), 1),
				inTrial(put("c1", "k", "b", 90, 150, 2), 1),
				inTrial(get("c2", "k", "a", 100, 110, 1), 2),
				inTrial(get("c2", "k", "b", 160, 170, 2), 3),
			},
			trial: 2, want: []string{"put a", "put b", "get a"}, verdict: Linearizable,
		},
		{
			name: "other keys stay out; a final read right after the window joins it",
			ops: []history.Op{
				inTrial(put("c1", "k", "a", 10, 20, 1), 2),
				inTrial(put("c1", "other", "z", 10, 20, 1), 1),
				inTrial(get(history.FinalClient, "k", "a", 500, 510, 1), 2),
			},
			trial: 2, want: []string{"put a", "get a"}, verdict: Linearizable,
		},
		{
			name: "a write the final read misses is a violation of its trial",
			ops: []history.Op{
				inTrial(put("c1", "w", "a", 10, 20, 1), 2),
				inTrial(get(history.FinalClient, "w", "", 500, 510, 0), 2),
			},
			trial: 2, want: []string{"put a", "get absent"}, verdict: Violation,
		},
		{
			name: "a final read after a later trial's operations stays out",
			ops: []history.Op{
				inTrial(put("c1", "k", "a", 10, 20, 1), 1),
				inTrial(put("c1", "k", "b", 100, 110, 2), 2),
				inTrial(get(history.FinalClient, "k", "b", 500, 510, 2), 2),
			},
			trial: 1, want: []string{"put a"}, verdict: Linearizable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TrialOps(tt.ops, nil, tt.trial)
			var names []string
			for _, op := range got {
				names = append(names, describe(op))
			}
			if len(names) != len(tt.want) {
				t.Fatalf("kept %v, want %v", names, tt.want)
			}
			for i := range names {
				if names[i] != tt.want[i] {
					t.Fatalf("kept %v, want %v", names, tt.want)
				}
			}
			if v := Check(got, Options{OpenStart: true}).Verdict; v != tt.verdict {
				t.Errorf("verdict %s, want %s", v, tt.verdict)
			}
		})
	}
}

func TestOpenStartIsNeededForAWindow(t *testing.T) {
	ops := TrialOps([]history.Op{
		inTrial(put("c1", "k", "a", 10, 20, 0), 1),
		inTrial(get("c2", "k", "a", 100, 110, 0), 2),
	}, nil, 2)
	if v := Check(ops, Options{}).Verdict; v != Violation {
		t.Fatalf("closed start: verdict %s, want violation (the window starts mid-history)", v)
	}
	if v := Check(ops, Options{OpenStart: true}).Verdict; v != Linearizable {
		t.Fatalf("open start: verdict %s, want linearizable", v)
	}
}

func TestOpenStartCAS(t *testing.T) {
	tests := []struct {
		name string
		ops  []history.Op
		want Verdict
	}{
		{"an acknowledged cas pins the version", []history.Op{
			cas("c1", "k", "b", 4, 10, 20, 5), get("c2", "k", "b", 30, 40, 5),
		}, Linearizable},
		{"a read after an acknowledged cas must see it", []history.Op{
			cas("c1", "k", "b", 4, 10, 20, 5), get("c2", "k", "a", 30, 40, 4),
		}, Violation},
		{"an unanswered cas leaves the key unknown", []history.Op{
			unknown(cas("c1", "k", "b", 4, 10, 0, 0)), get("c2", "k", "q", 30, 40, 9),
		}, Linearizable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := Check(tt.ops, Options{OpenStart: true}).Verdict; v != tt.want {
				t.Errorf("verdict %s, want %s", v, tt.want)
			}
		})
	}
}

func describe(op history.Op) string {
	if op.Op == history.OpGet {
		if op.Read == nil {
			return "get absent"
		}
		return "get " + *op.Read
	}
	return op.Op + " " + op.Value
}

func TestTrialOpsWipe(t *testing.T) {
	ops := []history.Op{
		inTrial(put("c1", "w", "a", 10, 20, 1), 1),
		inTrial(get(history.FinalClient, "w", "", 500, 510, 0), 2),
	}
	if got := TrialOps(ops, []history.Fault{wipe(2, 300)}, 1); len(got) != 1 {
		t.Errorf("window across a later trial's wipe: %v, want the put alone (the loss is the wipe's)", got)
	}
	if got := TrialOps(ops, []history.Fault{wipe(1, 300)}, 1); len(got) != 2 {
		t.Errorf("window across the trial's own wipe: %v, want the put and the final read", got)
	}
	if got := TrialOps(ops, []history.Fault{kill(2, 300)}, 1); len(got) != 2 {
		t.Errorf("window across a kill: %v, want the put and the final read", got)
	}
}

func TestCheckTrials(t *testing.T) {
	ops := []history.Op{
		inTrial(put("c1", "k", "a", 10, 20, 1), 1),
		inTrial(get("c2", "k", "a", 30, 40, 1), 1),
		inTrial(put("c1", "w1", "x", 50, 60, 1), 1),
		inTrial(put("c1", "k", "b", 100, 110, 2), 2),
		inTrial(get("c2", "k", "a", 120, 130, 1), 2),
		inTrial(put("c1", "w2", "y", 150, 160, 1), 3),
		inTrial(get(history.FinalClient, "w1", "x", 900, 910, 1), 3),
		inTrial(get(history.FinalClient, "w2", "", 900, 910, 0), 3),
	}
	faults := []history.Fault{kill(1, 25), kill(2, 115), wipe(3, 200)}
	got := CheckTrials(ops, faults, Trials(ops), Options{})
	want := []struct {
		verdict          Verdict
		violations       []string
		ops, stale, lost int
	}{
		{Linearizable, nil, 3, 0, 0},
		{Violation, []string{"k"}, 2, 1, 0},
		{Violation, []string{"w2"}, 1, 0, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Trial != i+1 || g.Verdict != w.verdict || !reflect.DeepEqual(g.Violations, w.violations) ||
			g.Ops != w.ops || len(g.StaleReads) != w.stale || len(g.LostWrites) != w.lost {
			t.Errorf("trial %d: %s %v ops %d stale %d lost %d, want %+v", g.Trial, g.Verdict, g.Violations, g.Ops, len(g.StaleReads), len(g.LostWrites), w)
		}
	}
	if lw := got[2].LostWrites; len(lw) == 1 && (lw[0].Key != "w2" || lw[0].AgeNS == nil || *lw[0].AgeNS != 40) {
		t.Errorf("lost write %+v, want w2 aged 40 ns at the wipe", lw[0])
	}
}

// TestWindowKeepsWhatWasKnownAtTheCut: the review's counter-examples, which
// an unknown start alone would pass as linearizable.
func TestWindowKeepsWhatWasKnownAtTheCut(t *testing.T) {
	tests := []struct {
		name string
		ops  []history.Op
	}{
		{"a version going back across the cut", []history.Op{
			inTrial(put("c1", "k", "a", 0, 10, 100), 1),
			inTrial(put("c1", "k", "b", 100, 110, 98), 2),
			inTrial(get(history.FinalClient, "k", "b", 500, 510, 98), 2),
		}},
		{"a key vanishing across the cut", []history.Op{
			inTrial(put("c1", "k", "a", 0, 10, 5), 1),
			inTrial(put("c1", "k", "b", 20, 30, 7), 1),
			inTrial(unknown(put("c2", "k", "c", 100, 0, 0)), 2),
			inTrial(get(history.FinalClient, "k", "", 500, 510, 0), 2),
		}},
		{"a read going back across the cut", []history.Op{
			inTrial(put("c1", "k", "a", 0, 10, 5), 1),
			inTrial(put("c1", "k", "b", 20, 30, 7), 1),
			inTrial(get("c2", "k", "a", 100, 110, 5), 2),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := Check(tt.ops, Options{}).Verdict; v != Violation {
				t.Fatalf("whole history: %s, want violation", v)
			}
			res := CheckTrials(tt.ops, nil, []int{2}, Options{})
			if res[0].Verdict != Violation {
				t.Errorf("trial 2: %s, want violation", res[0].Verdict)
			}
		})
	}
}
