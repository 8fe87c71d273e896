package workload

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	atomixerrors "github.com/atomix/atomix/api/errors"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/experiment/faketarget"
	"github.com/atomix-failover/atomix-failover/internal/history"
	"github.com/atomix-failover/atomix-failover/internal/keyspace"
)

// sharedOnly hides the fake's Sessions: every client shares Target.Map.
type sharedOnly struct{ cluster.Target }

// run is one workload run on a fake target, ended by its final reads.
type run struct {
	w     *Workload
	tgt   *faketarget.Target
	ops   []history.Op
	stats Stats
}

func testConfig(runID string) Config {
	return Config{RunID: runID, Clients: 4, Rate: 2000, HotKeysPerPartition: 2, OpTimeout: time.Second}
}

// runFake runs cfg for d on a fake target; setup sees the target and the
// hot keys before the start, beforeFinal runs after Stop with the history so far.
func runFake(t *testing.T, cfg Config, d time.Duration, shared bool, setup func(*faketarget.Target, []string), beforeFinal func(*faketarget.Target, []history.Op)) run {
	t.Helper()
	tgt := faketarget.New(faketarget.DefaultConfig())
	t.Cleanup(func() { _ = tgt.Close() })
	var target cluster.Target = tgt
	if shared {
		target = sharedOnly{tgt}
	}
	if setup != nil {
		setup(tgt, HotKeys(cfg.RunID, tgt.Info().Partitions, cfg.HotKeysPerPartition))
	}
	path := filepath.Join(t.TempDir(), "history.jsonl")
	hist, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hist.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := Start(ctx, cfg, target, hist, NewClock(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	if beforeFinal != nil {
		if err := hist.Flush(); err != nil {
			t.Fatal(err)
		}
		beforeFinal(tgt, readHistory(t, path, cfg.RunID))
	}
	if err := w.FinalRead(ctx); err != nil {
		t.Fatal(err)
	}
	if err := hist.Close(); err != nil {
		t.Fatal(err)
	}
	if n := tgt.OpenClients(); n != 0 {
		t.Errorf("%d clients left open", n)
	}
	return run{w: w, tgt: tgt, ops: readHistory(t, path, cfg.RunID), stats: w.Stats()}
}

func readHistory(t testing.TB, path, runID string) []history.Op {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	ops, faults, warnings, err := history.ReadAll(f, runID)
	if err != nil || len(warnings) > 0 || len(faults) > 0 {
		t.Fatalf("reading the history: %v, warnings %v, faults %v", err, warnings, faults)
	}
	return ops
}

func TestRunIsLinearizable(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			r := runFake(t, testConfig("lin"), 300*time.Millisecond, shared, nil, nil)
			if r.stats.Sessions == shared || r.stats.Clients != 4 {
				t.Errorf("stats %+v with shared=%v", r.stats, shared)
			}
			if int64(len(r.ops)) != r.stats.Total() {
				t.Errorf("%d ops in the history, %d counted", len(r.ops), r.stats.Total())
			}
			assertShape(t, r.ops)
			res := check.Check(r.ops, check.Options{})
			if res.Verdict != check.Linearizable || len(res.StaleReads) > 0 || len(res.LostWrites) > 0 {
				t.Fatalf("verdict %s, violations %v, %d stale reads, %d lost writes",
					res.Verdict, res.Violations, len(res.StaleReads), len(res.LostWrites))
			}
		})
	}
}

// assertShape checks that a history has every kind of operation, answered
// compare-and-sets, write-once keys and a final read of each of them.
func assertShape(t *testing.T, ops []history.Op) {
	t.Helper()
	kinds := map[string]int{}
	okCAS, writeOnce, finals := 0, map[string]bool{}, map[string]bool{}
	for _, op := range ops {
		kinds[op.Op]++
		switch {
		case op.Client == history.FinalClient:
			finals[op.Key] = true
		case op.Op == history.OpCAS && op.Status == history.StatusOK:
			okCAS++
		case strings.Contains(op.Key, "/wo-"):
			writeOnce[op.Key] = true
		}
		if op.Client != history.FinalClient && op.Op != history.OpGet && !strings.HasPrefix(op.Value, op.Client+"-") {
			t.Fatalf("value %q written by client %s", op.Value, op.Client)
		}
	}
	if kinds[history.OpPut] == 0 || kinds[history.OpGet] == 0 || okCAS == 0 || len(writeOnce) == 0 {
		t.Fatalf("ops by kind %v, %d answered cas, %d write-once keys", kinds, okCAS, len(writeOnce))
	}
	for k := range writeOnce {
		if !finals[k] {
			t.Fatalf("write-once key %s has no final read", k)
		}
	}
}

func TestStaleReadIsAViolation(t *testing.T) {
	var stale string
	r := runFake(t, testConfig("stale"), 300*time.Millisecond, false, func(tgt *faketarget.Target, hot []string) {
		stale = hot[0]
		tgt.SetFault(stale, faketarget.StaleReads)
	}, nil)
	res := check.Check(r.ops, check.Options{})
	if res.Verdict != check.Violation || !slices.Equal(res.Violations, []string{stale}) {
		t.Fatalf("verdict %s on %v, want a violation on %s", res.Verdict, res.Violations, stale)
	}
	if len(res.StaleReads) == 0 {
		t.Fatal("no stale read found")
	}
	for _, sr := range res.StaleReads {
		if sr.Key != stale {
			t.Errorf("stale read of %s", sr.Key)
		}
	}
}

func TestForgottenWriteIsLost(t *testing.T) {
	var lost string
	r := runFake(t, testConfig("lost"), 200*time.Millisecond, false, nil, func(tgt *faketarget.Target, ops []history.Op) {
		for _, op := range ops {
			if strings.Contains(op.Key, "/wo-") && op.Status == history.StatusOK {
				lost = op.Key
				tgt.Forget(lost)
				return
			}
		}
		t.Fatal("no acknowledged write-once put")
	})
	res := check.Check(r.ops, check.Options{})
	if len(res.LostWrites) != 1 || res.LostWrites[0].Key != lost {
		t.Fatalf("lost writes %+v, want one of %s", res.LostWrites, lost)
	}
}

func TestRateLimit(t *testing.T) {
	tgt := faketarget.New(faketarget.DefaultConfig())
	defer func() { _ = tgt.Close() }()
	hist, err := history.Create(filepath.Join(t.TempDir(), "h.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hist.Close() }()
	cfg := Config{RunID: "rate", Clients: 4, Rate: 200, Burst: 4}
	began := time.Now()
	w, err := Start(context.Background(), cfg, tgt, hist, NewClock(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(250 * time.Millisecond)
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(began)
	ops, limit := w.Stats().Total(), int64(math.Ceil(cfg.Rate*elapsed.Seconds()))+int64(cfg.Burst)
	if ops == 0 || ops > limit {
		t.Fatalf("%d ops in %s at %v ops/s, burst %d: want 1..%d", ops, elapsed, cfg.Rate, cfg.Burst, limit)
	}
}

func TestStopIsIdempotent(t *testing.T) {
	before := goleak.IgnoreCurrent() // the real-store test's upstream session goroutines outlive it
	tgt := faketarget.New(faketarget.DefaultConfig())
	defer func() { _ = tgt.Close() }()
	hist, err := history.Create(filepath.Join(t.TempDir(), "h.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := Start(context.Background(), Config{RunID: "stop", Rate: 1000}, tgt, hist, NewClock(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if err1, err2 := w.Stop(), w.Stop(); err1 != nil || err2 != nil {
		t.Fatalf("Stop: %v, then %v", err1, err2)
	}
	n := w.Stats().Total()
	time.Sleep(20 * time.Millisecond)
	if w.Stats().Total() != n || tgt.OpenClients() != 0 {
		t.Fatalf("ops after Stop: %d then %d; %d clients open", n, w.Stats().Total(), tgt.OpenClients())
	}
	if err := hist.Close(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, before)
}

func TestRecordingFailureStops(t *testing.T) {
	tgt := faketarget.New(faketarget.DefaultConfig())
	defer func() { _ = tgt.Close() }()
	hist, err := history.Create(filepath.Join(t.TempDir(), "h.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := Start(context.Background(), Config{RunID: "closed", Rate: 1000}, tgt, hist, NewClock(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	_ = hist.Close()
	time.Sleep(20 * time.Millisecond)
	if err := w.Stop(); !errors.Is(err, history.ErrClosed) {
		t.Fatalf("Stop after the history closed: %v, want ErrClosed", err)
	}
	if err := w.FinalRead(context.Background()); !errors.Is(err, history.ErrClosed) {
		t.Fatalf("FinalRead after the history closed: %v, want ErrClosed", err)
	}
}

func TestSetTrial(t *testing.T) {
	var w *Workload
	tgt := faketarget.New(faketarget.DefaultConfig())
	defer func() { _ = tgt.Close() }()
	path := filepath.Join(t.TempDir(), "h.jsonl")
	hist, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err = Start(context.Background(), Config{RunID: "trial", Clients: 2, Rate: 1000}, tgt, hist, NewClock(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	w.SetTrial(1)
	time.Sleep(30 * time.Millisecond)
	_ = w.Stop()
	_ = hist.Close()
	last := map[string]int{}
	seen := map[int]bool{}
	for _, op := range readHistory(t, path, "trial") {
		if op.Trial < last[op.Client] {
			t.Fatalf("client %s went back from trial %d to %d", op.Client, last[op.Client], op.Trial)
		}
		last[op.Client], seen[op.Trial] = op.Trial, true
	}
	if !seen[0] || !seen[1] {
		t.Fatalf("trials seen %v, want 0 and 1", seen)
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, history.StatusOK},
		{atomixerrors.NewNotFound("absent"), history.StatusFail},
		{atomixerrors.NewConflict("version"), history.StatusFail},
		{atomixerrors.NewAlreadyExists("exists"), history.StatusFail},
		// rsm's answer to a retried proposal on an expired session: the first try may have been applied.
		{atomixerrors.NewForbidden("session not found"), history.StatusUnknown},
		{atomixerrors.NewInvalid("bad"), history.StatusUnknown},
		{atomixerrors.NewUnavailable("down"), history.StatusUnknown},
		{atomixerrors.NewTimeout("slow"), history.StatusUnknown},
		{atomixerrors.NewInternal("oops"), history.StatusUnknown},
		{fmt.Errorf("put: %w", context.DeadlineExceeded), history.StatusUnknown},
		{context.Canceled, history.StatusUnknown},
		{errors.New("connection reset"), history.StatusUnknown},
	}
	for _, tt := range tests {
		if got := Status(tt.err); got != tt.want {
			t.Errorf("Status(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no run ID", Config{}},
		{"negative clients", Config{RunID: "r", Clients: -1}},
		{"negative weight", Config{RunID: "r", Mix: Mix{Put: -1, Get: 2}}},
	}
	tgt := faketarget.New(faketarget.DefaultConfig())
	defer func() { _ = tgt.Close() }()
	for _, tt := range tests {
		if _, err := Start(context.Background(), tt.cfg, tgt, nil, NewClock(), zap.NewNop()); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tt.name, err)
		}
	}
}

func TestHotKeysRouteToTheirPartition(t *testing.T) {
	keys := HotKeys("run", 3, 2)
	if len(keys) != 6 {
		t.Fatalf("%d keys", len(keys))
	}
	for i, k := range keys {
		if p := keyspace.AtomixIndex(k, 3) + 1; p != i/2+1 {
			t.Errorf("key %s routes to partition %d, want %d", k, p, i/2+1)
		}
	}
}

func BenchmarkWorkload(b *testing.B) {
	cfg := faketarget.DefaultConfig()
	cfg.OpLatency = 0
	tgt := faketarget.New(cfg)
	defer func() { _ = tgt.Close() }()
	hist, err := history.Create(filepath.Join(b.TempDir(), "h.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = hist.Close() }()
	b.ResetTimer()
	began := time.Now()
	w, err := Start(context.Background(), Config{RunID: "bench", Clients: 8, Rate: math.Inf(1)}, tgt, hist, NewClock(), zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	for w.Stats().Total() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	if err := w.Stop(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(began)
	b.ReportMetric(float64(w.Stats().Total())/elapsed.Seconds(), "ops/s")
}
