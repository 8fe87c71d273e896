package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
	"github.com/atomix-failover/atomix-failover/internal/experiment"
	"github.com/atomix-failover/atomix-failover/internal/experiment/faketarget"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// useFakeTarget makes the run command use a fake target, with setup applied to it.
func useFakeTarget(t *testing.T, setup func(*faketarget.Target)) {
	t.Helper()
	old := openTarget
	openTarget = func(ctx context.Context, tf *targetFlags, log *zap.Logger) (cluster.Target, error) {
		f := faketarget.New(faketarget.DefaultConfig())
		if setup != nil {
			setup(f)
		}
		return f, nil
	}
	t.Cleanup(func() { openTarget = old })
}

func recordTypes(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var types []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct {
			Type    string `json:"type"`
			Outcome string `json:"outcome"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		types = append(types, strings.TrimSuffix(rec.Type+":"+rec.Outcome, ":"))
	}
	return types
}

func TestRunCommand(t *testing.T) {
	plans, err := experiment.Plan(1, experiment.Scenarios()[:1], 1, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	lostKey := plans[1].Key.Name
	tests := []struct {
		name  string
		args  []string
		fault faketarget.Fault
		code  int
		types []string
	}{
		{"root runs the campaign", []string{"--scenarios", "immediate"}, 0, ExitOK,
			[]string{"run", "trial:durable", "trial:durable", "trial:durable", "summary"}},
		{"run subcommand", []string{"run", "--scenarios", "immediate", "--seed", "1", "--verify-timeout", "2s"}, 0, ExitOK,
			[]string{"run", "trial:durable", "trial:durable", "trial:durable", "summary"}},
		{"lost write exits 1", []string{"--scenarios", "immediate"}, faketarget.DropWrite, ExitViolation,
			[]string{"run", "trial:durable", "trial:lost", "trial:durable", "summary"}},
		{"unknown scenario", []string{"--scenarios", "bogus"}, 0, ExitUsage, nil},
		{"bad repeat", []string{"run", "--repeat", "0"}, 0, ExitUsage, nil},
		{"bad flag", []string{"--no-such-flag"}, 0, ExitUsage, nil},
		{"bad restart delay", []string{"run", "--restart-delay", "soon"}, 0, ExitUsage, nil},
		{"probe deadline too short", []string{"run", "--probe-timeout", "100ms"}, 0, ExitUsage, nil},
		{"negative leader age", []string{"run", "--min-leader-age", "-1s"}, 0, ExitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			useFakeTarget(t, func(f *faketarget.Target) {
				if tt.fault != 0 {
					f.SetFault(lostKey, tt.fault)
				}
			})
			out := filepath.Join(t.TempDir(), "logs", "out.log")
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), append(tt.args, "--out", out), Streams{Stdout: &stdout, Stderr: &stderr})
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			if tt.types == nil {
				if _, err := os.Stat(out); err == nil {
					t.Fatalf("%s written on a usage error", out)
				}
				return
			}
			if got := recordTypes(t, out); strings.Join(got, ",") != strings.Join(tt.types, ",") {
				t.Fatalf("records %v, want %v", got, tt.types)
			}
			if n := strings.Count(stderr.String(), "\ttrial\t") + strings.Count(stderr.String(), "LOST"); n != 3 {
				t.Errorf("%d trial progress lines, want 3:\n%s", n, stderr.String())
			}
			if !strings.Contains(stderr.String(), "summary") {
				t.Errorf("no summary line:\n%s", stderr.String())
			}
		})
	}
}

func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	useFakeTarget(t, func(f *faketarget.Target) {
		go func() {
			for len(f.Kills()) == 0 {
				select {
				case <-done:
					return
				case <-time.After(time.Millisecond):
				}
			}
			cancel()
		}()
	})
	out := filepath.Join(t.TempDir(), "out.log")
	var stderr bytes.Buffer
	code := Run(ctx, []string{"--out", out}, Streams{Stdout: &bytes.Buffer{}, Stderr: &stderr})
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitInterrupted, stderr.String())
	}
	types := recordTypes(t, out)
	want := []string{results.TypeRun, "trial:" + results.OutcomeInconclusive, results.TypeSummary}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Fatalf("records %v, want %v", types, want)
	}
}

func TestInterruptedWhileStartingTarget(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	old := openTarget
	openTarget = func(ctx context.Context, tf *targetFlags, log *zap.Logger) (cluster.Target, error) {
		cancel()
		<-ctx.Done()
		return nil, usageError(fmt.Errorf("starting local target: %w", ctx.Err()))
	}
	t.Cleanup(func() { openTarget = old })
	for _, args := range [][]string{{"--out", filepath.Join(t.TempDir(), "out.log")}, {"leaders"}, {"kill-leader", "--partition", "1"}} {
		t.Run(args[0], func(t *testing.T) {
			var stderr bytes.Buffer
			if code := Run(ctx, args, Streams{Stdout: &bytes.Buffer{}, Stderr: &stderr}); code != ExitInterrupted {
				t.Fatalf("exit %d, want %d:\n%s", code, ExitInterrupted, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr does not say it was interrupted:\n%s", stderr.String())
			}
		})
	}
}

func TestCampaignExit(t *testing.T) {
	lost := experiment.Result{RunID: "r", Outcomes: map[string]int{results.OutcomeLost: 1, results.OutcomeDurable: 2}}
	lostInterrupted := lost
	lostInterrupted.Interrupted = true
	durable := experiment.Result{RunID: "r", Trials: 3, Outcomes: map[string]int{results.OutcomeDurable: 3}}
	interrupted := durable
	interrupted.Interrupted = true
	diskFull := errors.New("appending trial 3: no space left on device")
	tests := []struct {
		name    string
		res     experiment.Result
		err     error
		code    int
		mention []string
	}{
		{"clean", durable, nil, ExitOK, nil},
		{"lost", lost, nil, ExitViolation, []string{"1 acknowledged write(s) lost", "out.log"}},
		{"lost, then the log failed", lost, diskFull, ExitViolation, []string{"lost", "no space left"}},
		{"lost and interrupted", lostInterrupted, nil, ExitViolation, []string{"lost"}},
		{"interrupted", interrupted, nil, ExitInterrupted, []string{"interrupted after 3"}},
		{"target failed", durable, fmt.Errorf("settling: %w", experiment.ErrTarget), ExitUsage, []string{"settling"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := campaignExit(tt.res, tt.err, "out.log")
			code := ExitOK
			var exit *ExitError
			switch {
			case errors.As(err, &exit):
				code = exit.Code
			case err != nil:
				code = -1
			}
			if code != tt.code {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.code)
			}
			for _, m := range tt.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

// TestControlDataLossOnRealStore runs the positive control on the real
// embedded store: every node is killed and restarted on empty data dirs
// after the ack, so the write is gone by construction. The whole detection
// path must see it: the trial is lost, the run exits 1, and the analyzer
// reports the loss and exits 1 too.
func TestControlDataLossOnRealStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Atomix Raft store")
	}
	out := filepath.Join(t.TempDir(), "control.log")
	var stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := Run(ctx, []string{"run", "--target", "local", "--scenarios", "immediate,control-data-loss", "--out", out},
		Streams{Stdout: &bytes.Buffer{}, Stderr: &stderr})
	if code != ExitViolation {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitViolation, stderr.String())
	}
	want := []string{"run", "trial:durable", "trial:durable", "trial:durable", "trial:lost", "summary"}
	if got := recordTypes(t, out); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("records %v, want %v", got, want)
	}
	readRecords(t, out, func(rec results.Record) {
		if tr := rec.Trial; tr != nil && tr.Scenario == experiment.ControlDataLoss {
			if tr.Fault != results.FaultWipeAll || tr.Write.Status != results.WriteOK || tr.Verify.Status != results.VerifyMissing {
				t.Errorf("control trial: fault %q write %s verify %s (%s)", tr.Fault, tr.Write.Status, tr.Verify.Status, tr.Error)
			}
		}
		if s := rec.Summary; s != nil && (s.FinalRead == nil || s.FinalRead.Keys != 0) {
			t.Errorf("summary final read %+v: keys written before the wipe are lost by construction and not re-read", s.FinalRead)
		}
	})
	var report, aerr bytes.Buffer
	if code := Run(ctx, []string{"analyze", out}, Streams{Stdout: &report, Stderr: &aerr}); code != ExitViolation {
		t.Fatalf("analyze exit %d, want %d:\n%s", code, ExitViolation, aerr.String())
	}
	if !strings.Contains(report.String(), "Positive control:       1 trial, 1 lost — detection works") {
		t.Errorf("the report does not show the control's loss:\n%s", report.String())
	}
}

func TestRestartDelayFlag(t *testing.T) {
	tests := []struct {
		value   string
		fixed   bool
		delay   time.Duration
		printed string
		bad     bool
	}{
		{"after-new-leader", false, 0, "after-new-leader", false},
		{"3s", true, 3 * time.Second, "3s", false},
		{"0", true, 0, "0s", false},
		{"soon", false, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			p := local.DefaultRestartPolicy()
			f := &restartDelay{&p}
			err := f.Set(tt.value)
			if (err != nil) != tt.bad {
				t.Fatalf("Set(%q): %v", tt.value, err)
			}
			if tt.bad {
				return
			}
			if p.Fixed != tt.fixed || p.Delay != tt.delay || f.String() != tt.printed {
				t.Errorf("policy %+v printed %q, want fixed %v delay %s printed %q", p, f.String(), tt.fixed, tt.delay, tt.printed)
			}
		})
	}
}

// TestWorkloadOnRealStore runs kill-under-load and then the positive
// control under the workload on the real embedded store: the histories of
// the kills check linearizable unless a read was stale (the checker's
// negative control on a real history), and the wipe's is a violation naming the write-once keys it
// wrote that the final read missed; every write acknowledged before the
// wipe is counted lost in the control trial, with its age at the wipe.
func TestWorkloadOnRealStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Atomix Raft store")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "load.log")
	var stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	code := Run(ctx, []string{"run", "--target", "local", "--scenarios", "kill-under-load,control-data-loss", "--workload",
		"--clients", "4", "--rate", "200", "--out", out}, Streams{Stdout: &bytes.Buffer{}, Stderr: &stderr})
	if code != ExitViolation {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitViolation, stderr.String())
	}
	var header *results.Run
	var checks []results.Check
	readRecords(t, out, func(rec results.Record) {
		if rec.Run != nil {
			header = rec.Run
		}
		if rec.Check != nil {
			checks = append(checks, *rec.Check)
		}
	})
	if header == nil || header.History == "" {
		t.Fatalf("run header %+v: want the history named", header)
	}
	if _, err := os.Stat(filepath.Join(dir, header.History)); err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(checks) != 4 {
		t.Fatalf("%d check records, want 4", len(checks))
	}
	// Atomix's Get is not linearizable across a leader change (README,
	// "Failover under load"): a trial whose reads the stale-read detector
	// caught is a genuine violation. Without a stale read, a violation would
	// be the checker's false alarm.
	for _, c := range checks[:3] {
		genuine := c.Verdict == results.VerdictViolation && c.StaleReads > 0
		if (c.Verdict != results.VerdictLinearizable && !genuine) || c.Ops == 0 || len(c.LostWrites) != 0 {
			t.Errorf("kill-under-load trial %d: %+v, want linearizable (or a violation with stale reads) with operations", c.Trial, c)
		}
		if genuine {
			t.Logf("kill-under-load trial %d: %d stale reads, violating keys %v (the store's, not the checker's)", c.Trial, c.StaleReads, c.Violations)
		}
	}
	control := checks[3]
	if control.Verdict != results.VerdictViolation || len(control.LostWrites) == 0 || control.Visualization == "" {
		t.Fatalf("control trial: %+v, want a violation with lost writes and a visualization", control)
	}
	violating := map[string]bool{}
	for _, k := range control.Violations {
		violating[k] = true
	}
	named := 0
	for _, w := range control.LostWrites {
		if w.AgeNS == nil || *w.AgeNS < 0 {
			t.Errorf("lost write %s: age %v, want the time from its ack to the wipe", w.Key, w.AgeNS)
		}
		if violating[w.Key] {
			named++
		}
	}
	if named == 0 {
		t.Errorf("no lost write among the violating keys of the control trial (%d lost, %d violating)", len(control.LostWrites), len(control.Violations))
	}
}

func readRecords(t *testing.T, path string, fn func(results.Record)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rd := results.NewReader(f)
	for {
		rec, err := rd.Next()
		if err != nil {
			break
		}
		fn(rec)
	}
	if rd.WarningCount() > 0 {
		t.Errorf("results log warnings: %v", rd.Warnings())
	}
}
