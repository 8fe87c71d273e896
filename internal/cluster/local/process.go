package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// nodeSpec is what stays fixed for a node across restarts.
type nodeSpec struct {
	ID       uint64
	Name     string
	RaftPort int
	APIPort  int
	DataDir  string
	LogPath  string
}

func (s nodeSpec) apiAddress() string  { return fmt.Sprintf("127.0.0.1:%d", s.APIPort) }
func (s nodeSpec) raftAddress() string { return fmt.Sprintf("127.0.0.1:%d", s.RaftPort) }

// process is one incarnation of a node: a child process we started and will reap.
type process struct {
	spec    nodeSpec
	cmd     *exec.Cmd
	pid     int
	started time.Time
	// done is closed once the process has been reaped; err then holds its exit.
	done chan struct{}
	err  error
	// stopping is set before the process is signalled to die.
	stopping atomic.Bool
}

// uid identifies this incarnation.
func (p *process) uid() string { return fmt.Sprintf("%d@%d", p.pid, p.started.UnixNano()) }

// alive reports whether the process has not been reaped yet.
func (p *process) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// startProcess starts a node process and waits until it serves its API,
// exits, or ctx ends. The process is always reaped by a goroutine that closes done.
func startProcess(ctx context.Context, exe string, spec nodeSpec, rtt time.Duration) (*process, error) {
	logFile, err := os.OpenFile(spec.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: opening log %s: %w", spec.Name, spec.LogPath, err)
	}
	defer func() { _ = logFile.Close() }()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%s: creating ready pipe: %w", spec.Name, err)
	}
	defer func() { _ = readyR.Close() }()

	cmd := exec.Command(exe, NodeCommand,
		"--raft-port", strconv.Itoa(spec.RaftPort),
		"--api-port", strconv.Itoa(spec.APIPort),
		"--data-dir", spec.DataDir,
		"--rtt", rtt.String(),
		"--parent-pid", strconv.Itoa(os.Getpid()))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.Env = append(os.Environ(), "ATOMIX_FAILOVER_NODE="+spec.Name)
	cmd.Dir = filepath.Dir(spec.DataDir) // where dragonboat reads its soft settings
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = readyW.Close()
		return nil, fmt.Errorf("%s: starting process: %w", spec.Name, err)
	}
	_ = readyW.Close()
	p := &process{spec: spec, cmd: cmd, pid: cmd.Process.Pid, started: time.Now(), done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()

	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(readyR).ReadString('\n')
		if strings.TrimSpace(line) == "ready" {
			ready <- nil
			return
		}
		ready <- fmt.Errorf("node closed its ready pipe: %v", err)
	}()
	select {
	case err = <-ready:
		if err == nil {
			return p, nil
		}
		p.kill()
	case <-ctx.Done():
		err = ctx.Err()
		p.kill()
		<-ready
	}
	return nil, fmt.Errorf("%s (pid %d) did not start: %w%s", spec.Name, p.pid, errors.Join(err, p.err), logTail(spec.LogPath))
}

// kill sends SIGKILL to the process group and waits until the process is reaped.
func (p *process) kill() {
	p.stopping.Store(true)
	if p.alive() {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	}
	<-p.done
}

// stop resumes the node if it was paused, asks it to stop (SIGTERM) and
// kills it after grace.
func (p *process) stop(grace time.Duration) {
	if !p.alive() {
		return
	}
	p.stopping.Store(true)
	_ = syscall.Kill(-p.pid, syscall.SIGCONT)
	_ = syscall.Kill(p.pid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
	}
	p.kill()
}

// logTail returns the last lines of a node log for an error message.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return fmt.Sprintf("\n--- last lines of %s ---\n%s", filepath.Base(path), strings.Join(lines, "\n"))
}
