// Package clustertest is the contract every cluster.Target passes: Run
// drives one running target through what the interface's doc comments
// promise — its view of the leaders, refusals, a dry run, calls on an ended
// context, one leader kill with the election and the restart that follow,
// health, the data path and Close — each promise a subtest.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// Harness is a running target and what the suite needs beyond the interface.
type Harness struct {
	// Target is the target under test, started and healthy; Run closes it.
	Target cluster.Target
	// Name is what Info().Target must say.
	Name string
	// Running returns the UID (as cluster.Member.UID spells it) of every
	// member process or pod that runs now, read from beneath the target
	// rather than through it: a kill removes one, a restart adds another.
	Running func() []string
	// NoDataPath, when not empty, says why Map cannot reach a store: the
	// checks of Map are then logged as not run, not passed.
	NoDataPath string
	// Timeout bounds each step that waits for the store: an election, a
	// restart, health (0: 30 s).
	Timeout time.Duration
}

// prompt is how soon a call on an ended context, or a refusal, must return.
const prompt = 2 * time.Second

// minLeaderAge is what the health check after the kill asks of the new leader.
const minLeaderAge = 100 * time.Millisecond

// Run checks the contract on h's target, one subtest per promise. It kills
// one leader, the leader of partition 1, and waits for its restart.
func Run(t *testing.T, h Harness) {
	if h.Timeout <= 0 {
		h.Timeout = 30 * time.Second
	}
	c := &contract{Harness: h, info: h.Target.Info()}
	closed := false
	defer func() {
		if !closed {
			_ = h.Target.Close()
		}
	}()
	if !t.Run("healthy at start", c.healthyAtStart) {
		return
	}
	t.Run("info", c.checkInfo)
	t.Run("leaders", c.leaders)
	t.Run("partition out of range", c.outOfRange)
	t.Run("wait for the current leader", c.waitCurrent)
	t.Run("plan kill", c.planKill)
	t.Run("ended context", c.endedContext)
	if t.Run("kill leader", c.killLeader) {
		// Right after the kill, while its partition elects a new leader.
		t.Run("kill refused during the election", c.refusedDuringElection)
		// Healthy only once the victim runs again, which Restored then reports.
		if t.Run("new leader", c.newLeader) && t.Run("healthy after the kill", c.healthyAfterKill) {
			t.Run("restored", c.restored)
		}
	}
	if h.NoDataPath != "" {
		t.Logf("map round trip not checked: %s", h.NoDataPath)
	} else {
		t.Run("map round trip", c.mapRoundTrip)
	}
	closed = true
	t.Run("close", c.close)
}

// contract is one run of the suite: the harness and what the steps learn.
type contract struct {
	Harness
	info cluster.Info
	// kill is the kill of the "kill leader" step.
	kill cluster.Kill
}

// ctx is a context bounded by the harness's Timeout, for one step.
func (c *contract) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// running is the set of member UIDs that run now.
func (c *contract) running() map[string]bool {
	out := map[string]bool{}
	for _, uid := range c.Running() {
		out[uid] = true
	}
	return out
}

// checkNoneGone fails t when a member that ran before (and is not spared)
// no longer runs: something was killed.
func checkNoneGone(t *testing.T, what string, before, after map[string]bool, spared string) {
	t.Helper()
	for uid := range before {
		if !after[uid] && uid != spared {
			t.Errorf("%s: member %s no longer runs (running before %v, after %v)", what, uid, keys(before), keys(after))
		}
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// members is the leader and the followers of l.
func members(l cluster.Leadership) []cluster.Member {
	return append([]cluster.Member{l.Leader}, l.Followers...)
}

// sameLeader fails t unless a and b name the same leader of the same partition in the same term.
func sameLeader(t *testing.T, what string, a, b cluster.Leadership) {
	t.Helper()
	if a.Partition != b.Partition || a.Term != b.Term || a.Leader.ID != b.Leader.ID || a.Leader.UID != b.Leader.UID {
		t.Errorf("%s: partition %d leader %s (uid %s) in term %d, want partition %d leader %s (uid %s) in term %d",
			what, a.Partition, a.Leader, a.Leader.UID, a.Term, b.Partition, b.Leader, b.Leader.UID, b.Term)
	}
}

// checkHealth checks what WaitHealthy promises of a healthy store: every
// partition, in order, has a leader, and every member runs.
func (c *contract) checkHealth(t *testing.T, h cluster.Health) {
	t.Helper()
	if h.At.IsZero() {
		t.Error("Health.At is zero")
	}
	if len(h.Leaders) != c.info.Partitions {
		t.Fatalf("Health.Leaders has %d partitions, want %d", len(h.Leaders), c.info.Partitions)
	}
	running := c.running()
	for i, l := range h.Leaders {
		if l.Partition != i+1 {
			t.Errorf("Health.Leaders[%d] is partition %d, want %d", i, l.Partition, i+1)
		}
		if !l.HasLeader() {
			t.Errorf("healthy, but partition %d has no leader (term %d)", l.Partition, l.Term)
		}
		for _, m := range members(l) {
			if !running[m.UID] {
				t.Errorf("healthy, but member %s (uid %q) of partition %d does not run (running: %v)", m, m.UID, l.Partition, keys(running))
			}
		}
	}
}

func (c *contract) healthyAtStart(t *testing.T) {
	h, err := c.Target.WaitHealthy(c.ctx(t), cluster.HealthSpec{})
	if err != nil {
		t.Fatalf("WaitHealthy: %v", err)
	}
	c.checkHealth(t, h)
}

func (c *contract) checkInfo(t *testing.T) {
	i := c.info
	if i.Target != c.Name {
		t.Errorf("Info().Target = %q, want %q", i.Target, c.Name)
	}
	if i.Store == "" {
		t.Error("Info().Store is empty")
	}
	if i.Partitions < 1 || i.Replicas < 1 {
		t.Errorf("Info() has %d partitions of %d replicas, want at least 1 of 1", i.Partitions, i.Replicas)
	}
}

func (c *contract) leaders(t *testing.T) {
	ctx := c.ctx(t)
	ls, err := c.Target.Leaders(ctx)
	if err != nil {
		t.Fatalf("Leaders: %v", err)
	}
	if len(ls) != c.info.Partitions {
		t.Fatalf("Leaders returned %d partitions, want %d", len(ls), c.info.Partitions)
	}
	for i, l := range ls {
		if l.Partition != i+1 {
			t.Errorf("Leaders()[%d] is partition %d, want %d", i, l.Partition, i+1)
		}
		if !l.HasLeader() || l.Term == 0 || l.Leader.UID == "" {
			t.Errorf("partition %d: leader %s (uid %q) in term %d, want a running leader in a term > 0", l.Partition, l.Leader, l.Leader.UID, l.Term)
		}
		if len(l.Followers) != c.info.Replicas-1 {
			t.Errorf("partition %d: %d followers %v, want %d", l.Partition, len(l.Followers), l.Followers, c.info.Replicas-1)
		}
		ids := map[uint64]bool{}
		for _, m := range members(l) {
			if m.ID == 0 || ids[m.ID] {
				t.Errorf("partition %d: member ID %d missing or repeated among %v", l.Partition, m.ID, members(l))
			}
			ids[m.ID] = true
		}
		one, err := c.Target.Leader(ctx, l.Partition)
		if err != nil {
			t.Errorf("Leader(%d): %v", l.Partition, err)
			continue
		}
		sameLeader(t, fmt.Sprintf("Leader(%d) against Leaders", l.Partition), one, l)
	}
}

func (c *contract) outOfRange(t *testing.T) {
	calls := []struct {
		name string
		call func(ctx context.Context, p int) error
	}{
		{"Leader", func(ctx context.Context, p int) error { _, err := c.Target.Leader(ctx, p); return err }},
		{"WaitForLeader", func(ctx context.Context, p int) error { _, err := c.Target.WaitForLeader(ctx, p, 0); return err }},
		{"PlanKill", func(ctx context.Context, p int) error { _, err := c.Target.PlanKill(ctx, p); return err }},
		{"KillLeader", func(ctx context.Context, p int) error { _, err := c.Target.KillLeader(ctx, p); return err }},
	}
	for _, p := range []int{0, c.info.Partitions + 1} {
		for _, tc := range calls {
			t.Run(fmt.Sprintf("%s(%d)", tc.name, p), func(t *testing.T) {
				ctx := c.ctx(t)
				before := c.running()
				start := time.Now()
				err := tc.call(ctx, p)
				took := time.Since(start)
				if err == nil {
					t.Fatalf("partition %d of %d accepted", p, c.info.Partitions)
				}
				if took > prompt {
					t.Errorf("refused after %s (%v), want at once", took, err)
				}
				checkNoneGone(t, "after the refusal", before, c.running(), "")
			})
		}
	}
}

func (c *contract) waitCurrent(t *testing.T) {
	ctx := c.ctx(t)
	for p := 1; p <= c.info.Partitions; p++ {
		l, err := c.Target.Leader(ctx, p)
		if err != nil {
			t.Fatalf("Leader(%d): %v", p, err)
		}
		start := time.Now()
		w, err := c.Target.WaitForLeader(ctx, p, 0)
		if err != nil {
			t.Fatalf("WaitForLeader(%d, 0): %v", p, err)
		}
		if took := time.Since(start); took > prompt {
			t.Errorf("WaitForLeader(%d, 0) took %s with a leader in office", p, took)
		}
		sameLeader(t, fmt.Sprintf("WaitForLeader(%d, 0) against Leader", p), w, l)
	}
}

func (c *contract) planKill(t *testing.T) {
	ctx := c.ctx(t)
	before, err := c.Target.Leaders(ctx)
	if err != nil {
		t.Fatalf("Leaders: %v", err)
	}
	running := c.running()
	for _, l := range before {
		plan, err := c.Target.PlanKill(ctx, l.Partition)
		if err != nil {
			t.Errorf("PlanKill(%d): %v", l.Partition, err)
			continue
		}
		sameLeader(t, fmt.Sprintf("PlanKill(%d) against Leaders", l.Partition), plan, l)
	}
	after, err := c.Target.Leaders(ctx)
	if err != nil {
		t.Fatalf("Leaders: %v", err)
	}
	for i := range after {
		sameLeader(t, fmt.Sprintf("partition %d after the dry runs", i+1), after[i], before[i])
	}
	checkNoneGone(t, "after the dry runs", running, c.running(), "")
}

// ctxCall is one call of a method that takes a context.
type ctxCall struct {
	name string
	// waits: the call, made in endedContext's state, waits for something
	// that does not happen until its context ends.
	waits bool
	call  func(ctx context.Context) error
}

// waitFor is the deadline of the calls that must wait it out.
const waitFor = 200 * time.Millisecond

// endedContext calls every method that takes a context, with an already
// cancelled context and with one whose deadline has passed: each must
// return its context's error at once and kill nothing. The methods that
// wait are called where they would wait — no leader after the current term,
// a leader that has not led for a day, a "victim" that still runs as the
// same incarnation — and, with a live deadline, must wait it out.
func (c *contract) endedContext(t *testing.T) {
	l, err := c.Target.Leader(c.ctx(t), 1)
	if err != nil {
		t.Fatalf("Leader(1): %v", err)
	}
	calls := []ctxCall{
		{"Leaders", false, func(ctx context.Context) error { _, err := c.Target.Leaders(ctx); return err }},
		{"Leader", false, func(ctx context.Context) error { _, err := c.Target.Leader(ctx, 1); return err }},
		{"WaitForLeader", true, func(ctx context.Context) error { _, err := c.Target.WaitForLeader(ctx, 1, l.Term); return err }},
		{"PlanKill", false, func(ctx context.Context) error { _, err := c.Target.PlanKill(ctx, 1); return err }},
		{"KillLeader", false, func(ctx context.Context) error { _, err := c.Target.KillLeader(ctx, 1); return err }},
		{"WaitHealthy", true, func(ctx context.Context) error {
			_, err := c.Target.WaitHealthy(ctx, cluster.HealthSpec{Partition: 1, MinLeaderAge: 24 * time.Hour})
			return err
		}},
		{"Restored", true, func(ctx context.Context) error {
			_, err := c.Target.Restored(ctx, cluster.Kill{Partition: 1, Victim: l.Leader, Term: l.Term, SentAt: time.Now(), DoneAt: time.Now()})
			return err
		}},
	}
	if c.NoDataPath == "" {
		calls = append(calls, ctxCall{"Map", false, func(ctx context.Context) error {
			m, err := c.Target.Map(ctx, "clustertest")
			if err == nil {
				_ = m.Close(context.Background())
			}
			return err
		}})
	}
	contexts := []struct {
		name string
		// live: the deadline is waitFor away, and only calls that wait are made.
		live bool
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"cancelled", false, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}},
		{"expired", false, func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}},
		{"live deadline", true, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), waitFor)
		}},
	}
	for _, cx := range contexts {
		for _, tc := range calls {
			if cx.live && !tc.waits {
				continue
			}
			t.Run(cx.name+"/"+tc.name, func(t *testing.T) {
				ctx, cancel := cx.ctx()
				defer cancel()
				before := c.running()
				start := time.Now()
				err := tc.call(ctx)
				took := time.Since(start)
				checkNoneGone(t, tc.name+" on a "+cx.name+" context", before, c.running(), "")
				switch {
				case err == nil:
					t.Errorf("%s on a %s context succeeded", tc.name, cx.name)
				case ctx.Err() == nil:
					t.Errorf("%s returned %v after %s, before its deadline", tc.name, err, took)
				case !errors.Is(err, ctx.Err()):
					t.Errorf("%s on a %s context: %v, want it to wrap %v", tc.name, cx.name, err, ctx.Err())
				}
				if bound := map[bool]time.Duration{false: prompt, true: waitFor + prompt}[cx.live]; took > bound {
					t.Errorf("%s on a %s context returned after %s", tc.name, cx.name, took)
				}
			})
		}
	}
}

func (c *contract) killLeader(t *testing.T) {
	const p = 1
	ctx := c.ctx(t)
	before, err := c.Target.Leaders(ctx)
	if err != nil {
		t.Fatalf("Leaders: %v", err)
	}
	l := before[p-1]
	if _, err := c.Target.PlanKill(ctx, p); err != nil {
		t.Fatalf("PlanKill(%d): %v", p, err)
	}
	running := c.running()
	k, err := c.Target.KillLeader(ctx, p)
	if err != nil {
		t.Fatalf("KillLeader(%d): %v", p, err)
	}
	c.kill = k
	if k.Partition != p || k.Victim.ID != l.Leader.ID || k.Victim.UID != l.Leader.UID || k.Term != l.Term {
		t.Errorf("killed %s (uid %s) of partition %d in term %d, the leader was %s (uid %s) in term %d",
			k.Victim, k.Victim.UID, k.Partition, k.Term, l.Leader, l.Leader.UID, l.Term)
	}
	if k.Unconfirmed != nil || k.SentAt.IsZero() || k.DoneAt.IsZero() || k.DoneAt.Before(k.SentAt) {
		t.Errorf("kill sent at %v, done at %v (unconfirmed: %v), want sent ≤ done", k.SentAt, k.DoneAt, k.Unconfirmed)
	}
	if k.Led[p] != k.Term {
		t.Errorf("Kill.Led = %v, want partition %d in term %d", k.Led, p, k.Term)
	}
	for _, b := range before {
		led := b.Leader.UID == k.Victim.UID
		if term, ok := k.Led[b.Partition]; ok != led || (ok && term != b.Term) {
			t.Errorf("Kill.Led = %v; before the kill partition %d was led by %s (uid %s) in term %d", k.Led, b.Partition, b.Leader, b.Leader.UID, b.Term)
		}
	}
	after := c.running()
	if after[k.Victim.UID] {
		t.Errorf("the victim %s (uid %s) still runs after a confirmed kill", k.Victim, k.Victim.UID)
	}
	checkNoneGone(t, "after the kill", running, after, k.Victim.UID)
}

// refusedDuringElection asks for a kill of the partition whose leader was
// just killed: it has none until its election ends, and the target must
// refuse without killing anything.
func (c *contract) refusedDuringElection(t *testing.T) {
	p := c.kill.Partition
	ctx := c.ctx(t)
	before := c.running()
	_, perr := c.Target.PlanKill(ctx, p)
	k, err := c.Target.KillLeader(ctx, p)
	for _, r := range []struct {
		name string
		err  error
	}{{"PlanKill", perr}, {"KillLeader", err}} {
		switch {
		case r.err == nil:
			t.Errorf("%s(%d) right after the kill of its leader succeeded: either the election ended at once, or a member that is not a verified leader was accepted", r.name, p)
		case !errors.Is(r.err, cluster.ErrNoLeader) && !errors.Is(r.err, cluster.ErrNotLeader) && !errors.Is(r.err, cluster.ErrNotMember):
			t.Errorf("%s(%d) right after the kill: %v, want ErrNoLeader, ErrNotLeader or ErrNotMember", r.name, p, r.err)
		}
	}
	if err == nil {
		t.Fatalf("killed %s too", k.Victim)
	}
	checkNoneGone(t, "after the refused kill", before, c.running(), "")
}

func (c *contract) newLeader(t *testing.T) {
	k := c.kill
	ctx := c.ctx(t)
	parts := make([]int, 0, len(k.Led))
	for q := range k.Led {
		parts = append(parts, q)
	}
	slices.Sort(parts)
	for _, q := range parts {
		l, err := c.Target.WaitForLeader(ctx, q, k.Led[q])
		if err != nil {
			t.Fatalf("WaitForLeader(%d, %d) after the kill: %v", q, k.Led[q], err)
		}
		if l.Partition != q || !l.HasLeader() || l.Term <= k.Led[q] {
			t.Errorf("WaitForLeader(%d, %d) = partition %d leader %s in term %d", q, k.Led[q], l.Partition, l.Leader, l.Term)
		}
		if l.Leader.UID == k.Victim.UID {
			t.Errorf("partition %d: the new leader is the killed incarnation %s (uid %s)", q, l.Leader, l.Leader.UID)
		}
		if l.ObservedAt.Before(k.SentAt) {
			t.Errorf("partition %d: the new leadership was observed %s before the kill", q, k.SentAt.Sub(l.ObservedAt))
		}
	}
}

func (c *contract) restored(t *testing.T) {
	k := c.kill
	ctx := c.ctx(t)
	r, err := c.Target.Restored(ctx, k)
	if err != nil {
		t.Fatalf("Restored: %v", err)
	}
	if r.Back.IsZero() || r.Back.Before(k.SentAt) || (!r.Began.IsZero() && (r.Began.Before(k.SentAt) || r.Back.Before(r.Began))) {
		t.Errorf("restart began %v and was back %v after the kill; want kill ≤ began ≤ back (began may be unknown)",
			r.Began.Sub(k.SentAt), r.Back.Sub(k.SentAt))
	}
	ls, err := c.Target.Leaders(ctx)
	if err != nil {
		t.Fatalf("Leaders: %v", err)
	}
	l := ls[k.Partition-1]
	running := c.running()
	i := slices.IndexFunc(members(l), func(m cluster.Member) bool { return m.ID == k.Victim.ID })
	if i < 0 {
		t.Fatalf("member %d is no longer a member of partition %d: %v", k.Victim.ID, k.Partition, members(l))
	}
	if m := members(l)[i]; m.UID == "" || m.UID == k.Victim.UID || !running[m.UID] {
		t.Errorf("restored, but member %d runs as uid %q (killed: %s; running: %v), want a new incarnation", m.ID, m.UID, k.Victim.UID, keys(running))
	}
}

func (c *contract) healthyAfterKill(t *testing.T) {
	h, err := c.Target.WaitHealthy(c.ctx(t), cluster.HealthSpec{Partition: c.kill.Partition, MinLeaderAge: minLeaderAge})
	if err != nil {
		t.Fatalf("WaitHealthy after the kill: %v", err)
	}
	c.checkHealth(t, h)
	if h.LeaderAge < minLeaderAge {
		t.Errorf("healthy with partition %d's leader in office for %s, less than %s", c.kill.Partition, h.LeaderAge, minLeaderAge)
	}
}

func (c *contract) mapRoundTrip(t *testing.T) {
	ctx := c.ctx(t)
	m, err := c.Target.Map(ctx, "clustertest")
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	key := fmt.Sprintf("clustertest-%d", time.Now().UnixNano())
	if _, err := m.Put(ctx, key, "v-"+key); err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
	e, err := m.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	if e.Value != "v-"+key {
		t.Errorf("Get %s = %q, want %q", key, e.Value, "v-"+key)
	}
	if err := m.Close(ctx); err != nil {
		t.Errorf("closing the map: %v", err)
	}
}

func (c *contract) close(t *testing.T) {
	if err := c.Target.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := c.Target.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
