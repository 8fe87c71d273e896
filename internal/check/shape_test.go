package check

import (
	"os"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// TestShapedHistory checks that generateShaped builds what the real store
// recorded: a linearizable history of about the real size, with refused
// compare-and-sets, unknown operations around the kills, and a final read of
// every key. With CHECK_DUMP_SHAPED set it writes the history there, to
// compare it with a recorded one.
func TestShapedHistory(t *testing.T) {
	ops, faults := generateShaped(shapedSeed, realShape500())
	n, final, unknown, failed, cas := 0, 0, 0, 0, 0
	for _, op := range ops {
		switch {
		case op.Client == history.FinalClient:
			final++
			continue
		case op.Status == history.StatusUnknown:
			unknown++
		case op.Status == history.StatusFail:
			failed++
		}
		if op.Op == history.OpCAS {
			cas++
		}
		n++
	}
	t.Logf("%d ops, %d final reads, %d unknown, %d of %d cas refused", n, final, unknown, failed, cas)
	if n < 25_000 || n > 32_000 || final < 2_000 || unknown == 0 || unknown > 50 || failed < cas/2 {
		t.Errorf("shape: %d ops, %d final reads, %d unknown, %d of %d cas refused", n, final, unknown, failed, cas)
	}
	if path := os.Getenv("CHECK_DUMP_SHAPED"); path != "" {
		w, err := history.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range faults {
			if err := w.Append(f); err != nil {
				t.Fatal(err)
			}
		}
		for _, op := range ops {
			if err := w.Append(op); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	res := Check(ops, Options{Faults: faults})
	if res.Verdict != Linearizable || len(res.StaleReads) > 0 || len(res.LostWrites) > 0 {
		t.Fatalf("verdict %s on %v, %d stale reads, %d lost writes", res.Verdict, res.Violations, len(res.StaleReads), len(res.LostWrites))
	}
}
