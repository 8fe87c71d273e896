package check

import (
	"os"
	"testing"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// BenchmarkCheck checks a 60 s, 8-client history of 30,000 operations over
// 64 keys (the aim: at most 10 s).
func BenchmarkCheck(b *testing.B) {
	ops := generate(42, 8, 64, 30_000, 60*time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if got := Check(ops, Options{}); got.Verdict != Linearizable {
			b.Fatalf("Verdict = %s: %+v", got.Verdict, got.Keys)
		}
	}
}

// BenchmarkCheckOneKey checks the same load on one hot key.
func BenchmarkCheckOneKey(b *testing.B) {
	ops := generate(42, 8, 1, 30_000, 60*time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if got := Check(ops, Options{}); got.Verdict != Linearizable {
			b.Fatalf("Verdict = %s: %+v", got.Verdict, got.Keys)
		}
	}
}

// BenchmarkCheckRealHistory checks one trial's history as the real store
// records it (the aim: at most 10 s for 60 s and 8 clients):
// generated with the shape of a history recorded on the real 3×3 store with
// three leader kills, at the workload's default rate (realShape500: ~27,000
// operations + ~2,700 final reads) and unlimited, at the rate the store
// sustained on 2 cores (realShapeUnlimited: ~130,000 + ~12,500), with the
// default bounds. With CHECK_BENCH_HISTORY naming a recorded history log
// (one run), "recorded" checks that file too.
func BenchmarkCheckRealHistory(b *testing.B) {
	b.Run("rate=500", func(b *testing.B) { benchCheck(b, shapedHistory(realShape500())) })
	b.Run("rate=unlimited", func(b *testing.B) { benchCheck(b, shapedHistory(realShapeUnlimited())) })
	b.Run("recorded", func(b *testing.B) {
		path := os.Getenv("CHECK_BENCH_HISTORY")
		if path == "" {
			b.Skip("set CHECK_BENCH_HISTORY to a recorded history log")
		}
		benchCheck(b, func() ([]history.Op, []history.Fault) { return readRecorded(b, path) })
	})
}

// shapedSeed gives the shapes' histories as many unknown operations as the
// recorded ones (8 and 7; the recordings had 8 and 11).
const shapedSeed = 6

func shapedHistory(s shape) func() ([]history.Op, []history.Fault) {
	return func() ([]history.Op, []history.Fault) { return generateShaped(shapedSeed, s) }
}

func benchCheck(b *testing.B, load func() ([]history.Op, []history.Fault)) {
	ops, faults := load()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if got := Check(ops, Options{Faults: faults}); got.Verdict != Linearizable {
			b.Fatalf("Verdict = %s: %+v", got.Verdict, got.Violations)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/history")
	b.ReportMetric(float64(len(ops)), "ops/history")
}

// readRecorded reads a history log of one run.
func readRecorded(b *testing.B, path string) ([]history.Op, []history.Fault) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	ops, faults, warnings, err := history.ReadAll(f, "")
	if err != nil || len(warnings) > 0 {
		b.Fatalf("reading %s: %v, %d warnings", path, err, len(warnings))
	}
	return ops, faults
}
