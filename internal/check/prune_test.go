package check

import (
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

func TestPruneUnseen(t *testing.T) {
	tests := []struct {
		name string
		ops  []history.Op
		kept int
		want Verdict
	}{
		{"an unseen pending write goes", []history.Op{
			put("c1", "k", "a", 0, 10, 1), unknown(put("c2", "k", "x", 20, 0, 0)), get("c3", "k", "a", 30, 40, 1),
		}, 2, Linearizable},
		{"a pending write that was read stays", []history.Op{
			put("c1", "k", "a", 0, 10, 1), unknown(put("c2", "k", "x", 20, 0, 0)), get("c3", "k", "x", 30, 40, 2),
		}, 3, Linearizable},
		{"a stale read is still a violation", []history.Op{
			put("c1", "k", "a", 0, 10, 1), unknown(put("c2", "k", "x", 5, 0, 0)), put("c1", "k", "b", 20, 30, 3),
			get("c3", "k", "a", 40, 50, 1),
		}, 3, Violation},
		{"an existence-only cas keeps them", []history.Op{
			unknown(put("c2", "k", "x", 0, 0, 0)), cas("c1", "k", "b", 0, 20, 30, 5),
		}, 2, Linearizable},
		{"a cas on a version no answer carried keeps them", []history.Op{
			put("c1", "k", "a", 0, 10, 1), unknown(put("c2", "k", "x", 20, 0, 0)), cas("c3", "k", "b", 7, 30, 40, 9),
		}, 3, Linearizable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pruneUnseen(tt.ops); len(got) != tt.kept {
				t.Errorf("kept %d operations, want %d", len(got), tt.kept)
			}
			if v := Check(tt.ops, Options{}).Verdict; v != tt.want {
				t.Errorf("verdict %s, want %s", v, tt.want)
			}
		})
	}
}

// TestPruneSpeedsUpAViolation: a stale read among many pending writes is
// proved a violation at once; without pruning porcupine tries each
// pending write at every point first.
func TestPruneManyPendingWrites(t *testing.T) {
	var ops []history.Op
	for i := 0; i < 40; i++ {
		ops = append(ops, unknown(put("p", "k", "x"+string(rune('A'+i)), int64(i), 0, 0)))
	}
	ops = append(ops, put("c1", "k", "a", 100, 110, 100), put("c1", "k", "b", 120, 130, 101), get("c2", "k", "a", 140, 150, 100))
	res := Check(ops, Options{MemoryLimit: 64 << 20})
	if res.Verdict != Violation {
		t.Fatalf("verdict %s (%+v), want violation", res.Verdict, res.Keys)
	}
}
