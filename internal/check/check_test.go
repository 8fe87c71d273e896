package check

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name       string
		ops        []history.Op
		faults     []history.Fault
		want       Verdict
		violations []string
		stale      int
		lost       int
	}{
		{
			name: "clean concurrent history",
			ops:  concat(cleanKey("k1"), cleanKey("k2"), versionlessKey("k3")),
			want: Linearizable,
		},
		{
			name: "empty history",
			want: Linearizable,
		},
		{
			name: "stale read after an acknowledged newer put",
			ops: concat(cleanKey("k1"), []history.Op{
				put("c1", "k2", "old", 0, 10, 1),
				put("c1", "k2", "new", 20, 30, 2),
				get("c2", "k2", "old", 40, 50, 1),
			}),
			want: Violation, violations: []string{"k2"}, stale: 1,
		},
		{
			name: "stale read without versions",
			ops: []history.Op{
				put("c1", "k2", "old", 0, 10, 0),
				put("c1", "k2", "new", 20, 30, 0),
				get("c2", "k2", "old", 40, 50, 0),
			},
			want: Violation, violations: []string{"k2"}, stale: 1,
		},
		{
			name: "lost write: acknowledged write-once key absent at the final read",
			ops: concat(cleanKey("k1"), []history.Op{
				inTrial(put("c1", "k2", "v", 0, 10, 4), 1),
				get("final", "k2", "", 100, 110, 0),
			}),
			faults: []history.Fault{kill(1, 25)},
			want:   Violation, violations: []string{"k2"}, stale: 0, lost: 1,
		},
		{
			name: "unknown put that the final read shows applied",
			ops: []history.Op{
				put("c1", "k1", "a", 0, 10, 1),
				unknown(put("c2", "k1", "b", 20, 0, 0)),
				get("c3", "k1", "a", 30, 40, 1),
				get("final", "k1", "b", 100, 110, 5),
			},
			want: Linearizable,
		},
		{
			name: "unknown put that the final read shows not applied",
			ops: []history.Op{
				put("c1", "k1", "a", 0, 10, 1),
				unknown(put("c2", "k1", "b", 20, 0, 0)),
				get("final", "k1", "a", 100, 110, 1),
			},
			want: Linearizable,
		},
		{
			name: "failed cas not applied",
			ops: []history.Op{
				put("c1", "k1", "a", 0, 10, 1),
				failed(cas("c2", "k1", "b", 1, 20, 30, 0)),
				get("final", "k1", "a", 100, 110, 1),
			},
			want: Linearizable,
		},
		{
			name: "failed cas read as applied",
			ops: []history.Op{
				put("c1", "k1", "a", 0, 10, 1),
				failed(cas("c2", "k1", "b", 1, 20, 30, 0)),
				get("final", "k1", "b", 100, 110, 0),
			},
			want: Violation, violations: []string{"k1"}, lost: 1,
		},
		{
			name: "cas acknowledged against an old version",
			ops: []history.Op{
				put("c1", "k1", "a", 0, 10, 1),
				put("c1", "k1", "b", 20, 30, 2),
				cas("c2", "k1", "c", 1, 40, 50, 3),
			},
			want: Violation, violations: []string{"k1"},
		},
		{
			name: "unknown cas read as applied",
			ops: []history.Op{
				put("c1", "k1", "a", 0, 10, 1),
				unknown(cas("c2", "k1", "b", 1, 20, 0, 0)),
				get("final", "k1", "b", 100, 110, 6),
			},
			want: Linearizable,
		},
		{
			name: "read names the right value with another version",
			ops: []history.Op{
				put("c1", "k1", "a", 0, 10, 1),
				get("c2", "k1", "a", 20, 30, 9),
			},
			want: Violation, violations: []string{"k1"},
		},
		{
			name: "put acknowledged with a version lower than a read one",
			ops: []history.Op{
				put("c1", "k1", "a", 0, 10, 5),
				get("c2", "k1", "a", 20, 30, 5),
				put("c1", "k1", "b", 40, 50, 4),
			},
			want: Violation, violations: []string{"k1"},
		},
		{
			name: "read of a value never written",
			ops: concat(cleanKey("k2"), []history.Op{
				get("c1", "k1", "ghost", 0, 10, 0),
			}),
			want: Violation, violations: []string{"k1"},
		},
		{
			name: "failed and unanswered gets carry no information",
			ops: []history.Op{
				put("c1", "k1", "a", 0, 10, 1),
				failed(get("c2", "k1", "zzz", 20, 30, 0)),
				unknown(get("c2", "k1", "zzz", 40, 0, 0)),
			},
			want: Linearizable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.ops, Options{Faults: tt.faults})
			if got.Verdict != tt.want {
				t.Errorf("Verdict = %s, want %s (keys %+v)", got.Verdict, tt.want, got.Keys)
			}
			if !reflect.DeepEqual(got.Violations, tt.violations) {
				t.Errorf("Violations = %v, want %v", got.Violations, tt.violations)
			}
			if len(got.StaleReads) != tt.stale {
				t.Errorf("%d stale reads, want %d: %+v", len(got.StaleReads), tt.stale, got.StaleReads)
			}
			if len(got.LostWrites) != tt.lost {
				t.Errorf("%d lost writes, want %d: %+v", len(got.LostWrites), tt.lost, got.LostWrites)
			}
		})
	}
}

// pathological is one key's non-linearizable history whose search is
// exponential: n concurrent puts and a concurrent read of a value none of
// them wrote.
func pathological(key string, n int) []history.Op {
	ops := []history.Op{get("c0", key, "ghost", 0, 1000, 0)}
	for i := range n {
		ops = append(ops, put(fmt.Sprintf("c%d", i+1), key, fmt.Sprintf("%s-%d", key, i), 0, 1000, 0))
	}
	return ops
}

func TestCheckUnknown(t *testing.T) {
	tests := []struct {
		name   string
		ops    []history.Op
		opts   Options
		want   Verdict
		reason Reason
	}{
		{
			name: "timeout on a pathological history",
			ops:  pathological("k2", 40),
			opts: Options{Timeout: time.Millisecond, MemoryLimit: 1 << 40},
			want: Unknown, reason: ReasonTimeout,
		},
		{
			name: "memory cap on a pathological history",
			ops:  concat(cleanKey("k1"), pathological("k2", 40)),
			opts: Options{Timeout: time.Minute, MemoryLimit: 1 << 20},
			want: Unknown, reason: ReasonMemoryCap,
		},
		{
			name: "ops cap",
			ops:  concat(cleanKey("k1"), cleanKey("k2")[:3]),
			opts: Options{MaxOpsPerKey: 3},
			want: Unknown, reason: ReasonOpsCap,
		},
		{
			name: "ops cap on a key that is not linearizable",
			ops: concat(cleanKey("k2")[:3], []history.Op{
				put("c1", "k1", "a", 0, 10, 0),
				put("c1", "k1", "b", 20, 30, 0),
				get("c2", "k1", "a", 40, 50, 0),
				get("c2", "k1", "a", 60, 70, 0),
			}),
			opts: Options{MaxOpsPerKey: 3},
			want: Unknown, reason: ReasonOpsCap,
		},
		{
			name: "unsupported operation",
			ops: concat(cleanKey("k2"), []history.Op{
				{Type: history.TypeOp, Client: "c1", Op: "delete", Key: "k1", CompleteNS: at(10), Status: history.StatusOK},
			}),
			want: Unknown, reason: ReasonUnsupported,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.ops, tt.opts)
			if got.Verdict != tt.want {
				t.Fatalf("Verdict = %s, want %s (keys %+v)", got.Verdict, tt.want, got.Keys)
			}
			reasons := map[Reason]int{}
			for _, k := range got.Keys {
				if k.Verdict == Linearizable {
					continue
				}
				reasons[k.Reason]++
			}
			if !reflect.DeepEqual(reasons, map[Reason]int{tt.reason: 1}) {
				t.Errorf("reasons of the keys not linearizable = %v, want one %q: %+v", reasons, tt.reason, got.Keys)
			}
		})
	}
}

func TestCheckViolationOutranksUnknown(t *testing.T) {
	ops := concat(pathological("k1", 5), versionlessKey("k2"), []history.Op{
		put("c1", "k3", "a", 0, 10, 0),
		put("c1", "k3", "b", 20, 30, 0),
		get("c2", "k3", "a", 40, 50, 0),
	})
	got := Check(ops, Options{MaxOpsPerKey: 5})
	want := []KeyResult{
		{Key: "k1", Verdict: Unknown, Reason: ReasonOpsCap, Ops: 6},
		{Key: "k2", Verdict: Linearizable, Ops: 5},
		{Key: "k3", Verdict: Violation, Ops: 3},
	}
	if got.Verdict != Violation || !reflect.DeepEqual(got.Keys, want) {
		t.Errorf("Check = %s %+v, want violation %+v", got.Verdict, got.Keys, want)
	}
}

func TestCheckParallelAgrees(t *testing.T) {
	ops := generate(1, 8, 16, 2000, 5*time.Second)
	one := Check(ops, Options{Parallel: 1})
	many := Check(ops, Options{Parallel: 8})
	if one.Verdict != Linearizable || !reflect.DeepEqual(one, many) {
		t.Errorf("Parallel 1: %s %+v; Parallel 8: %s %+v", one.Verdict, one.Keys, many.Verdict, many.Keys)
	}
	if len(one.StaleReads) != 0 || len(one.LostWrites) != 0 {
		t.Errorf("generated history: %d stale reads, %d lost writes, want none", len(one.StaleReads), len(one.LostWrites))
	}
}

func TestCheckFindsAnInjectedStaleRead(t *testing.T) {
	ops := generate(2, 8, 16, 4000, 10*time.Second)
	var first history.Op
	for _, op := range ops {
		if op.Key == "key-03" && op.Op == history.OpPut && op.Status == history.StatusOK {
			first = op
			break
		}
	}
	ops = append(ops, get("c9", "key-03", first.Value, int64(10500*time.Millisecond), int64(10501*time.Millisecond), *first.Version))
	got := Check(ops, Options{})
	if got.Verdict != Violation || !reflect.DeepEqual(got.Violations, []string{"key-03"}) {
		t.Errorf("Check = %s %v, want violation [key-03]", got.Verdict, got.Violations)
	}
	if len(got.StaleReads) != 1 || got.StaleReads[0].Read.Client != "c9" {
		t.Errorf("StaleReads = %+v, want the read of c9", got.StaleReads)
	}
}
