package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func i64(v int64) *int64          { return &v }
func u64(v uint64) *uint64        { return &v }
func str(s string) *string        { return &s }
func logPath(t testing.TB) string { return filepath.Join(t.TempDir(), "run", "history.jsonl") }

// testConfig is the default configuration with the given batch size and
// interval, counting fsyncs in syncs when it is not nil.
func testConfig(batch int, interval time.Duration, syncs *atomic.Int64) config {
	cfg := defaultConfig()
	cfg.batchSize, cfg.interval = batch, interval
	if syncs != nil {
		cfg.sync = func(f *os.File) error {
			syncs.Add(1)
			return f.Sync()
		}
	}
	return cfg
}

func mustCreate(t testing.TB, path string, cfg config) *Writer {
	t.Helper()
	w, err := create(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func mustAppend(t testing.TB, w *Writer, recs ...Entry) {
	t.Helper()
	for _, rec := range recs {
		if err := w.Append(rec); err != nil {
			t.Fatal(err)
		}
	}
}

// readLog reads path with ReadAll and fails on any warning.
func readLog(t testing.TB, path string) ([]Op, []Fault) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	ops, faults, warnings, err := ReadAll(f, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Fatalf("%d warnings, first: %v", len(warnings), warnings[0])
	}
	return ops, faults
}

func fileLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end in a newline", path)
	}
	return strings.Split(string(b[:len(b)-1]), "\n")
}

// seqOp is operation i of client c.
func seqOp(c string, i int) Op {
	return Op{
		RunID: "r1", Trial: 1 + i/100, Client: c, Op: OpPut, Key: fmt.Sprintf("k%d", i%7),
		Value: fmt.Sprintf("%s/%d", c, i), Version: u64(uint64(i) + 1),
		InvokeNS: int64(i) * 1000, CompleteNS: i64(int64(i)*1000 + 500), Status: StatusOK,
	}
}

func TestAppendRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rec  Entry
		line string
	}{
		{
			name: "put ok",
			rec:  Op{RunID: "r1", Trial: 1, Client: "c1", Op: OpPut, Key: "k", Value: "v1", Version: u64(3), InvokeNS: 10, CompleteNS: i64(20), Status: StatusOK},
			line: `{"type":"op","run_id":"r1","trial":1,"client":"c1","op":"put","key":"k","value":"v1","read":null,"version":3,"invoke_ns":10,"complete_ns":20,"status":"ok"}`,
		},
		{
			name: "put unknown without completion",
			rec:  &Op{RunID: "r1", Trial: 2, Client: "c2", Op: OpPut, Key: "k", Value: "v2", InvokeNS: 30, Status: StatusUnknown, Error: "context deadline exceeded"},
			line: `{"type":"op","run_id":"r1","trial":2,"client":"c2","op":"put","key":"k","value":"v2","read":null,"invoke_ns":30,"complete_ns":null,"status":"unknown","error":"context deadline exceeded"}`,
		},
		{
			name: "get ok with a value",
			rec:  Op{RunID: "r1", Client: "c1", Op: OpGet, Key: "k", Read: str("v1"), Version: u64(3), InvokeNS: 40, CompleteNS: i64(45), Status: StatusOK},
			line: `{"type":"op","run_id":"r1","trial":0,"client":"c1","op":"get","key":"k","read":"v1","version":3,"invoke_ns":40,"complete_ns":45,"status":"ok"}`,
		},
		{
			name: "get ok of an absent key",
			rec:  Op{RunID: "r1", Client: "c1", Op: OpGet, Key: "k2", InvokeNS: 50, CompleteNS: i64(50), Status: StatusOK},
			line: `{"type":"op","run_id":"r1","trial":0,"client":"c1","op":"get","key":"k2","read":null,"invoke_ns":50,"complete_ns":50,"status":"ok"}`,
		},
		{
			name: "get of an empty value",
			rec:  Op{RunID: "r1", Client: "c1", Op: OpGet, Key: "k3", Read: str(""), InvokeNS: 51, CompleteNS: i64(52), Status: StatusOK},
			line: `{"type":"op","run_id":"r1","trial":0,"client":"c1","op":"get","key":"k3","read":"","invoke_ns":51,"complete_ns":52,"status":"ok"}`,
		},
		{
			name: "get fail",
			rec:  Op{RunID: "r1", Client: "c3", Op: OpGet, Key: "k", InvokeNS: 60, CompleteNS: i64(70), Status: StatusFail, Error: "unavailable"},
			line: `{"type":"op","run_id":"r1","trial":0,"client":"c3","op":"get","key":"k","read":null,"invoke_ns":60,"complete_ns":70,"status":"fail","error":"unavailable"}`,
		},
		{
			name: "cas ok",
			rec:  Op{RunID: "r1", Client: "c1", Op: OpCAS, Key: "k", Value: "v3", ExpectVersion: u64(3), Version: u64(4), InvokeNS: 80, CompleteNS: i64(90), Status: StatusOK},
			line: `{"type":"op","run_id":"r1","trial":0,"client":"c1","op":"cas","key":"k","value":"v3","expect_version":3,"read":null,"version":4,"invoke_ns":80,"complete_ns":90,"status":"ok"}`,
		},
		{
			name: "cas fail expecting version 0",
			rec:  Op{RunID: "r1", Client: "c1", Op: OpCAS, Key: "k", Value: "v4", ExpectVersion: u64(0), InvokeNS: 95, CompleteNS: i64(99), Status: StatusFail, Error: "conflict"},
			line: `{"type":"op","run_id":"r1","trial":0,"client":"c1","op":"cas","key":"k","value":"v4","expect_version":0,"read":null,"invoke_ns":95,"complete_ns":99,"status":"fail","error":"conflict"}`,
		},
		{
			name: "final read",
			rec:  Op{Type: TypeOp, RunID: "r1", Client: FinalClient, Op: OpGet, Key: "k", Read: str("v3"), InvokeNS: 1000, CompleteNS: i64(1001), Status: StatusOK},
			line: `{"type":"op","run_id":"r1","trial":0,"client":"final","op":"get","key":"k","read":"v3","invoke_ns":1000,"complete_ns":1001,"status":"ok"}`,
		},
		{
			name: "kill",
			rec:  Fault{RunID: "r1", Trial: 1, Fault: FaultKill, Target: "node-2", Partition: 2, StartNS: 25, EndNS: i64(26)},
			line: `{"type":"fault","run_id":"r1","trial":1,"fault":"kill","target":"node-2","partition":2,"start_ns":25,"end_ns":26}`,
		},
		{
			name: "pause still in effect",
			rec:  &Fault{RunID: "r1", Trial: 1, Fault: FaultPause, Target: "node-1", StartNS: 100},
			line: `{"type":"fault","run_id":"r1","trial":1,"fault":"pause","target":"node-1","start_ns":100}`,
		},
		{
			name: "partition",
			rec:  Fault{Type: TypeFault, RunID: "r1", Trial: 2, Fault: FaultPartition, Target: "node-3", Partition: 1, StartNS: 200, EndNS: i64(300)},
			line: `{"type":"fault","run_id":"r1","trial":2,"fault":"partition","target":"node-3","partition":1,"start_ns":200,"end_ns":300}`,
		},
		{
			name: "restart",
			rec:  Fault{RunID: "r1", Trial: 2, Fault: FaultRestart, Target: "atomix-raft-0", StartNS: 310, EndNS: i64(900)},
			line: `{"type":"fault","run_id":"r1","trial":2,"fault":"restart","target":"atomix-raft-0","start_ns":310,"end_ns":900}`,
		},
		{
			name: "heal",
			rec:  Fault{RunID: "r1", Trial: 2, Fault: FaultHeal, Target: "node-3", StartNS: 950, EndNS: i64(950)},
			line: `{"type":"fault","run_id":"r1","trial":2,"fault":"heal","target":"node-3","start_ns":950,"end_ns":950}`,
		},
	}
	path := logPath(t)
	w := mustCreate(t, path, defaultConfig())
	for _, tt := range tests {
		mustAppend(t, w, tt.rec)
		if op, ok := tt.rec.(*Op); ok && op.Type != "" {
			t.Fatalf("Append changed the caller's %s record", tt.name)
		}
		if f, ok := tt.rec.(*Fault); ok && f.Type != "" {
			t.Fatalf("Append changed the caller's %s record", tt.name)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := fileLines(t, path)
	if len(lines) != len(tests) {
		t.Fatalf("%d lines, want %d", len(lines), len(tests))
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	r := NewReader(f)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if lines[i] != tt.line {
				t.Errorf("line\n%s\nwant\n%s", lines[i], tt.line)
			}
			rec, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if rec.Line != i+1 {
				t.Errorf("record at line %d, want %d", rec.Line, i+1)
			}
			var got, want any
			switch v := tt.rec.(type) {
			case Op:
				v.Type = TypeOp
				want, got = v, deref(rec.Op)
			case *Op:
				c := *v
				c.Type = TypeOp
				want, got = c, deref(rec.Op)
			case Fault:
				v.Type = TypeFault
				want, got = v, deref(rec.Fault)
			case *Fault:
				c := *v
				c.Type = TypeFault
				want, got = c, deref(rec.Fault)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read back %+v\nwant %+v", got, want)
			}
		})
	}
	if w := r.Warnings(); len(w) != 0 {
		t.Errorf("warnings %v", w)
	}
}

// deref returns *p, or nil when p is nil.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestAppendRejects(t *testing.T) {
	ok := Op{RunID: "r1", Client: "c", Op: OpGet, Key: "k", InvokeNS: 1, CompleteNS: i64(2), Status: StatusOK}
	with := func(f func(*Op)) Op {
		o := ok
		f(&o)
		return o
	}
	tests := []struct {
		name string
		rec  Entry
		want string
	}{
		{name: "nil", rec: nil, want: "nil record"},
		{name: "nil op", rec: (*Op)(nil), want: "nil *Op"},
		{name: "nil fault", rec: (*Fault)(nil), want: "nil *Fault"},
		{name: "wrong type", rec: with(func(o *Op) { o.Type = TypeFault }), want: `op record of type "fault"`},
		{name: "no run", rec: with(func(o *Op) { o.RunID = "" }), want: `without "run_id"`},
		{name: "no client", rec: with(func(o *Op) { o.Client = "" }), want: `without "client"`},
		{name: "no key", rec: with(func(o *Op) { o.Key = "" }), want: `without "key"`},
		{name: "unknown op", rec: with(func(o *Op) { o.Op = "delete" }), want: `unknown op "delete"`},
		{name: "unknown status", rec: with(func(o *Op) { o.Status = "info" }), want: `unknown status "info"`},
		{name: "ok without completion", rec: with(func(o *Op) { o.CompleteNS = nil }), want: `status ok without "complete_ns"`},
		{name: "fail without completion", rec: with(func(o *Op) { o.Status, o.CompleteNS = StatusFail, nil }), want: `status fail without "complete_ns"`},
		{name: "completed before invoked", rec: with(func(o *Op) { o.CompleteNS = i64(0) }), want: "complete_ns 0 before invoke_ns 1"},
		{name: "invoked before the run", rec: with(func(o *Op) { o.InvokeNS = -1 }), want: "invoke_ns -1 before"},
		{name: "value over the line limit", rec: with(func(o *Op) { o.Read = str(strings.Repeat("x", DefaultMaxLine)) }), want: "over the 16777216 a Reader accepts"},
		{name: "fault without run", rec: Fault{Fault: FaultKill}, want: `fault record without "run_id"`},
		{name: "unknown fault", rec: &Fault{RunID: "r1", Fault: "flood"}, want: `unknown fault "flood"`},
		{name: "fault of the wrong type", rec: Fault{Type: TypeOp, RunID: "r1", Fault: FaultKill}, want: `fault record of type "op"`},
		{name: "fault ending before it starts", rec: Fault{RunID: "r1", Fault: FaultPause, StartNS: 5, EndNS: i64(4)}, want: "end_ns 4 before start_ns 5"},
	}
	path := logPath(t)
	w := mustCreate(t, path, defaultConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := w.Append(tt.rec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Append = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	mustAppend(t, w, ok)
	if err := w.Close(); err != nil {
		t.Fatalf("Close after rejected records: %v", err)
	}
	if ops, _ := readLog(t, path); len(ops) != 1 {
		t.Fatalf("%d ops in the log, want only the valid one", len(ops))
	}
}

func TestAppendConcurrent(t *testing.T) {
	const goroutines, perClient = 16, 1500
	tests := []struct {
		name string
		cfg  config
	}{
		{name: "default", cfg: defaultConfig()},
		{name: "a batch per record", cfg: testConfig(1, time.Hour, nil)},
		{name: "short interval", cfg: testConfig(1<<30, time.Millisecond, nil)},
		{name: "appends flush when the buffer is full", cfg: func() config {
			c := testConfig(1<<30, time.Hour, nil)
			c.maxBuffered = 4 << 10
			return c
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := logPath(t)
			w := mustCreate(t, path, tt.cfg)
			errs := make([]error, goroutines)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					c := fmt.Sprintf("c%d", g)
					for i := range perClient {
						if err := w.Append(seqOp(c, i)); err != nil {
							errs[g] = err
							return
						}
					}
				})
			}
			wg.Wait()
			if err := errors.Join(append(errs, w.Close())...); err != nil {
				t.Fatal(err)
			}
			ops, _ := readLog(t, path)
			if len(ops) != goroutines*perClient || len(fileLines(t, path)) != len(ops) {
				t.Fatalf("%d ops, want %d", len(ops), goroutines*perClient)
			}
			next := map[string]int{}
			for _, op := range ops {
				want := seqOp(op.Client, next[op.Client])
				want.Type = TypeOp
				if !reflect.DeepEqual(op, want) {
					t.Fatalf("client %s: got %+v, want record %d %+v", op.Client, op, next[op.Client], want)
				}
				next[op.Client]++
			}
			for g := range goroutines {
				if n := next[fmt.Sprintf("c%d", g)]; n != perClient {
					t.Errorf("client c%d: %d records, want %d", g, n, perClient)
				}
			}
		})
	}
}

// waitLines polls path until it has at least n lines or the deadline passes.
func waitLines(t *testing.T, path string, n int, deadline time.Duration) int {
	t.Helper()
	stop := time.Now().Add(deadline)
	for {
		got := len(fileLines(t, path))
		if got >= n || time.Now().After(stop) {
			return got
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBatching(t *testing.T) {
	rec := seqOp("c", 0)
	line, err := encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	size := len(line)
	tests := []struct {
		name     string
		batch    int
		interval time.Duration
		records  int
		flush    bool
	}{
		{name: "interval", batch: 1 << 30, interval: 20 * time.Millisecond, records: 3},
		{name: "batch size", batch: 5 * size, interval: time.Hour, records: 5},
		{name: "flush", batch: 1 << 30, interval: time.Hour, records: 3, flush: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var syncs atomic.Int64
			path := logPath(t)
			start := time.Now()
			w := mustCreate(t, path, testConfig(tt.batch, tt.interval, &syncs))
			defer func() { _ = w.Close() }()
			for range tt.records {
				mustAppend(t, w, rec)
			}
			if tt.flush {
				if n := len(fileLines(t, path)); n != 0 || syncs.Load() != 0 {
					t.Fatalf("%d lines and %d fsyncs before Flush with an hour's interval", n, syncs.Load())
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				if n := len(fileLines(t, path)); n != tt.records || syncs.Load() != 1 {
					t.Fatalf("%d lines and %d fsyncs right after Flush, want %d and 1", n, syncs.Load(), tt.records)
				}
				return
			}
			if n := waitLines(t, path, tt.records, 10*time.Second); n != tt.records {
				t.Fatalf("%d of %d records written without Flush", n, tt.records)
			}
			t.Logf("written %v after Create", time.Since(start))
			if tt.interval < time.Hour && time.Since(start) < tt.interval {
				t.Errorf("written after %v, before the %v interval", time.Since(start), tt.interval)
			}
			if syncs.Load() == 0 {
				t.Error("written without fsync")
			}
		})
	}
}

var errInjected = errors.New("injected failure")

func TestStickyError(t *testing.T) {
	tests := []struct {
		name string
		// open returns the Writer and makes its next batch fail.
		open func(t *testing.T) *Writer
		// flush: the failing batch is forced by Flush rather than
		// written in the background.
		flush bool
		want  error  // the cause of the failure, when known
		msg   string // in the error
		// written is how many records of the failing batch reach the
		// file; -1: do not read the file.
		written int
	}{
		{
			name: "write fails: no space",
			open: func(t *testing.T) *Writer {
				if _, err := os.Stat("/dev/full"); err != nil {
					t.Skip("no /dev/full")
				}
				return mustCreate(t, "/dev/full", testConfig(1<<30, time.Hour, nil))
			},
			flush: true, want: syscall.ENOSPC, msg: "appending to history log /dev/full", written: -1,
		},
		{
			name: "fsync fails",
			open: func(t *testing.T) *Writer {
				cfg := testConfig(1<<30, time.Hour, nil)
				cfg.sync = func(*os.File) error { return errInjected }
				return mustCreate(t, logPath(t), cfg)
			},
			flush: true, want: errInjected, msg: "syncing history log", written: 2,
		},
		{
			name: "background write to a closed descriptor",
			open: func(t *testing.T) *Writer {
				w := mustCreate(t, logPath(t), testConfig(1, time.Hour, nil))
				if err := w.f.Close(); err != nil {
					t.Fatal(err)
				}
				return w
			},
			msg: "locking history log", written: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.open(t)
			var first error
			if tt.flush {
				mustAppend(t, w, seqOp("c", 0), seqOp("c", 1))
				first = w.Flush()
			} else {
				stop := time.Now().Add(10 * time.Second)
				for i := 0; first == nil; i++ {
					if time.Now().After(stop) {
						t.Fatal("the background write did not fail")
					}
					first = w.Append(seqOp("c", i))
				}
			}
			if first == nil || tt.want != nil && !errors.Is(first, tt.want) || !strings.Contains(first.Error(), tt.msg) {
				t.Fatalf("error %v, want %v saying %q", first, tt.want, tt.msg)
			}
			t.Log(first)
			for i, call := range []func() error{
				func() error { return w.Append(seqOp("c", 1000)) },
				w.Flush,
				func() error { return w.Append(Fault{RunID: "r1", Fault: FaultHeal}) },
				w.Close,
				w.Close,
			} {
				if err := call(); !errors.Is(err, first) {
					t.Fatalf("call %d after the failure = %v, want %v", i, err, first)
				}
			}
			if tt.written >= 0 {
				if n := len(fileLines(t, w.Path())); n != tt.written {
					t.Fatalf("%d lines in the log, want %d", n, tt.written)
				}
			}
		})
	}
}

func TestClose(t *testing.T) {
	path := logPath(t)
	w := mustCreate(t, path, testConfig(1<<30, time.Hour, nil))
	mustAppend(t, w, seqOp("c", 0), seqOp("c", 1))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t)
	if n := len(fileLines(t, path)); n != 2 {
		t.Fatalf("%d lines after Close, want the 2 buffered records", n)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := w.Append(seqOp("c", 2)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if err := w.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
	if n := len(fileLines(t, path)); n != 2 {
		t.Fatalf("%d lines after appending to a closed Writer, want 2", n)
	}
}

// Appends racing with Close either fail with ErrClosed or reach the file.
func TestCloseWhileAppending(t *testing.T) {
	const goroutines = 8
	path := logPath(t)
	w := mustCreate(t, path, testConfig(4<<10, time.Millisecond, nil))
	var (
		wg       sync.WaitGroup
		appended [goroutines]int
		errs     [goroutines]error
		started  sync.WaitGroup
	)
	started.Add(goroutines)
	for g := range goroutines {
		wg.Go(func() {
			signalled := false
			defer func() {
				if !signalled {
					started.Done()
				}
			}()
			c := fmt.Sprintf("c%d", g)
			for i := 0; ; i++ {
				if i == 100 {
					started.Done()
					signalled = true
				}
				if err := w.Append(seqOp(c, i)); err != nil {
					if !errors.Is(err, ErrClosed) {
						errs[g] = err
					}
					return
				}
				appended[g]++
			}
		})
	}
	started.Wait()
	closeErr := w.Close()
	wg.Wait()
	if err := errors.Join(append(errs[:], closeErr)...); err != nil {
		t.Fatal(err)
	}
	ops, _ := readLog(t, path)
	count := map[string]int{}
	for _, op := range ops {
		count[op.Client]++
	}
	for g, n := range appended {
		if c := fmt.Sprintf("c%d", g); count[c] != n {
			t.Errorf("client %s: %d records in the log, %d appended", c, count[c], n)
		}
	}
}

func TestCreateTerminatesTornLine(t *testing.T) {
	rec := func(i int) Op { return seqOp("w", i) }
	line := func(i int) string {
		o := rec(i)
		o.Type = TypeOp
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n"
	}
	torn := `{"type":"op","run_id":"crashed","cli`
	tests := []struct {
		name   string
		before string // in the file before Create
		crash  string // appended by a "crashed writer" after the first batch
		want   string
		warns  []string
	}{
		{name: "new file", want: line(0) + line(1)},
		{name: "clean", before: line(7), want: line(7) + line(0) + line(1)},
		{
			name: "torn before open", before: line(7) + torn,
			want:  line(7) + torn + "\n" + line(0) + line(1),
			warns: []string{"line 2: malformed record: unexpected end of JSON input"},
		},
		{
			name: "torn after open", before: line(7), crash: torn,
			want:  line(7) + line(0) + torn + "\n" + line(1),
			warns: []string{"line 3: malformed record"},
		},
		{
			name: "torn before and after open", before: torn, crash: torn,
			want:  torn + "\n" + line(0) + torn + "\n" + line(1),
			warns: []string{"line 1: malformed record", "line 3: malformed record"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := logPath(t)
			if tt.before != "" {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tt.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w := mustCreate(t, path, testConfig(1<<30, time.Hour, nil))
			defer func() { _ = w.Close() }()
			if got, err := os.ReadFile(path); err != nil || !bytes.HasSuffix(got, []byte("\n")) && len(got) > 0 {
				t.Fatalf("after Create: %q, %v; want a newline at the end", got, err)
			}
			mustAppend(t, w, rec(0))
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if tt.crash != "" {
				f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteString(tt.crash); err != nil {
					t.Fatal(err)
				}
				_ = f.Close()
			}
			mustAppend(t, w, rec(1))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("log:\n%s\nwant:\n%s", got, tt.want)
			}
			ops, _, warnings, err := ReadAll(bytes.NewReader(got), "r1")
			if err != nil {
				t.Fatal(err)
			}
			if wantN := strings.Count(tt.want, `"run_id":"r1"`); len(ops) != wantN {
				t.Errorf("%d ops, want %d", len(ops), wantN)
			}
			if len(warnings) != len(tt.warns) {
				t.Fatalf("warnings %v, want %q", warnings, tt.warns)
			}
			for i, w := range warnings {
				if !strings.HasPrefix(w.String(), tt.warns[i]) {
					t.Errorf("warning %d = %q, want prefix %q", i, w, tt.warns[i])
				}
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	const goroutines = 8
	w, err := Create(filepath.Join(b.TempDir(), "history.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	per := (b.N + goroutines - 1) / goroutines
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			c := fmt.Sprintf("client-%d", g)
			for i := range per {
				if err := w.Append(seqOp(c, i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(per*goroutines)/b.Elapsed().Seconds(), "ops/s")
}
