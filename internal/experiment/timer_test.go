package experiment

import (
	"context"
	"sort"
	"testing"
	"time"
)

// waitErrors waits n times for deadlines spread over 0–5 ms and returns the
// errors (wake − deadline), sorted.
func waitErrors(tb testing.TB, w Waiter, n int) []time.Duration {
	tb.Helper()
	errs := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		deadline := time.Now().Add(time.Duration(i%6) * time.Millisecond)
		woke, err := w.WaitUntil(context.Background(), deadline)
		if err != nil {
			tb.Fatal(err)
		}
		if woke.Before(deadline) {
			tb.Fatalf("woke %s before the deadline", deadline.Sub(woke))
		}
		errs = append(errs, woke.Sub(deadline))
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i] < errs[j] })
	return errs
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[int(q*float64(len(sorted)-1)+0.5)]
}

func TestPrecisionWaiterError(t *testing.T) {
	for _, rt := range []bool{false, true} {
		errs := waitErrors(t, PrecisionWaiter{Spin: DefaultSpin, Realtime: rt}, 300)
		p50, p99, max := quantile(errs, 0.5), quantile(errs, 0.99), errs[len(errs)-1]
		t.Logf("realtime %v (available: %v): timer error p50 %s p99 %s max %s", rt, RealtimeAvailable(), p50, p99, max)
		if p50 > 50*time.Microsecond {
			t.Fatalf("realtime %v: timer error p50 %s exceeds 50µs", rt, p50)
		}
	}
}

func TestWaitersHonourContext(t *testing.T) {
	for _, w := range []Waiter{PrecisionWaiter{Spin: DefaultSpin}, PrecisionWaiter{Spin: time.Hour}, PrecisionWaiter{Spin: time.Hour, Realtime: true}, SleepWaiter{}} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		began := time.Now()
		_, err := w.WaitUntil(ctx, time.Now().Add(time.Hour))
		cancel()
		if err == nil {
			t.Fatalf("%T: no error from a cancelled wait", w)
		}
		if took := time.Since(began); took > time.Second {
			t.Fatalf("%T: cancelled wait took %s", w, took)
		}
	}
}

func benchmarkWaiter(b *testing.B, w Waiter) {
	errs := waitErrors(b, w, b.N)
	b.ReportMetric(float64(quantile(errs, 0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(quantile(errs, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(errs[len(errs)-1].Microseconds()), "max-µs")
}

// BenchmarkKillDelayError measures the kill timer's error (wake − deadline)
// over deadlines of 0–5 ms, as the campaign runs it (SCHED_FIFO spin when
// permitted); compare with the other two.
func BenchmarkKillDelayError(b *testing.B) {
	b.Logf("SCHED_FIFO available: %v", RealtimeAvailable())
	benchmarkWaiter(b, PrecisionWaiter{Spin: DefaultSpin, Realtime: true})
}

// BenchmarkKillDelayErrorNoRealtime is the same spin at normal priority, yielding.
func BenchmarkKillDelayErrorNoRealtime(b *testing.B) {
	benchmarkWaiter(b, PrecisionWaiter{Spin: DefaultSpin})
}

// BenchmarkSleepDelayError is the same with a plain timer.
func BenchmarkSleepDelayError(b *testing.B) { benchmarkWaiter(b, SleepWaiter{}) }
