package local

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestStaleDataDirs(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	self := func(t *testing.T) dirOwner {
		start, _, err := procStart(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		return dirOwner{pid: os.Getpid(), start: start}
	}
	tests := []struct {
		name  string
		entry string // name under the parent dir
		setup func(t *testing.T, dir string)
		// wantRemoved is whether dir must be gone afterwards; otherwise it must be untouched.
		wantRemoved bool
		wantOwner   bool   // the removal is logged with owner_pid
		wantInUse   string // the dir is logged as still in use, by this kind of use
	}{
		{
			name:  "owner alive (this process)",
			entry: "atomix-failover-raft-1",
			setup: func(t *testing.T, dir string) {
				mustWriteOwner(t, dir)
				touchTree(t, dir, old)
			},
		},
		{
			name:  "owner exited",
			entry: "atomix-failover-raft-2",
			setup: func(t *testing.T, dir string) {
				putOwner(t, dir, exitedOwner(t))
			},
			wantRemoved: true,
			wantOwner:   true,
		},
		{
			name:  "owner pid reused: same pid, other start time",
			entry: "atomix-failover-raft-3",
			setup: func(t *testing.T, dir string) {
				o := self(t)
				o.start++
				putOwner(t, dir, o)
			},
			wantRemoved: true,
			wantOwner:   true,
		},
		{
			name:  "no owner, old, unreferenced",
			entry: "atomix-failover-raft-4",
			setup: func(t *testing.T, dir string) {
				touchTree(t, dir, old)
			},
			wantRemoved: true,
		},
		{
			name:  "no owner, fresh",
			entry: "atomix-failover-raft-5",
		},
		{
			name:  "no owner, old dir, recently written node log",
			entry: "atomix-failover-raft-6",
			setup: func(t *testing.T, dir string) {
				touchTree(t, dir, old)
				if err := os.Chtimes(filepath.Join(dir, "node-1.log"), time.Now(), time.Now()); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:  "malformed owner, old",
			entry: "atomix-failover-raft-7",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, ownerFileName), "garbage")
				touchTree(t, dir, old)
			},
			wantRemoved: true,
		},
		{
			name:  "malformed owner, fresh",
			entry: "atomix-failover-raft-8",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, ownerFileName), "-1 5")
			},
		},
		{
			name:  "owner exited, node still running (command line)",
			entry: "atomix-failover-raft-9",
			setup: func(t *testing.T, dir string) {
				putOwner(t, dir, exitedOwner(t))
				startSleep(t, filepath.Join(dir, "node-1", "sleep"), "")
			},
			wantInUse: "command line",
		},
		{
			name:  "no owner, old, referenced by a command line",
			entry: "atomix-failover-raft-10",
			setup: func(t *testing.T, dir string) {
				startSleep(t, filepath.Join(dir, "node-1", "sleep"), "")
				touchTree(t, dir, old)
			},
			wantInUse: "command line",
		},
		{
			name:  "owner exited, working directory of a live process",
			entry: "atomix-failover-raft-11",
			setup: func(t *testing.T, dir string) {
				putOwner(t, dir, exitedOwner(t))
				startSleep(t, "sleep", filepath.Join(dir, "node-1"))
			},
			wantInUse: "working directory",
		},
		{
			name:  "owner exited, file open in this process",
			entry: "atomix-failover-raft-12",
			setup: func(t *testing.T, dir string) {
				putOwner(t, dir, exitedOwner(t))
				f, err := os.Open(filepath.Join(dir, "node-1.log"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = f.Close() })
			},
			wantInUse: "open file",
		},
		{
			name:  "owner exited, kept on purpose",
			entry: "atomix-failover-raft-13",
			setup: func(t *testing.T, dir string) {
				putOwner(t, dir, exitedOwner(t))
				if err := markKept(dir); err != nil {
					t.Fatal(err)
				}
				touchTree(t, dir, old)
			},
		},
		{
			name:  "name not matching",
			entry: "atomix-failover-other-1",
			setup: func(t *testing.T, dir string) {
				putOwner(t, dir, exitedOwner(t))
				touchTree(t, dir, old)
			},
		},
		{
			name:  "similar name is not a reference",
			entry: "atomix-failover-raft-14",
			setup: func(t *testing.T, dir string) {
				startSleep(t, dir+"0/node-1/sleep", "")
				putOwner(t, dir, exitedOwner(t))
			},
			wantRemoved: true,
			wantOwner:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, tt.entry)
			makeDataDir(t, dir)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			before := listTree(t, parent)
			core, logs := observer.New(zap.DebugLevel)
			removed, err := removeStaleDataDirs(parent, zap.New(core))
			if err != nil {
				t.Fatalf("removeStaleDataDirs: %v", err)
			}
			_, statErr := os.Lstat(dir)
			inUse := logs.FilterMessage("stale data dir still in use: left alone").All()
			if tt.wantInUse == "" && len(inUse) != 0 {
				t.Errorf("logged as in use: %v", inUse[0].ContextMap())
			}
			if tt.wantInUse != "" {
				if len(inUse) != 1 {
					t.Fatalf("logged as in use %d times, want once: %v", len(inUse), logs.All())
				}
				if how, _ := inUse[0].ContextMap()["used_by"].(string); !strings.HasPrefix(how, tt.wantInUse) {
					t.Errorf("logged used_by %q, want %q", how, tt.wantInUse)
				}
			}
			if !tt.wantRemoved {
				if len(removed) != 0 || statErr != nil {
					t.Fatalf("removed %v (stat %v), want %s kept", removed, statErr, dir)
				}
				if after := listTree(t, parent); !slices.Equal(after, before) {
					t.Fatalf("tree changed:\nbefore %v\nafter  %v", before, after)
				}
				return
			}
			if !slices.Equal(removed, []string{dir}) || !os.IsNotExist(statErr) {
				t.Fatalf("removed %v (stat %v), want [%s] gone", removed, statErr, dir)
			}
			entries := logs.FilterMessage("removed stale data dir").All()
			if len(entries) != 1 {
				t.Fatalf("removal logged %d times, want once: %v", len(entries), logs.All())
			}
			fields := entries[0].ContextMap()
			if fields["dir"] != dir {
				t.Errorf("logged dir %v, want %s", fields["dir"], dir)
			}
			if freed, _ := fields["freed_bytes"].(int64); freed < 1<<20 {
				t.Errorf("logged freed_bytes %v, want at least the 1 MiB WAL", fields["freed_bytes"])
			}
			if _, ok := fields["owner_pid"]; ok != tt.wantOwner {
				t.Errorf("owner_pid logged: %v, want %v (%v)", ok, tt.wantOwner, fields)
			}
		})
	}
}

func TestStaleDataDirsSymlink(t *testing.T) {
	parent, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(elsewhere, "data")
	makeDataDir(t, target)
	touchTree(t, target, time.Now().Add(-time.Hour))
	link := filepath.Join(parent, "atomix-failover-raft-link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	removed, err := removeStaleDataDirs(parent, nil)
	if err != nil || len(removed) != 0 {
		t.Fatalf("removeStaleDataDirs = %v, %v; want nothing removed", removed, err)
	}
	if _, err := os.Lstat(link); err != nil {
		t.Errorf("link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(target, "node-1", "wal")); err != nil {
		t.Errorf("link target: %v", err)
	}
}

func TestStaleDataDirsSeveral(t *testing.T) {
	parent := t.TempDir()
	gone := exitedOwner(t)
	var want []string
	for i := range 3 {
		dir := filepath.Join(parent, fmt.Sprintf("atomix-failover-raft-%d", i))
		makeDataDir(t, dir)
		putOwner(t, dir, gone)
		want = append(want, dir)
	}
	live := filepath.Join(parent, "atomix-failover-raft-live")
	makeDataDir(t, live)
	mustWriteOwner(t, live)
	removed, err := removeStaleDataDirs(parent, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatalf("live dir: %v", err)
	}
	if _, err := removeStaleDataDirs(filepath.Join(parent, "missing"), nil); err == nil {
		t.Fatal("no error for a missing parent")
	}
}

func TestStaleWriteOwner(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		mustWriteOwner(t, dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, ownerFileName))
	if err != nil {
		t.Fatal(err)
	}
	start, _, err := procStart(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d %d\n", os.Getpid(), start); string(b) != want {
		t.Fatalf("%s = %q, want %q", ownerFileName, b, want)
	}
	o, err := readOwner(dir)
	if err != nil || o.pid != os.Getpid() || o.start != start {
		t.Fatalf("readOwner = %+v, %v", o, err)
	}
	if alive, reason := ownerAlive(o); !alive {
		t.Fatalf("this process not alive: %s", reason)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("dir holds %v, want only %s", entries, ownerFileName)
	}
	if err := writeOwner(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("no error writing into a missing dir")
	}
}

func TestStaleProcStat(t *testing.T) {
	fields := func(comm string) string {
		return "42 (" + comm + ") S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615"
	}
	tests := []struct {
		name, in  string
		wantStart uint64
		wantErr   bool
	}{
		{name: "plain", in: fields("sleep"), wantStart: 987654},
		{name: "comm with spaces and parens", in: fields("a) b (c ) d"), wantStart: 987654},
		{name: "no paren", in: "42 sleep S 1", wantErr: true},
		{name: "truncated", in: "42 (sleep) S 1 42", wantErr: true},
		{name: "bad start", in: strings.Replace(fields("x"), "987654", "x", 1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, state, err := parseProcStat(42, []byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && (start != tt.wantStart || state != 'S') {
				t.Fatalf("got start %d state %c", start, state)
			}
		})
	}
}

func TestStaleRefersTo(t *testing.T) {
	paths := []string{"/tmp/atomix-failover-raft-12"}
	tests := []struct {
		s    string
		want bool
	}{
		{"/tmp/atomix-failover-raft-12", true},
		{"/tmp/atomix-failover-raft-12/node-1", true},
		{"--data-dir=/tmp/atomix-failover-raft-12/node-2", true},
		{"/tmp/atomix-failover-raft-12/node-1/wal (deleted)", true},
		{"/tmp/atomix-failover-raft-12 (deleted)", true},
		{"/tmp/atomix-failover-raft-123/node-1", false},
		{"/tmp/atomix-failover-raft-123:/tmp/atomix-failover-raft-12/x", true},
		{"/tmp/atomix-failover-raft-1", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := refersTo(tt.s, paths); got != tt.want {
			t.Errorf("refersTo(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// makeDataDir lays out dir like a store's: node dirs with a 1 MiB WAL and node logs.
func makeDataDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "node-1"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "node-1", "wal"), strings.Repeat("w", 1<<20))
	writeFile(t, filepath.Join(dir, "node-1.log"), "log\n")
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustWriteOwner(t *testing.T, dir string) {
	t.Helper()
	if err := writeOwner(dir); err != nil {
		t.Fatal(err)
	}
}

func putOwner(t *testing.T, dir string, o dirOwner) {
	t.Helper()
	writeFile(t, filepath.Join(dir, ownerFileName), fmt.Sprintf("%d %d\n", o.pid, o.start))
}

// touchTree sets the modification time of dir and everything under it.
func touchTree(t *testing.T, dir string, at time.Time) {
	t.Helper()
	err := filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(path, at, at)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// listTree lists the paths under dir.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		paths = append(paths, path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// exitedOwner returns the pid and start time of a child process that has
// exited and been reaped.
func exitedOwner(t *testing.T) dirOwner {
	t.Helper()
	cmd := exec.Command("sleep", "0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start, _, err := procStart(cmd.Process.Pid)
	if werr := cmd.Wait(); werr != nil || err != nil {
		t.Fatalf("sleep 0: %v, %v", werr, err)
	}
	return dirOwner{pid: cmd.Process.Pid, start: start}
}

// startSleep starts "sleep 30" with argv0 as its argv[0] (when not empty)
// and cwd as its working directory, and kills and reaps it at the end of the test.
func startSleep(t *testing.T, argv0, cwd string) {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	if argv0 != "" {
		cmd.Args[0] = argv0
	}
	cmd.Dir = cwd
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
}
