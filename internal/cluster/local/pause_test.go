package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// TestPausedLeaderTracker checks that a paused leader's last report, which
// stays in the tracker while the process lives, never hides its successor.
func TestPausedLeaderTracker(t *testing.T) {
	steady := []leaderEvent{{Group: 1, Reporter: 3, Term: 2, Leader: 3}, {Group: 1, Reporter: 1, Term: 2, Leader: 3}, {Group: 1, Reporter: 2, Term: 2, Leader: 3}}
	tests := []struct {
		name       string
		events     []leaderEvent
		wantTerm   uint64
		wantLeader uint64
	}{
		{
			name:     "the survivors' campaign leaves the paused leader named",
			events:   []leaderEvent{{Group: 1, Reporter: 1, Term: 3}, {Group: 1, Reporter: 2, Term: 3}},
			wantTerm: 2, wantLeader: 3,
		},
		{
			name: "a new leader in a higher term hides the paused leader's stale self-report",
			events: []leaderEvent{
				{Group: 1, Reporter: 1, Term: 3}, {Group: 1, Reporter: 2, Term: 3},
				{Group: 1, Reporter: 1, Term: 3, Leader: 1},
			},
			wantTerm: 3, wantLeader: 1,
		},
		{
			name: "a voter's claim holds once the new leader names itself, whatever the order",
			events: []leaderEvent{
				{Group: 1, Reporter: 1, Term: 3}, {Group: 1, Reporter: 2, Term: 3, Leader: 1},
				{Group: 1, Reporter: 1, Term: 3, Leader: 1},
			},
			wantTerm: 3, wantLeader: 1,
		},
		{
			name: "the resumed leader steps down to the new term",
			events: []leaderEvent{
				{Group: 1, Reporter: 1, Term: 3, Leader: 1}, {Group: 1, Reporter: 2, Term: 3, Leader: 1},
				{Group: 1, Reporter: 3, Term: 3}, {Group: 1, Reporter: 3, Term: 3, Leader: 1},
			},
			wantTerm: 3, wantLeader: 1,
		},
		{
			name: "the resumed leader's delayed claim of its old term is ignored",
			events: []leaderEvent{
				{Group: 1, Reporter: 1, Term: 3, Leader: 1}, {Group: 1, Reporter: 3, Term: 3, Leader: 1},
				{Group: 1, Reporter: 3, Term: 2, Leader: 3},
			},
			wantTerm: 3, wantLeader: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker(1)
			for _, e := range append(slices.Clone(steady), tt.events...) {
				tr.apply(e)
			}
			g, _ := tr.get(1)
			if g.Term != tt.wantTerm || g.Leader != tt.wantLeader {
				t.Errorf("term %d leader %d, want term %d leader %d", g.Term, g.Leader, tt.wantTerm, tt.wantLeader)
			}
		})
	}
}

// TestPauseLeader pauses a real leader past the election timeout: the
// others elect a new leader while the paused process lives, stopped; once
// resumed it steps down to the new term, the store is healthy again, and a
// write acknowledged before the pause reads back.
func TestPauseLeader(t *testing.T) {
	// Longer than two election rounds (1–2 s each at default timings), so that a split vote does not fail the test.
	const partition, pause = 1, 6 * time.Second
	ctx, s := startPauseStore(t)
	m, err := s.Map(ctx, "pause")
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	key := keyFor(t, "before-pause", partition, s.cfg.Partitions)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = m.Put(wctx, key, "kept")
	wcancel()
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	before := healthyLeader(ctx, t, s, partition)
	pid := before.Leader.PID

	began := time.Now()
	done := pauseAsync(ctx, t, s, partition, pause)
	awaitProcState(t, pid, time.Second, "stopped", isStopped)
	lctx, lcancel := context.WithDeadline(ctx, began.Add(pause))
	after, err := s.WaitForLeader(lctx, partition, before.Term)
	lcancel()
	if err != nil {
		t.Fatalf("no new leader during the pause: %v", err)
	}
	if _, state, ok := procStat(pid); !ok || state != "T" {
		t.Errorf("paused pid %d during the pause: state %q (exists %v), want T", pid, state, ok)
	}
	if !slices.Contains(s.PIDs(), pid) {
		t.Errorf("paused pid %d is not among the live nodes %v", pid, s.PIDs())
	}

	r := awaitPause(t, done, pause+5*time.Second)
	if r.err != nil {
		t.Fatalf("PauseLeader: %v", r.err)
	}
	pz := r.pz
	checkPause(t, pz, before, pause)
	if after.Leader.ID == pz.Victim.ID || !after.ObservedAt.After(pz.SentAt) || !after.ObservedAt.Before(pz.EndedAt) {
		t.Errorf("new leader %s in term %d observed %s after the pause (resumed after %s)", after.Leader, after.Term,
			after.ObservedAt.Sub(pz.SentAt), pz.EndedAt.Sub(pz.SentAt))
	}
	awaitProcState(t, pid, time.Second, "running", isRunning)
	down, err := awaitStepDown(ctx, s, partition, pz.Victim.ID, after.Term)
	if err != nil {
		t.Fatalf("the resumed leader's report: %v", err)
	}
	t.Logf("paused %s in term %d; new leader %s in term %d observed %s after the pause; resumed after %s; its own report of term %d (leader %d) %s after the resume",
		pz.Victim, pz.Term, after.Leader, after.Term, after.ObservedAt.Sub(pz.SentAt).Round(time.Millisecond),
		pz.EndedAt.Sub(pz.SentAt).Round(time.Millisecond), down.Term, down.Leader, down.At.Sub(pz.EndedAt).Round(time.Millisecond))

	hctx, hcancel := context.WithTimeout(ctx, 60*time.Second)
	_, err = s.WaitHealthy(hctx, cluster.HealthSpec{})
	hcancel()
	if err != nil {
		t.Fatalf("after the resume: %v", err)
	}
	if got := readBack(ctx, t, m, key); got != "kept" {
		t.Errorf("read %q after the pause, want %q", got, "kept")
	}
}

// TestPauseLeaderCancel checks that ending ctx during a long pause resumes
// the node at once.
func TestPauseLeaderCancel(t *testing.T) {
	const partition = 2
	ctx, s := startPauseStore(t)
	before := healthyLeader(ctx, t, s, partition)
	pid := before.Leader.PID
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := pauseAsync(pctx, t, s, partition, time.Minute)
	awaitProcState(t, pid, time.Second, "stopped", isStopped)
	cancelled := time.Now()
	cancel()
	r := awaitPause(t, done, 5*time.Second)
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("PauseLeader after cancel: %v, want context.Canceled", r.err)
	}
	if r.pz.EndedAt.IsZero() || r.pz.EndedAt.Sub(cancelled) > time.Second {
		t.Errorf("resumed %s after the cancel, want at once", r.pz.EndedAt.Sub(cancelled))
	}
	if r.pz.Victim.ID != before.Leader.ID || r.pz.Victim.PID != pid {
		t.Errorf("paused %s, want %s", r.pz.Victim, before.Leader)
	}
	awaitProcState(t, pid, time.Second, "running", isRunning)
	t.Logf("cancelled after %s of a 1m pause; resumed %s after the cancel", cancelled.Sub(r.pz.SentAt).Round(time.Millisecond),
		r.pz.EndedAt.Sub(cancelled))
}

// TestPauseLeaderRefuses feeds the tracker false claims and checks that
// PauseLeader refuses them, returning at once, without stopping any node.
func TestPauseLeaderRefuses(t *testing.T) {
	const partition = 3
	ctx, s := startPauseStore(t)
	l := healthyLeader(ctx, t, s, partition)
	follower := l.Followers[0].ID
	pids := s.PIDs()
	tests := []struct {
		name      string
		partition int
		d         time.Duration
		claims    []leaderEvent
		want      error
	}{
		{name: "no such partition", partition: 9, d: time.Minute},
		{name: "no duration", partition: partition},
		{
			name: "leader unknown", partition: partition, d: time.Minute,
			claims: []leaderEvent{{Reporter: l.Leader.ID, Term: l.Term + 100}},
			want:   cluster.ErrNoLeader,
		},
		{
			name: "follower impostor", partition: partition, d: time.Minute,
			claims: []leaderEvent{{Reporter: follower, Term: l.Term + 200, Leader: follower}},
			want:   cluster.ErrNotLeader,
		},
		{
			name: "not a member", partition: partition, d: time.Minute,
			claims: []leaderEvent{{Reporter: follower, Term: l.Term + 300, Leader: 9}},
			want:   cluster.ErrNotMember,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range tt.claims {
				e.Group, e.At = partition, time.Now()
				s.tracker.apply(e)
			}
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			began := time.Now()
			pz, err := s.PauseLeader(pctx, tt.partition, tt.d, nil)
			cancel()
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("PauseLeader: %v, want a refusal (%v)", err, tt.want)
			}
			t.Logf("refused: %v", err)
			if !pz.SentAt.IsZero() || time.Since(began) > 3*time.Second {
				t.Errorf("refused after %s with a pause sent at %v", time.Since(began), pz.SentAt)
			}
			for _, pid := range pids {
				if _, state, ok := procStat(pid); !ok || state == "T" {
					t.Errorf("node pid %d: state %q (exists %v) after a refusal", pid, state, ok)
				}
			}
		})
	}
	if got := s.PIDs(); !slices.Equal(got, pids) {
		t.Errorf("node pids %v after the refusals, want %v", got, pids)
	}
}

// TestPauseLeaderClose closes the store during a pause: the pause ends at
// once and no node, stopped or not, survives or holds Close up.
func TestPauseLeaderClose(t *testing.T) {
	const partition = 1
	ctx, s := startPauseStore(t)
	before := healthyLeader(ctx, t, s, partition)
	pids := s.PIDs()
	done := pauseAsync(ctx, t, s, partition, time.Minute)
	awaitProcState(t, before.Leader.PID, time.Second, "stopped", isStopped)
	began := time.Now()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	took := time.Since(began)
	r := awaitPause(t, done, 5*time.Second)
	if r.err == nil || r.pz.SentAt.IsZero() {
		t.Errorf("PauseLeader during Close: %+v, %v; want the pause with an error", r.pz, r.err)
	}
	if took >= 2*time.Second {
		t.Errorf("Close took %s during a pause, want less than the 2s grace", took)
	}
	for _, pid := range pids {
		if !dead(pid) {
			t.Errorf("node pid %d survived Close", pid)
		}
	}
	t.Logf("Close during the pause took %s", took.Round(time.Millisecond))
}

// TestPausedProcessStop checks that stop ends a stopped process without
// waiting for the grace period.
func TestPausedProcessStop(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, pid: cmd.Process.Pid, started: time.Now(), done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	defer p.kill()
	if err := p.signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	awaitProcState(t, p.pid, time.Second, "stopped", isStopped)
	began := time.Now()
	p.stop(5 * time.Second)
	if took := time.Since(began); took > time.Second {
		t.Errorf("stop of a stopped process took %s, want it resumed and ended at once", took)
	}
	if err := p.signal(syscall.SIGCONT); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("signal after stop: %v, want os.ErrProcessDone", err)
	}
}

func startPauseStore(t *testing.T) (context.Context, *Store) {
	t.Helper()
	return startTestStore(t, DefaultConfig(), 2*time.Minute)
}

// startTestStore starts a store with cfg, logging to t, and a context of
// the given timeout; both end with the test.
func startTestStore(t *testing.T, cfg Config, timeout time.Duration) (context.Context, *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	s, err := Start(ctx, cfg, zaptest.NewLogger(t))
	if err != nil {
		cancel()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		cancel()
	})
	return ctx, s
}

// healthyLeader waits for a healthy store and returns the partition's leadership.
func healthyLeader(ctx context.Context, t *testing.T, s *Store, partition int) cluster.Leadership {
	t.Helper()
	hctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := s.WaitHealthy(hctx, cluster.HealthSpec{}); err != nil {
		t.Fatalf("before the pause: %v", err)
	}
	l, err := s.Leader(ctx, partition)
	if err != nil {
		t.Fatalf("Leader: %v", err)
	}
	return l
}

type pauseResult struct {
	pz  cluster.Disruption
	err error
}

// pauseAsync runs PauseLeader in the background; the test's cleanup, before
// the store's, cancels it and waits for its end.
func pauseAsync(ctx context.Context, t *testing.T, s *Store, partition int, d time.Duration) <-chan pauseResult {
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan pauseResult, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		pz, err := s.PauseLeader(pctx, partition, d, nil)
		done <- pauseResult{pz, err}
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	return done
}

func awaitPause(t *testing.T, done <-chan pauseResult, within time.Duration) pauseResult {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case r := <-done:
		return r
	case <-timer.C:
		t.Fatalf("PauseLeader has not returned after %s", within)
		return pauseResult{}
	}
}

func checkPause(t *testing.T, pz cluster.Disruption, before cluster.Leadership, d time.Duration) {
	t.Helper()
	if pz.Partition != before.Partition || pz.Victim.ID != before.Leader.ID || pz.Victim.PID != before.Leader.PID || pz.Term != before.Term {
		t.Errorf("paused %s of partition %d in term %d, want %s of partition %d in term %d",
			pz.Victim, pz.Partition, pz.Term, before.Leader, before.Partition, before.Term)
	}
	if held := pz.EndedAt.Sub(pz.SentAt); held < d || held > d+time.Second {
		t.Errorf("held paused for %s, want %s", held, d)
	}
	if pz.Led[pz.Partition] != pz.Term {
		t.Errorf("led %v, want partition %d in term %d", pz.Led, pz.Partition, pz.Term)
	}
}

func isStopped(state string) bool { return state == "T" }
func isRunning(state string) bool { return state != "T" && state != "Z" }

// awaitProcState polls /proc until pid's state satisfies ok, and fails the
// test when it does not within the deadline or the process is gone.
func awaitProcState(t *testing.T, pid int, within time.Duration, what string, ok func(state string) bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		_, state, exists := procStat(pid)
		if !exists {
			t.Fatalf("pid %d is gone, want it %s", pid, what)
		}
		if ok(state) {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("pid %d in state %s after %s, want it %s", pid, state, within, what)
		}
	}
}

// awaitStepDown waits until member's own report for partition is for term
// or later and names another leader (or none), and returns that report.
func awaitStepDown(ctx context.Context, s *Store, partition int, member, term uint64) (report, error) {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	view, err := s.tracker.waitFor(wctx, func(v map[int]groupState) bool {
		r := v[partition].Reports[member]
		return r.Term >= term && r.Leader != member
	})
	r := view[partition].Reports[member]
	if err != nil {
		return r, fmt.Errorf("member %d still reports leader %d in term %d, want term %d or later: %w", member, r.Leader, r.Term, term, err)
	}
	return r, nil
}
