package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// appendHelperEnv makes TestAppendHelperProcess append records to the log it names.
const appendHelperEnv = "HISTORY_TEST_APPEND_HELPER"

const (
	procRecords = 400
	procValue   = 8 << 10
)

// bigOp is record i of client c, with a value of n bytes that encodes both.
func bigOp(c string, i, n int) Op {
	prefix := fmt.Sprintf("%s/%d/", c, i)
	return Op{
		Type: TypeOp, RunID: "r1", Client: c, Op: OpPut, Key: prefix,
		Value:    prefix + strings.Repeat(string(rune('a'+i%26)), n-len(prefix)),
		InvokeNS: int64(i), CompleteNS: i64(int64(i) + 1), Status: StatusOK,
	}
}

// appendBig appends m records of client c to path in batches of about four
// records, so that the batches of two processes alternate.
func appendBig(path, c string, m int) error {
	w, err := create(path, testConfig(4*procValue, time.Millisecond, nil))
	if err != nil {
		return err
	}
	for i := range m {
		if err := w.Append(bigOp(c, i, procValue)); err != nil {
			_ = w.Close()
			return err
		}
	}
	return w.Close()
}

// checkBigLog checks that path holds, for every client, its m records intact
// and in order, and nothing else; it returns the number of times
// consecutive records came from different clients.
func checkBigLog(t *testing.T, path string, clients []string, m int) int {
	t.Helper()
	ops, _ := readLog(t, path)
	next := map[string]int{}
	switches, prev := 0, ""
	for i, op := range ops {
		if want := bigOp(op.Client, next[op.Client], procValue); op.Key != want.Key || op.Value != want.Value {
			t.Fatalf("record %d: client %s key %.20q (%d bytes), want record %d", i, op.Client, op.Key, len(op.Value), next[op.Client])
		}
		next[op.Client]++
		if prev != "" && prev != op.Client {
			switches++
		}
		prev = op.Client
	}
	if n := len(fileLines(t, path)); n != len(ops) || n != len(clients)*m {
		t.Fatalf("%d records on %d lines, want %d", len(ops), n, len(clients)*m)
	}
	for _, c := range clients {
		if next[c] != m {
			t.Errorf("client %s: %d records, want %d", c, next[c], m)
		}
	}
	return switches
}

func TestAppendConcurrentProcesses(t *testing.T) {
	path := logPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	start, release, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = release.Close() }()
	ready, readyW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ready.Close() }()
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestAppendHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), appendHelperEnv+"="+path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = start, &out, &out
	cmd.ExtraFiles = []*os.File{readyW}
	err = cmd.Start()
	_ = start.Close()
	_ = readyW.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The helper closes its end of the ready pipe (fd 3) once it is about to
	// append, or exits.
	_, _ = io.Copy(io.Discard, ready)
	if err := release.Close(); err != nil {
		t.Fatal(err)
	}
	errs := []error{appendBig(path, "parent", procRecords)}
	if err := cmd.Wait(); err != nil {
		errs = append(errs, fmt.Errorf("helper process: %w\n%s", err, out.Bytes()))
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d client switches", checkBigLog(t, path, []string{"parent", "child"}, procRecords))
}

// TestAppendHelperProcess is the second process of TestAppendConcurrentProcesses:
// it closes fd 3 to say it is ready and, once its stdin is closed, appends
// its records and exits.
func TestAppendHelperProcess(t *testing.T) {
	path := os.Getenv(appendHelperEnv)
	if path == "" {
		t.Skip("helper process of TestAppendConcurrentProcesses")
	}
	_ = os.NewFile(3, "ready").Close()
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := appendBig(path, "child", procRecords); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func TestFlushWaitsForLock(t *testing.T) {
	path := logPath(t)
	w := mustCreate(t, path, testConfig(1<<30, time.Hour, nil))
	defer func() { _ = w.Close() }()
	other, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, bigOp("w", 0, 100))
	done := make(chan error, 1)
	go func() { done <- w.Flush() }()
	select {
	case err := <-done:
		t.Fatalf("Flush returned (%v) while another holder had the lock", err)
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
	if ops, _ := readLog(t, path); len(ops) != 1 || ops[0].Key != "w/0/" {
		t.Fatalf("ops %+v, want the one record", ops)
	}
}
