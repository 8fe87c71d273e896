package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childPIDs lists the live (non-zombie) processes whose parent is this process.
func childPIDs(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("reading /proc: %v", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, state, ok := procStat(pid); ok && ppid == os.Getpid() && state != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat returns a process's parent PID and state from /proc/PID/stat.
func procStat(pid int) (ppid int, state string, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, "", false
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0], true
}

// dead reports whether pid no longer runs (gone, or a zombie nobody reaped yet).
func dead(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	_, state, ok := procStat(pid)
	return !ok || state == "Z"
}

func TestStartBadInput(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Close() }()
	takenPort := held.Addr().(*net.TCPAddr).Port
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string
	}{
		{
			name:    "port already taken",
			mutate:  func(c *Config) { c.BasePort = takenPort },
			wantErr: []string{"node-1 raft port", strconv.Itoa(takenPort), "not available"},
		},
		{
			name:    "unwritable data dir",
			mutate:  func(c *Config) { c.DataDir = filepath.Join(notADir, "data") },
			wantErr: []string{"--data-dir", notADir},
		},
		{
			name:    "node fails to start",
			mutate:  func(c *Config) { c.Executable = "/bin/false" },
			wantErr: []string{"did not start", "node-"},
		},
		{
			name: "no leader by the timeout",
			mutate: func(c *Config) {
				c.ElectionRTT = 100000
				c.StartTimeout = 3 * time.Second
			},
			wantErr: []string{"no leader elected for group 1", "group 2", "group 3"},
		},
		{
			name:    "invalid config",
			mutate:  func(c *Config) { c.Replicas, c.ElectionRTT = 0, 5 },
			wantErr: []string{"--replicas 0", "--election-rtt 5"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			cfg := DefaultConfig()
			cfg.StartTimeout = 20 * time.Second
			tt.mutate(&cfg)
			s, err := Start(context.Background(), cfg, nil)
			if err == nil {
				_ = s.Close()
				t.Fatal("Start succeeded, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
			if pids := childPIDs(t); len(pids) != 0 {
				t.Errorf("child processes survive a failed Start: %v", pids)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("failed Start left %d entries in the temp dir (%s)", len(left), left[0].Name())
			}
		})
	}
}

func TestUserDataDirIsNotRemovedWhole(t *testing.T) {
	for _, relative := range []bool{false, true} {
		t.Run(fmt.Sprintf("relative %v", relative), func(t *testing.T) {
			dir := t.TempDir()
			keep := filepath.Join(dir, "user-file")
			if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.DataDir = dir
			if relative {
				t.Chdir(filepath.Dir(dir))
				cfg.DataDir = filepath.Base(dir)
			}
			cfg.Replicas, cfg.Partitions = 1, 1
			s, err := Start(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "node-1", "..", "node-1")); err != nil {
				t.Errorf("node data not under --data-dir: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, filepath.Base(dir))); !os.IsNotExist(err) {
				t.Errorf("the node resolved --data-dir from its own working directory: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			left, err := os.ReadDir(dir)
			if err != nil || len(left) != 1 || left[0].Name() != "user-file" {
				t.Errorf("after Close the data dir holds %v (%v), want only the user's file", left, err)
			}
		})
	}
}

// TestNoChildOutlivesParent runs a parent process that starts a store and
// stops it with a signal, or dies by SIGKILL, and checks that every node dies.
func TestNoChildOutlivesParent(t *testing.T) {
	tests := []struct {
		name      string
		sig       syscall.Signal
		wantClean bool // the parent exits 0 and removes the data dir
	}{
		{"SIGTERM", syscall.SIGTERM, true},
		{"SIGINT", syscall.SIGINT, true},
		{"parent death (SIGKILL)", syscall.SIGKILL, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), parentEnv+"=1", "TMPDIR="+t.TempDir())
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var pids []int
			var dir string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				if v, ok := strings.CutPrefix(line, "pid "); ok {
					pid, _ := strconv.Atoi(v)
					pids = append(pids, pid)
				} else if v, ok := strings.CutPrefix(line, "dir "); ok {
					dir = v
				} else if line == "ready" {
					break
				}
			}
			if len(pids) != 3 || dir == "" {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("parent reported pids %v dir %q", pids, dir)
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			werr := cmd.Wait()
			if tt.wantClean && werr != nil {
				t.Errorf("parent exit after %s: %v", tt.name, werr)
			}
			deadline := time.Now().Add(10 * time.Second)
			for _, pid := range pids {
				for !dead(pid) && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if !dead(pid) {
					t.Errorf("node pid %d outlived its parent", pid)
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			_, statErr := os.Stat(dir)
			if tt.wantClean && !os.IsNotExist(statErr) {
				t.Errorf("data dir %s left behind: %v", dir, statErr)
			}
			if !tt.wantClean {
				removed, err := removeStaleDataDirs(filepath.Dir(dir), nil)
				if err != nil || len(removed) != 1 || removed[0] != dir {
					t.Errorf("stale dir sweep after the parent's death removed %v (%v), want [%s]", removed, err, dir)
				}
			}
			_ = os.RemoveAll(dir)
		})
	}
}
