//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTeardownAfterKilledRun SIGKILLs a run of TestEndToEnd (its whole
// process group: the test, its kubectl watches and followers) at two points
// — while the cluster comes up, and with the campaign running in its pod —
// and checks that cluster.sh down then leaves no process, mount, namespace,
// cgroup or path of the cluster behind. What is found before down is the
// positive control of the leftover detector.
func TestTeardownAfterKilledRun(t *testing.T) {
	if os.Getenv(phaseEnv) != "" {
		t.Skip("a killed run's child")
	}
	h := newHarness(t)
	h.requireNoCluster()
	ctx, cancel := budget(t)
	defer cancel()
	// Cached after the first time (~11 min cold): the children need not wait for it.
	h.timed(ctx, 30*time.Minute, h.clusterSh(), "build")
	tests := []struct {
		name  string
		phase string
		after time.Duration
		// wantBefore are the kinds of leftovers that must exist before down.
		wantBefore []string
	}{
		{name: "cluster coming up", phase: "cluster-up-started", after: 4 * time.Second,
			wantBefore: []string{"process", "namespace", "path"}},
		{name: "campaign running", phase: "campaign-running",
			wantBefore: []string{"process", "mount", "namespace", "cgroup", "path"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.requireNoCluster()
			killRunAt(t, h, tc.phase, tc.after)
			before := findLeftovers(h.env)
			for _, kind := range tc.wantBefore {
				if len(before[kind]) == 0 {
					t.Errorf("before down: no %s of the cluster found (the detector proves nothing for it); found:\n%s", kind, before)
				}
			}
			start := time.Now()
			if _, err := h.output(context.Background(), 3*time.Minute, h.clusterSh(), "down"); err != nil {
				t.Fatal(err)
			}
			t.Logf("down after a killed run: %s; it removed %d processes, %d mounts, %d cgroups", time.Since(start).Round(time.Millisecond),
				len(before["process"]), len(before["mount"]), len(before["cgroup"]))
			if left := waitNoLeftovers(h.env, 15*time.Second); !left.empty() {
				t.Fatalf("cluster.sh down after a killed run left behind (15 s later):\n%s", left)
			}
		})
	}
}

// killRunAt runs TestEndToEnd in a child test process and SIGKILLs its
// process group `after` the child reaches phase.
func killRunAt(t *testing.T, h *harness, phase string, after time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestEndToEnd$", "-test.v=true", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), phaseEnv+"=1", "E2E_ARTIFACTS="+filepath.Join(h.artifacts, "killed-at-"+phase))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := os.Create(filepath.Join(h.artifacts, "killed-at-"+phase+".log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout = out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reached := false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		fmt.Fprintln(out, sc.Text())
		if sc.Text() == "e2e phase: "+phase {
			reached = true
			break
		}
	}
	if reached {
		time.Sleep(after)
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()
	if !reached {
		t.Fatalf("the child run never reached phase %s; its output: %s", phase, out.Name())
	}
	t.Logf("SIGKILLed the run %s after phase %s", after, phase)
}

// TestEndToEnd is the run.sh flow on a real cluster, as a user runs it:
// cluster up → the project's image → run.sh (no minikube, no docker, no
// Helm) → the campaign in the pod, followed with kubectl logs -f → kubectl
// cp → analyze-results.go, checked against an independent watcher → down.
func TestEndToEnd(t *testing.T) {
	h := newHarness(t)
	h.requireNoCluster()
	ctx, cancel := budget(t)
	defer cancel()
	var n numbers
	t.Cleanup(func() {
		n.Down = h.down()
		n.report(t, h.artifacts)
	})

	n.Build = h.timed(ctx, 30*time.Minute, h.clusterSh(), "build")
	h.phase("cluster-up-started")
	n.Up = h.timed(ctx, 5*time.Minute, h.clusterSh(), "up")
	h.phase("cluster-up")
	n.Image = h.loadImage(ctx)

	w := startWatcher(ctx, h)
	defer w.stop()
	bystander := h.startBystander(ctx)

	n.RunScript = h.timed(ctx, 12*time.Minute, "./run.sh", "--skip-minikube", "--skip-build", "--skip-helm",
		"--kube-context", "local", "--timeout", "300s")
	pod := h.experimentPod(ctx)
	h.phase("deployed")
	console, status := h.followCampaign(ctx, pod)
	if status != 0 {
		t.Fatalf("the campaign in pod %s exited with status %d; its log: %s", pod, status, filepath.Join(h.artifacts, "campaign.log"))
	}
	h.phase("campaign-done")

	h.checkLeaders(ctx, pod, w)
	h.checkDryRun(ctx, pod, w)

	log, report := h.fetchAndAnalyze(ctx, pod, resultsInPod, false)
	killed := map[string]bool{}
	n.Trials = checkCampaign(t, log, report, console, w, killed)
	n.Campaign = log.wall()

	h.phase("load-campaign")
	loadLog, loadReport, loadConsole := h.loadCampaign(ctx, pod)
	n.LoadTrials = checkCampaign(t, loadLog, loadReport, loadConsole, w, killed)
	checkWorkload(t, loadLog, loadReport)
	n.LoadCampaign = loadLog.wall()

	if errs := w.stop(); len(errs) > 0 {
		t.Fatalf("the watcher failed: %v", errs)
	}
	checkOnlyKillsDeleted(t, w, killed)
	checkBystander(t, w, bystander)
}

// loadInPod is where the campaign under load writes its results log.
const loadInPod = "/app/logs/load.log"

// loadCampaign runs kill-under-load in the pod through kubectl exec, as a
// user drives the tool by hand, and returns its log, report and console.
// Exit status 1 is a finding about the store (a linearizability violation
// or a stale read) when no write was lost, which checkWorkload decides.
func (h *harness) loadCampaign(ctx context.Context, pod string) (resultsLog, analysis, string) {
	h.t.Helper()
	stdout, stderr, err := h.run(ctx, 10*time.Minute, filepath.Join(h.bin, "kubectl"), "exec", "-n", namespace, pod, "-c", experimentCtr, "--",
		"atomix-failover", "run", "--target", "kubernetes", "--store", store, "--scenarios", "kill-under-load", "--out", loadInPod)
	console := stdout + stderr
	if werr := os.WriteFile(filepath.Join(h.artifacts, "load-campaign.log"), []byte(console), 0o644); werr != nil {
		h.t.Fatal(werr)
	}
	if err != nil && !exitedWith(err, 1) {
		h.t.Fatalf("the campaign under load: %v", err)
	}
	log, report := h.fetchAndAnalyze(ctx, pod, loadInPod, true)
	return log, report, console
}

// fetchAndAnalyze copies a results log (and its history, when its header
// names one) out of the pod with kubectl cp and runs analyze-results.go on
// it. With findings, the analyzer's exit 1 is accepted: the caller checks
// what it found.
func (h *harness) fetchAndAnalyze(ctx context.Context, pod, inPod string, findings bool) (resultsLog, analysis) {
	h.t.Helper()
	local := filepath.Join(h.artifacts, filepath.Base(inPod))
	h.copyOut(ctx, pod, inPod, local)
	log, err := readResults(local)
	if err != nil {
		h.t.Fatal(err)
	}
	if log.Header.History != "" {
		h.copyOut(ctx, pod, filepath.Join(filepath.Dir(inPod), log.Header.History), filepath.Join(h.artifacts, log.Header.History))
	}
	return log, h.analyze(ctx, local, findings)
}

func (h *harness) copyOut(ctx context.Context, pod, inPod, local string) {
	h.t.Helper()
	if _, err := h.kubectl(ctx, "cp", namespace+"/"+pod+":"+inPod, local, "-c", experimentCtr); err != nil {
		h.t.Fatalf("kubectl cp: %v", err)
	}
}

// timed runs a command and returns how long it took; a failure ends the test.
func (h *harness) timed(ctx context.Context, timeout time.Duration, name string, args ...string) time.Duration {
	h.t.Helper()
	start := time.Now()
	if _, err := h.output(ctx, timeout, name, args...); err != nil {
		h.t.Fatal(err)
	}
	return time.Since(start)
}

// loadImage builds the project's image with hack/image and imports it into
// the node (no registry: deployment.yaml's imagePullPolicy is Never).
func (h *harness) loadImage(ctx context.Context) time.Duration {
	tar := filepath.Join(h.artifacts, "atomix-failover.tar")
	start := time.Now()
	h.timed(ctx, 10*time.Minute, "go", "run", "./hack/image/main.go", "-o", tar)
	h.timed(ctx, 2*time.Minute, h.clusterSh(), "load-image", tar)
	took := time.Since(start)
	if err := os.Remove(tar); err != nil {
		h.t.Error(err)
	}
	return took
}

// startBystander creates the namespace and the bystander pod (the project's
// image, idling) and returns its UID once it is ready.
func (h *harness) startBystander(ctx context.Context) string {
	h.t.Helper()
	manifest := fmt.Sprintf(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":%q}}
{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":%q,"labels":{"app":"e2e-bystander"}},
 "spec":{"terminationGracePeriodSeconds":1,"containers":[{"name":"idle","image":"atomix-failover:local","imagePullPolicy":"Never",
  "command":["/bin/sh","-c","trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"],
  "securityContext":{"runAsNonRoot":true,"runAsUser":65532,"allowPrivilegeEscalation":false}}]}}`,
		namespace, bystanderPod, namespace)
	path := filepath.Join(h.artifacts, "bystander.json")
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.kubectl(ctx, "create", "-f", path); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.output(ctx, 3*time.Minute, filepath.Join(h.bin, "kubectl"), "wait", "-n", namespace,
		"--for=condition=Ready", "pod/"+bystanderPod, "--timeout=170s"); err != nil {
		h.t.Fatal(err)
	}
	uid, err := h.kubectl(ctx, "get", "pod", bystanderPod, "-n", namespace, "-o", "jsonpath={.metadata.uid}")
	if err != nil || uid == "" {
		h.t.Fatalf("bystander UID: %q %v", uid, err)
	}
	return uid
}

// experimentPod is the one pod of the experiment's Deployment.
func (h *harness) experimentPod(ctx context.Context) string {
	h.t.Helper()
	out, err := h.kubectl(ctx, "get", "pods", "-n", namespace, "-l", "app.kubernetes.io/name="+deployment,
		"-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}")
	if err != nil {
		h.t.Fatal(err)
	}
	pods := strings.Fields(out)
	if len(pods) != 1 {
		h.t.Fatalf("experiment pods %v, want one", pods)
	}
	return pods[0]
}

// followCampaign follows `kubectl logs -f deployment/...` (the command run.sh
// prints) until the Deployment's wrapper prints the campaign's exit status;
// the stream itself never ends, the container stays up for kubectl cp.
func (h *harness) followCampaign(ctx context.Context, pod string) (string, int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	path := filepath.Join(h.artifacts, "campaign.log")
	f, err := os.Create(path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	var console strings.Builder
	running := false
	for attempt := 1; ctx.Err() == nil; attempt++ {
		console.Reset()
		cmd := h.command(ctx, filepath.Join(h.bin, "kubectl"), "logs", "-f", "deployment/"+deployment, "-n", namespace, "-c", experimentCtr)
		out, err := cmd.StdoutPipe()
		if err != nil {
			h.t.Fatal(err)
		}
		cmd.Stderr = f
		if err := cmd.Start(); err != nil {
			h.t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(f, line)
			console.WriteString(line + "\n")
			if !running && strings.Contains(line, "\tcampaign\ttrial\t") {
				running = true
				h.phase("campaign-running")
			}
			if status, ok := exitStatus(line); ok {
				_ = cmd.Cancel()
				_ = cmd.Wait()
				return console.String(), status
			}
		}
		_ = cmd.Wait()
		h.t.Logf("kubectl logs -f ended before the campaign's exit line (attempt %d); following again", attempt)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	h.t.Fatalf("no exit line from the campaign in pod %s before the deadline; its log: %s", pod, path)
	return "", 0
}

// analyze runs analyze-results.go on the copied log, as text (kept) and JSON.
func (h *harness) analyze(ctx context.Context, results string, findings bool) analysis {
	h.t.Helper()
	text, err := h.output(ctx, 5*time.Minute, "go", "run", "analyze-results.go", results)
	if err != nil && !(findings && exitedWith(err, 1)) {
		h.t.Fatalf("analyze-results.go: %v", err)
	}
	report := strings.TrimSuffix(results, filepath.Ext(results)) + ".report.txt"
	if err := os.WriteFile(report, []byte(text), 0o644); err != nil {
		h.t.Fatal(err)
	}
	out, err := h.output(ctx, 5*time.Minute, "go", "run", "analyze-results.go", "--format", "json", results)
	if err != nil && !(findings && exitedWith(err, 1)) {
		h.t.Fatalf("analyze-results.go --format json: %v", err)
	}
	var a analysis
	if err := json.Unmarshal([]byte(out), &a); err != nil || len(a.Reports) != 1 {
		h.t.Fatalf("analyzer JSON: %v (%d reports)", err, len(a.Reports))
	}
	return a
}

// inPod runs the tool in the experiment pod through kubectl exec.
func (h *harness) inPod(ctx context.Context, pod string, args ...string) (string, error) {
	return h.kubectl(ctx, append([]string{"exec", "-n", namespace, pod, "-c", experimentCtr, "--",
		"atomix-failover"}, args...)...)
}

// agree retries check until it passes or 60 s pass: the tool and the watcher
// read the same objects at slightly different moments.
func (h *harness) agree(ctx context.Context, what string, check func() error) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			h.t.Fatalf("%s: %v", what, err)
		case <-time.After(time.Second):
		}
	}
}

// checkLeaders compares `atomix-failover leaders` in the pod with the watcher.
func (h *harness) checkLeaders(ctx context.Context, pod string, w *watcher) {
	h.agree(ctx, "leaders through kubectl exec", func() error {
		out, err := h.inPod(ctx, pod, "leaders", "--target", "kubernetes", "--store", store)
		if err != nil {
			return err
		}
		rows, err := parseLeaders(out)
		if err != nil {
			return err
		}
		if len(rows) != 3 {
			return fmt.Errorf("%d partitions listed, want 3:\n%s", len(rows), out)
		}
		for _, r := range rows {
			wp, wt, ok := w.leaderAt(r.Partition, time.Now())
			if !ok || wp != r.Pod || wt != r.Term {
				return fmt.Errorf("partition %d: leaders says %s in term %d, the watcher %s in term %d", r.Partition, r.Pod, r.Term, wp, wt)
			}
		}
		h.t.Logf("leaders through kubectl exec:\n%s", out)
		return nil
	})
}

// checkDryRun runs kill-leader --dry-run in the pod: it must name the
// watcher's leader. That it killed nothing is checked with every other
// deletion: each must be a trial's kill.
func (h *harness) checkDryRun(ctx context.Context, pod string, w *watcher) {
	h.agree(ctx, "kill-leader --dry-run through kubectl exec", func() error {
		out, err := h.inPod(ctx, pod, "kill-leader", "--target", "kubernetes", "--store", store, "--partition", "1", "--dry-run")
		if err != nil {
			return err
		}
		victim, partition, term, err := parseDryRun(out)
		if err != nil {
			return err
		}
		wp, wt, ok := w.leaderAt(1, time.Now())
		if partition != 1 || !ok || wp != victim || wt != term {
			return fmt.Errorf("dry run names %s (partition %d, term %d), the watcher %s in term %d", victim, partition, term, wp, wt)
		}
		h.t.Logf("kill-leader --dry-run through kubectl exec: would kill %s in term %d", victim, term)
		return nil
	})
}
