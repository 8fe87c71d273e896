package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

const benchRunID = "20261210T100000Z-local-s11"

// benchStore is a register per key with one version counter (as Raft
// indexes), applying operations in order of effect.
type benchStore struct {
	version uint64
	values  map[string]string
	vers    map[string]uint64
}

// benchOp is a generated operation and the instant it takes effect.
type benchOp struct {
	op      history.Op
	effect  int64
	applied bool
	// hit makes a cas expect the key's version at its effect.
	hit bool
}

// benchGap is the time between two invocations of one client (2 000
// operations per second in all, as the store sustained unlimited).
const benchGap = 4_000_000

// genBenchHistory writes to path a linearizable history shaped like a
// recorded one: 8 clients over 6 hot keys (put 30%, get 40%, cas 20%,
// about half refused) and write-once keys (10%), n operations in all in
// trials trials of equal length, a kill at each trial's middle, about 1 in
// 20 000 writes unanswered, and a final read of every key.
func genBenchHistory(path string, n, trials int) error {
	rng := rand.New(rand.NewPCG(uint64(n), 5))
	span := int64(n/8) * benchGap
	trialNS := span / int64(trials)
	var plan []benchOp
	for c := range 8 {
		plan = append(plan, benchClient(rng, c, n/8, trialNS, trials)...)
	}
	slices.SortStableFunc(plan, func(a, b benchOp) int { return cmp.Compare(a.effect, b.effect) })
	s := &benchStore{values: map[string]string{}, vers: map[string]uint64{}}
	var recs []any
	for _, p := range plan {
		recs = append(recs, s.apply(p))
	}
	recs = append(recs, s.finals(span+1e9, trials)...)
	for t := range trials {
		recs = append(recs, history.Fault{Type: history.TypeFault, RunID: benchRunID, Trial: t + 1, Fault: history.FaultKill,
			Target: "raft-node-2", Partition: 1, StartNS: int64(t)*trialNS + trialNS/2})
	}
	return writeRecords(path, recs)
}

// benchClient plans one client's operations.
func benchClient(rng *rand.Rand, c, count int, trialNS int64, trials int) []benchOp {
	client := fmt.Sprintf("c%d", c+1)
	plan := make([]benchOp, 0, count)
	for i := range count {
		invoke := int64(i)*benchGap + rng.Int64N(benchGap/4)
		latency := 200_000 + rng.Int64N(3_000_000)
		op := history.Op{Type: history.TypeOp, RunID: benchRunID, Trial: min(int(invoke/trialNS)+1, trials), Client: client,
			Key: fmt.Sprintf("%s/hot-p%d-%d-0", benchRunID, 1+rng.IntN(3), rng.IntN(2)), InvokeNS: invoke,
			CompleteNS: ptr(invoke + latency), Status: history.StatusOK}
		switch k := rng.IntN(10); {
		case k < 3:
			op.Op = history.OpPut
		case k < 7:
			op.Op = history.OpGet
		case k < 9:
			op.Op, op.ExpectVersion = history.OpCAS, ptr(uint64(rng.IntN(i+1)))
		default:
			op.Op, op.Key = history.OpPut, fmt.Sprintf("%s/wo-%s-1a2b3c4d-%d", benchRunID, client, i)
		}
		if op.Op != history.OpGet {
			op.Value = fmt.Sprintf("%s-1a2b3c4d-%d", client, i)
		}
		p := benchOp{op: op, effect: invoke + rng.Int64N(latency), applied: true, hit: rng.IntN(2) == 0}
		if op.Op != history.OpGet && rng.IntN(20_000) == 0 {
			p.op.Status, p.op.CompleteNS, p.applied = history.StatusUnknown, nil, rng.IntN(2) == 0
		}
		plan = append(plan, p)
	}
	return plan
}

// apply takes p's effect and returns its record.
func (s *benchStore) apply(p benchOp) history.Op {
	op := p.op
	cur, ok := s.values[op.Key]
	if op.Op == history.OpCAS && p.hit && ok {
		op.ExpectVersion = ptr(s.vers[op.Key])
	}
	switch {
	case op.Op == history.OpGet && ok:
		op.Read, op.Version = ptr(cur), ptr(s.vers[op.Key])
	case op.Op == history.OpCAS && (!ok || *op.ExpectVersion != s.vers[op.Key]):
		if op.Status == history.StatusOK {
			op.Status = history.StatusFail
		}
	case op.Op != history.OpGet && p.applied:
		s.version++
		s.values[op.Key], s.vers[op.Key] = op.Value, s.version
		if op.Status == history.StatusOK {
			op.Version = ptr(s.version)
		}
	}
	return op
}

// finals read every key at at, in the last trial.
func (s *benchStore) finals(at int64, trial int) []any {
	keys := make([]string, 0, len(s.values))
	for k := range s.values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = history.Op{Type: history.TypeOp, RunID: benchRunID, Trial: trial, Client: history.FinalClient, Op: history.OpGet,
			Key: k, Read: ptr(s.values[k]), Version: ptr(s.vers[k]), InvokeNS: at + int64(i), CompleteNS: ptr(at + int64(i) + 1),
			Status: history.StatusOK}
	}
	return out
}

func writeRecords(path string, recs []any) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating the history: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("writing the history: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing the history: %w", err)
	}
	return f.Close()
}

// heapSampler records the largest heap (live and not yet swept objects)
// seen every millisecond.
type heapSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
	// live is the largest heap marked live by a collection.
	live uint64
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{stop: make(chan struct{})}
	s.wg.Go(func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for done := false; !done; {
			select {
			case <-s.stop:
				done = true
			case <-tick.C:
			}
			metrics.Read(sample)
			s.peak, s.live = max(s.peak, sample[0].Value.Uint64()), max(s.live, sample[1].Value.Uint64())
		}
	})
	return s
}

// finish stops the sampler.
func (s *heapSampler) finish() {
	close(s.stop)
	s.wg.Wait()
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkRecheckMemory measures the bytes per operation the analyzer
// holds (held-B/op: the compact history) and at its peak during the
// re-check (the compact history, its records, check.CheckTrials' copies
// and windows): peak-B/op, the largest heap sampled every millisecond,
// with the garbage collector at GOGC=10 (so within about 10% of the live
// heap), and live-B/op, the largest heap a collection found live.
// RECHECK_BENCH_OPS sets the history's size (default 1 000 000),
// RECHECK_BENCH_TRIALS its trials (10).
func BenchmarkRecheckMemory(b *testing.B) {
	n, trials := envInt("RECHECK_BENCH_OPS", 1_000_000), envInt("RECHECK_BENCH_TRIALS", 10)
	path := filepath.Join(b.TempDir(), "history.ndjson")
	if err := genBenchHistory(path, n, trials); err != nil {
		b.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	for b.Loop() {
		m := recheckMemory(b, path, trials)
		b.ReportMetric(float64(m.held)/float64(m.ops), "held-B/op")
		b.ReportMetric(float64(m.peak)/float64(m.ops), "peak-B/op")
		b.ReportMetric(float64(m.live)/float64(m.ops), "live-B/op")
		b.ReportMetric(float64(m.ops), "ops")
		b.Logf("verdicts %v", m.verdicts)
	}
}

// recheckMeasure is what recheckMemory measured.
type recheckMeasure struct {
	held, peak, live uint64
	ops              int
	verdicts         map[string]int
}

// recheckMemory loads the history at path and re-checks its trials.
func recheckMemory(b testing.TB, path string, trials int) recheckMeasure {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	base := liveHeap()
	s := startHeapSampler()
	h, err := loadHistory(bufio.NewReaderSize(f, 1<<20), benchRunID, math.MaxInt32)
	if err != nil {
		b.Fatal(err)
	}
	m := recheckMeasure{held: liveHeap() - base, ops: len(h.ops), verdicts: map[string]int{}}
	rechecked := (&rechecker{runID: benchRunID, faults: h.faults, timeout: DefaultCheckTimeout}).judge(h, trialList(trials))
	for n := 1; n <= trials; n++ {
		rr := rechecked[n]
		if rr.verdict == "violation" {
			b.Fatalf("trial %d: %v", n, rr.violations)
		}
		m.verdicts[rr.verdict]++
	}
	s.finish()
	runtime.KeepAlive(h)
	m.peak, m.live = s.peak-base, s.live-base
	return m
}

func trialList(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// The benchmark's history is linearizable and its measure sensible.
func TestRecheckMemoryHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.ndjson")
	if err := genBenchHistory(path, 8_000, 3); err != nil {
		t.Fatal(err)
	}
	m := recheckMemory(t, path, 3)
	if m.verdicts["linearizable"] != 3 || m.ops < 8_000 || m.held == 0 || m.peak < m.held {
		t.Errorf("%+v", m)
	}
}
