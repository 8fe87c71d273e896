package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Names the project's manifests use (deployment.yaml, consensus-store.yaml).
const (
	namespace      = "atomix-failover"
	deployment     = "enhanced-failover-experiment"
	store          = "consensus-store"
	raftCluster    = "consensus-cluster"
	resultsInPod   = "/app/logs/enhanced-failover-test-results.log"
	experimentCtr  = "experiment"
	exitLinePrefix = "atomix-failover exited with status "
	// bystanderPod is a pod in the experiment's namespace that no kill may touch.
	bystanderPod = "e2e-bystander"
)

// phaseEnv, when set, makes the test print its phases to stderr as
// "e2e phase: NAME" lines (the killed-run test waits for them).
const phaseEnv = "E2E_PHASES"

// clusterEnv is the cluster's layout as `cluster.sh env` prints it.
type clusterEnv map[string]string

// parseClusterEnv reads KEY=VALUE lines; every key the test uses must be there.
func parseClusterEnv(out string) (clusterEnv, error) {
	env := clusterEnv{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("cluster.sh env: line %q is not KEY=VALUE", line)
		}
		env[k] = v
	}
	for _, k := range []string{"CLUSTER_DIR", "CLUSTER_NETNS", "NETNS_PATH", "BIN", "KUBECONFIG", "CGROUP_NAME",
		"CNI_NETWORK", "CNI_RESULTS_DIR", "DEVICE_PLUGIN_SOCK", "CONTAINER_LOG_LINKS"} {
		if env[k] == "" {
			return nil, fmt.Errorf("cluster.sh env: %s is not set", k)
		}
	}
	return env, nil
}

// harness runs the repository's tools against the cluster.
type harness struct {
	t    *testing.T
	root string
	env  clusterEnv
	// bin holds the kubectl wrapper that reaches the cluster inside its
	// network namespace; run.sh finds it first in PATH.
	bin       string
	artifacts string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the end-to-end test needs root: it brings up a cluster in a network namespace of its own")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "run.sh")); err != nil {
		t.Fatalf("repository root %s: %v", root, err)
	}
	h := &harness{t: t, root: root}
	out, err := h.output(context.Background(), time.Minute, h.clusterSh(), "env")
	if err != nil {
		t.Fatal(err)
	}
	if h.env, err = parseClusterEnv(out); err != nil {
		t.Fatal(err)
	}
	h.artifacts = os.Getenv("E2E_ARTIFACTS")
	if h.artifacts == "" {
		if h.artifacts, err = os.MkdirTemp("", "atomix-failover-e2e-"); err != nil {
			t.Fatal(err)
		}
	}
	h.bin = filepath.Join(h.artifacts, "bin")
	if err := os.MkdirAll(h.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nexec nsenter --net=%s %s --kubeconfig %s \"$@\"\n",
		h.env["NETNS_PATH"], filepath.Join(h.env["BIN"], "kubectl"), h.env["KUBECONFIG"])
	if err := os.WriteFile(filepath.Join(h.bin, "kubectl"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("artifacts (logs, results, report, numbers): %s", h.artifacts)
	return h
}

func (h *harness) clusterSh() string { return filepath.Join(h.root, "hack/cluster/cluster.sh") }

// phase marks the test's progress in its log and, for a parent test, on stderr.
func (h *harness) phase(name string) {
	h.t.Logf("phase: %s", name)
	if os.Getenv(phaseEnv) != "" {
		fmt.Fprintf(os.Stderr, "e2e phase: %s\n", name)
	}
}

// command returns name args... in the repository root, in a process group of
// its own that ctx's end kills whole (nsenter and kubectl with it), with the
// kubectl wrapper first in PATH.
func (h *harness) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = h.root
	cmd.Env = append(os.Environ(), "PATH="+h.bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// output runs a command with a deadline and returns its standard output; an
// error carries the tail of what it printed.
func (h *harness) output(ctx context.Context, timeout time.Duration, name string, args ...string) (string, error) {
	stdout, _, err := h.run(ctx, timeout, name, args...)
	return stdout, err
}

// run runs a command with a deadline and returns its standard output and
// error; an error wraps the *exec.ExitError and carries the tail of both.
func (h *harness) run(ctx context.Context, timeout time.Duration, name string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := h.command(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	what := strings.TrimPrefix(strings.Join(append([]string{name}, args...), " "), h.root+"/")
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (deadline %s)", err, timeout)
		}
		return stdout.String(), stderr.String(), fmt.Errorf("%s: %w\n%s%s", what, err, tail(stdout.String(), 20), tail(stderr.String(), 20))
	}
	h.t.Logf("ran %s (%s)", what, time.Since(start).Round(time.Millisecond))
	return stdout.String(), stderr.String(), nil
}

// exitedWith reports whether err is a command's exit with status code.
func exitedWith(err error, code int) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == code
}

// kubectl runs kubectl in the cluster.
func (h *harness) kubectl(ctx context.Context, args ...string) (string, error) {
	return h.output(ctx, time.Minute, filepath.Join(h.bin, "kubectl"), args...)
}

// clusterUp reports whether a cluster of the harness's layout exists.
func (h *harness) clusterUp() bool {
	_, err := os.Stat(filepath.Join(h.env["CLUSTER_DIR"], "records"))
	return err == nil
}

// requireNoCluster refuses to touch a cluster the test did not bring up.
func (h *harness) requireNoCluster() {
	h.t.Helper()
	if h.clusterUp() {
		h.t.Fatalf("a cluster is already up in %s: the test brings up and tears down its own (hack/cluster/cluster.sh down)", h.env["CLUSTER_DIR"])
	}
}

// down tears the cluster down, after printing the component logs when the
// test failed, and checks that nothing of it is left.
func (h *harness) down() time.Duration {
	if h.t.Failed() {
		if out, err := h.output(context.Background(), time.Minute, h.clusterSh(), "logs"); err == nil {
			h.t.Logf("component logs (tails):\n%s", out)
		}
		if out, err := h.kubectl(context.Background(), "get", "pods,raftpartitions,raftreplicas", "-A", "-o", "wide"); err == nil {
			h.t.Logf("cluster state:\n%s", out)
		}
	}
	start := time.Now()
	if _, err := h.output(context.Background(), 3*time.Minute, h.clusterSh(), "down"); err != nil {
		h.t.Error(err)
	}
	took := time.Since(start)
	if left := waitNoLeftovers(h.env, 15*time.Second); !left.empty() {
		h.t.Errorf("cluster.sh down left behind (15 s later):\n%s", left)
	}
	return took
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// budget is ctx bounded by the test's deadline, less what tear-down needs.
func budget(t *testing.T) (context.Context, context.CancelFunc) {
	d, ok := t.Deadline()
	if !ok {
		return context.WithTimeout(context.Background(), 30*time.Minute)
	}
	return context.WithDeadline(context.Background(), d.Add(-3*time.Minute))
}
