package check

import (
	"testing"
	"time"
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
