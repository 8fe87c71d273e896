package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// appendHelperEnv makes TestAppendHelperProcess append records to the log it names.
const appendHelperEnv = "RESULTS_TEST_APPEND_HELPER"

const bigValue = 64 << 10

// bigTrial is record i of writer w, with a value of n bytes that encodes both.
func bigTrial(w string, i, n int) Trial {
	prefix := fmt.Sprintf("%s/%d/", w, i)
	return Trial{
		Type: TypeTrial, RunID: w, Trial: i, Scenario: "immediate", Key: prefix,
		Value:   prefix + strings.Repeat(string(rune('a'+i%26)), n-len(prefix)),
		Write:   Write{Status: WriteOK},
		Verify:  Verify{Status: VerifyOK, Attempts: 1},
		Outcome: OutcomeDurable,
	}
}

func appendBig(path, w string, m int) error {
	wr, err := Create(path)
	if err != nil {
		return err
	}
	for i := range m {
		if err := wr.Append(bigTrial(w, i, bigValue)); err != nil {
			_ = wr.Close()
			return err
		}
	}
	return wr.Close()
}

// checkBigLog checks that path holds, for every writer, its m records (of
// values of size bytes) intact
// and in order, and nothing else; it returns the number of times consecutive
// records came from different writers.
func checkBigLog(t *testing.T, path string, writers []string, m, size int) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	r := NewReader(f)
	next := map[string]int{}
	switches, prev, n := 0, "", 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if rec.Trial == nil {
			t.Fatalf("line %d: not a trial", rec.Line)
		}
		tr := rec.Trial
		want := bigTrial(tr.RunID, next[tr.RunID], size)
		if tr.Trial != want.Trial || tr.Key != want.Key || tr.Value != want.Value {
			t.Fatalf("line %d: writer %s record %d (%d bytes), want record %d", rec.Line, tr.RunID, tr.Trial, len(tr.Value), want.Trial)
		}
		next[tr.RunID]++
		if prev != "" && prev != tr.RunID {
			switches++
		}
		prev = tr.RunID
	}
	if w := r.Warnings(); len(w) != 0 {
		t.Fatalf("%d warnings, first: %v", r.WarningCount(), w[0])
	}
	if n != len(writers)*m || r.Lines() != n {
		t.Fatalf("%d records on %d lines, want %d", n, r.Lines(), len(writers)*m)
	}
	for _, w := range writers {
		if next[w] != m {
			t.Errorf("writer %s: %d records, want %d", w, next[w], m)
		}
	}
	return switches
}

func TestAppendConcurrentWriters(t *testing.T) {
	defer goleak.VerifyNone(t)
	const n, m = 8, 16
	path := filepath.Join(t.TempDir(), "results.jsonl")
	writers := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		writers[i] = "w" + strconv.Itoa(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = appendBig(path, writers[i], m)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writer switches", checkBigLog(t, path, writers, m, bigValue))
}

func TestAppendConcurrentProcesses(t *testing.T) {
	defer goleak.VerifyNone(t)
	const m = 64
	path := filepath.Join(t.TempDir(), "results.jsonl")
	start, release, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = release.Close() }()
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestAppendHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), appendHelperEnv+"="+path, "RESULTS_TEST_APPEND_COUNT="+strconv.Itoa(m))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = start, &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = start.Close()
	wr, err := Create(path)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal(err)
	}
	if err := release.Close(); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for i := range m {
		if err := wr.Append(bigTrial("parent", i, bigValue)); err != nil {
			errs = append(errs, err)
			break
		}
	}
	errs = append(errs, wr.Close())
	if err := cmd.Wait(); err != nil {
		errs = append(errs, fmt.Errorf("helper process: %w\n%s", err, out.Bytes()))
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writer switches", checkBigLog(t, path, []string{"parent", "child"}, m, bigValue))
}

// TestAppendHelperProcess is the second process of TestAppendConcurrentProcesses:
// once its stdin is closed it appends its records and exits.
func TestAppendHelperProcess(t *testing.T) {
	path := os.Getenv(appendHelperEnv)
	if path == "" {
		t.Skip("helper process of TestAppendConcurrentProcesses")
	}
	m, err := strconv.Atoi(os.Getenv("RESULTS_TEST_APPEND_COUNT"))
	if err == nil {
		_, _ = io.Copy(io.Discard, os.Stdin)
		err = appendBig(path, "child", m)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func TestAppendWaitsForLock(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(t.TempDir(), "results.jsonl")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close() }()
	other, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Append(bigTrial("w", 0, 100)) }()
	select {
	case err := <-done:
		t.Fatalf("Append returned (%v) while another holder had the lock", err)
	case <-time.After(200 * time.Millisecond):
	}
	if st, err := os.Stat(path); err != nil || st.Size() != 0 {
		t.Fatalf("log written while locked: %v, %v", st, err)
	}
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkBigLog(t, path, []string{"w"}, 1, 100)
}

func TestAppendTerminatesTornLine(t *testing.T) {
	rec := func(i int) Trial { return bigTrial("w", i, 100) }
	line := func(i int) string {
		b, err := json.Marshal(rec(i))
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n"
	}
	torn := `{"type":"trial","run_id":"crashed","va`
	tests := []struct {
		name   string
		before string // in the file before Create
		crash  string // appended by a "crashed writer" after Create
		want   string
		warns  int
	}{
		{name: "empty", want: line(0) + line(1)},
		{name: "clean", before: line(7), want: line(7) + line(0) + line(1)},
		{name: "torn before open", before: line(7) + torn, want: line(7) + torn + "\n" + line(0) + line(1), warns: 1},
		{name: "torn after open", before: line(7), crash: torn, want: line(7) + line(0) + torn + "\n" + line(1), warns: 1},
		{name: "torn before and after open", before: torn, crash: torn, want: torn + "\n" + line(0) + torn + "\n" + line(1), warns: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.jsonl")
			if tt.before != "" {
				if err := os.WriteFile(path, []byte(tt.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w, err := Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = w.Close() }()
			if err := w.Append(rec(0)); err != nil {
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
			if err := w.Append(rec(1)); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("log:\n%s\nwant:\n%s", got, tt.want)
			}
			r := NewReader(bytes.NewReader(got))
			var n int
			for {
				if _, err := r.Next(); err != nil {
					break
				}
				n++
			}
			if wantN := strings.Count(tt.want, `"run_id":"w"`); n != wantN || r.WarningCount() != tt.warns {
				t.Fatalf("%d records, %d warnings (%v); want %d, %d", n, r.WarningCount(), r.Warnings(), wantN, tt.warns)
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{100, bigValue} {
		b.Run(fmt.Sprintf("value=%dB", size), func(b *testing.B) {
			w, err := Create(filepath.Join(b.TempDir(), "results.jsonl"))
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = w.Close() }()
			rec := bigTrial("bench", 1, size)
			b.ReportAllocs()
			for b.Loop() {
				if err := w.Append(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
