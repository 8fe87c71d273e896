package check

import (
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
			name: "earlier quiescent ops are summed up by the open start",
			ops: []history.Op{
				inTrial(put("c1", "k", "a", 10, 20, 1), 1),
				inTrial(get("c2", "k", "a", 100, 110, 1), 2),
				inTrial(put("c1", "k", "b", 120, 130, 2), 2),
				inTrial(get("c2", "k", "b", 140, 150, 2), 2),
			},
			trial: 2, want: []string{"get a", "put b", "get b"}, verdict: Linearizable,
		},
		{
			name: "a stale read inside the window is a violation",
			ops: []history.Op{
				inTrial(put("c1", "k", "a", 10, 20, 1), 1),
				inTrial(put("c1", "k", "b", 100, 110, 2), 2),
				inTrial(get("c2", "k", "a", 120, 130, 1), 2),
			},
			trial: 2, want: []string{"put b", "get a"}, verdict: Violation,
		},
		{
			name: "an earlier unanswered write is kept: it may apply later",
			ops: []history.Op{
				inTrial(put("c1", "k", "a", 10, 20, 1), 1),
				inTrial(unknown(put("c3", "k", "x", 30, 0, 0)), 1),
				inTrial(put("c1", "k", "b", 100, 110, 2), 2),
				inTrial(get("c2", "k", "x", 120, 130, 0), 2),
			},
			trial: 2, want: []string{"put x", "put b", "get x"}, verdict: Linearizable,
		},
		{
			name: "an operation in flight at the trial's start widens the window; one after its end does not",
			ops: []history.Op{
				inTrial(put("c1", "k", "a", 10, 20, 1), 1),
				inTrial(put("c1", "k", "b", 90, 150, 2), 1),
				inTrial(get("c2", "k", "a", 100, 110, 1), 2),
				inTrial(get("c2", "k", "b", 160, 170, 2), 3),
			},
			trial: 2, want: []string{"put b", "get a"}, verdict: Linearizable,
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
			got := TrialOps(tt.ops, tt.trial)
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
		inTrial(put("c1", "k", "a", 10, 20, 1), 1),
		inTrial(get("c2", "k", "a", 100, 110, 1), 2),
	}, 2)
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
