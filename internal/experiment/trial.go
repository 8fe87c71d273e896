package experiment

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// errInterrupted is the error recorded on a trial abandoned because the campaign was stopped.
const errInterrupted = "interrupted"

type writeResult struct {
	at  time.Time
	err error
}

// clock holds one trial's monotonic clock readings; zero means absent.
type clock struct {
	start, writeStart, requestSent, writeAck, anchor, fired, deadline  time.Time
	killSent, killDone, newLeader, firstOK, verify, restart, back, end time.Time
	heal                                                               time.Time
}

func (c *clock) at(x time.Time) *int64 {
	if x.IsZero() {
		return nil
	}
	v := int64(x.Sub(c.start))
	return &v
}

func between(from, to time.Time) *int64 {
	if from.IsZero() || to.IsZero() {
		return nil
	}
	v := int64(to.Sub(from))
	return &v
}

// trial is one run of the trial protocol (DESIGN.md): each phase is a
// method, called in order by run; every phase records what it saw and
// leaves later phases to decide what that means.
type trial struct {
	r     *Runner
	m     *mapHolder
	load  *load
	plan  TrialPlan
	value string
	// waitVictim is false when the next trial starts back to back: the
	// victim's return is then recorded only if it already happened.
	waitVictim bool

	rec    results.Trial
	c      clock
	errs   []string
	before cluster.Leadership
	inj    Injection
	killed bool
	after  cluster.Leadership

	sends     <-chan cluster.Send
	stopSends func()
	writeDone chan writeResult
	wr        *writeResult
}

func (r *Runner) newTrial(m *mapHolder, runID string, plan TrialPlan, settle *settled, waitVictim bool) *trial {
	t := &trial{r: r, m: m, load: r.load, plan: plan, value: fmt.Sprintf("%s/%d", runID, plan.Trial), waitVictim: waitVictim}
	sha := plan.SHA256Partition
	t.rec = results.Trial{
		Type:            results.TypeTrial,
		RunID:           runID,
		Trial:           plan.Trial,
		Scenario:        plan.Scenario,
		DelayNS:         int64(plan.Step.Delay),
		Partition:       plan.Partition,
		Key:             plan.Key.Name,
		Value:           t.value,
		SHA256Partition: &sha,
		Anchor:          plan.Step.Anchor.String(),
		Fault:           plan.Step.fault(),
		BackToBack:      plan.Step.BackToBack,
	}
	if settle != nil {
		waited := int64(settle.waited)
		t.rec.SettleNS = &waited
		t.rec.SettleError = settle.err
	}
	return t
}

// run runs the protocol and returns the record and the kill (nil when
// nothing was killed). It always returns a record: a trial that cannot
// finish is inconclusive.
func (t *trial) run(ctx context.Context) (results.Trial, *cluster.Kill) {
	t.readLeader(ctx)
	t.startWrite(ctx)
	t.awaitKillMoment(ctx)
	t.inject(ctx)
	t.observeRecovery(ctx)
	t.finishWrite()
	t.verify(ctx)
	t.awaitVictim(ctx)
	t.finish(ctx)
	if !t.killed {
		return t.rec, nil
	}
	return t.rec, &t.inj.Kill
}

func (t *trial) fail(format string, args ...any) {
	t.errs = append(t.errs, fmt.Sprintf(format, args...))
}

// readLeader reads the partition's leader and term before the write.
func (t *trial) readLeader(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, t.r.Config.CallTimeout)
	defer cancel()
	var err error
	if t.before, err = t.r.Target.Leader(lctx, t.plan.Partition); err != nil {
		t.r.Log.Warn("reading the leader before the write", zap.Int("trial", t.plan.Trial), zap.Int("partition", t.plan.Partition), zap.Error(err))
	}
}

// startWrite issues the trial's Put in the background; for a kill timed
// from the write's start it first starts observing the request leave.
func (t *trial) startWrite(ctx context.Context) {
	t.c.start = time.Now()
	t.rec.StartedAt = t.c.start.UTC().Format(time.RFC3339Nano)
	if obs, ok := t.r.Target.(cluster.SendObserver); ok && t.plan.Step.Anchor == AfterWriteStart {
		t.sends, t.stopSends = obs.ObserveWrites(t.plan.Partition)
	}
	wctx, cancel := context.WithTimeout(ctx, t.r.Config.writeTimeout(t.plan.Step.Anchor))
	t.writeDone = make(chan writeResult, 1)
	m := t.m.get()
	t.c.writeStart = time.Now()
	go func() {
		defer cancel()
		_, err := m.Put(wctx, t.plan.Key.Name, t.value)
		t.writeDone <- writeResult{time.Now(), err}
	}()
}

// awaitWrite waits for the write to return, once.
func (t *trial) awaitWrite() {
	if t.wr == nil {
		w := <-t.writeDone
		t.wr = &w
	}
}

// awaitKillMoment waits until the planned kill moment: anchor + delay. An
// after-ack kill is anchored at the write's return. A kill anchored at the
// write's start also waits, where the target can tell, until the request
// has left the client for the leader, so that it cuts a request in flight.
func (t *trial) awaitKillMoment(ctx context.Context) {
	if t.plan.Step.Anchor == AfterWriteStart {
		t.c.anchor = t.c.writeStart
		t.awaitRequestSent(ctx)
	} else {
		t.awaitWrite()
		t.c.anchor = t.wr.at
	}
	t.c.deadline = t.c.anchor.Add(t.plan.Step.Delay)
	if !t.c.requestSent.IsZero() && t.c.requestSent.After(t.c.deadline) {
		t.c.deadline = t.c.requestSent
	}
	if ctx.Err() == nil {
		t.c.fired, _ = t.r.Waiter.WaitUntil(ctx, t.c.deadline)
	}
}

// awaitRequestSent waits for the write's request to leave for the leader
// seen before the write (any member when none was known), or for the write
// to return first.
func (t *trial) awaitRequestSent(ctx context.Context) {
	if t.sends == nil {
		return
	}
	defer t.stopSends()
	for {
		select {
		case s := <-t.sends:
			if t.toLeader(s) {
				t.c.requestSent = s.At
				return
			}
		case w := <-t.writeDone:
			t.wr = &w
			t.drainSends()
			return
		case <-ctx.Done():
			return
		}
	}
}

// toLeader reports whether s went to the leader seen before the write (to
// any member when none was known).
func (t *trial) toLeader(s cluster.Send) bool {
	return t.before.Leader.Address == "" || s.To == t.before.Leader.Address
}

// drainSends takes a send already delivered when the write returned (both
// were ready; select picks either).
func (t *trial) drainSends() {
	for {
		select {
		case s := <-t.sends:
			if t.toLeader(s) {
				t.c.requestSent = s.At
				return
			}
		default:
			return
		}
	}
}

// inject fires the step's fault.
func (t *trial) inject(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	kctx, cancel := context.WithTimeout(ctx, t.r.Config.CallTimeout)
	defer cancel()
	inj, err := t.r.failpoint(t.plan.Step).Inject(kctx, t.plan.Partition, t.before)
	t.inj = inj
	if err != nil {
		t.fail("kill: %v", err)
		return
	}
	t.killed = true
	if inj.Heal != nil {
		t.rec.FaultDurationNS = int64(t.r.Config.FaultDuration)
		if t.rec.Fault == results.FaultIsolateLeader {
			t.rec.IsolatedFrom = string(t.r.Config.IsolateFrom)
		}
	}
	k := inj.Kill
	if k.Unconfirmed != nil {
		t.fail("kill sent, not confirmed: %v", k.Unconfirmed)
	}
	t.c.killSent, t.c.killDone = k.SentAt, k.DoneAt
	if t.c.killSent.IsZero() {
		t.c.killSent = t.c.fired
	}
	t.rec.LeaderBefore = &results.Leader{Member: k.Victim.ID, Pod: k.Victim.Pod, Term: k.Term}
	t.rec.Retargeted, t.rec.RetargetReason = inj.Retargeted, inj.RetargetReason
	if r := inj.Reread; r.Leader.ID == k.Victim.ID && r.Term == k.Term && !r.ObservedAt.IsZero() {
		t.rec.LeaderAgeNS = between(r.ObservedAt, t.c.killSent)
	}
	if t.rec.Fault == results.FaultWipeAll {
		t.m.reopen(ctx, t.r.Target, t.r.Config.Map, t.r.Log)
	}
}

// observeRecovery measures, concurrently, when a new leader is observed and
// when the partition first accepts a write again.
func (t *trial) observeRecovery(ctx context.Context) {
	if !t.killed {
		return
	}
	octx, cancel := context.WithTimeout(ctx, t.r.Config.VerifyTimeout)
	defer cancel()
	afterTerm := t.inj.Kill.Term
	if t.rec.Fault == results.FaultWipeAll {
		afterTerm = 0 // a wiped store starts its terms again
	}
	var wg sync.WaitGroup
	var electionErr, probeErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		t.after, electionErr = t.r.Target.WaitForLeader(octx, t.plan.Partition, afterTerm)
		if electionErr == nil {
			t.c.newLeader = t.after.ObservedAt
			if t.c.newLeader.IsZero() {
				t.c.newLeader = time.Now()
			}
		}
	}()
	go func() {
		defer wg.Done()
		t.c.firstOK, t.rec.ProbeAttempts, probeErr = t.r.prober(t.m.get(), t.plan.Probe.Name).FirstSuccess(octx)
	}()
	wg.Wait()
	if electionErr == nil {
		t.rec.LeaderAfter = &results.Leader{Member: t.after.Leader.ID, Pod: t.after.Leader.Pod, Term: t.after.Term}
	} else if ctx.Err() == nil {
		t.fail("election: %v", electionErr)
	}
	if probeErr != nil && ctx.Err() == nil {
		t.fail("recovery probe: %v", probeErr)
	}
}

// finishWrite waits for the write and records how it ended.
func (t *trial) finishWrite() {
	t.awaitWrite()
	t.rec.Write.Status = WriteStatus(t.wr.err)
	if t.wr.err != nil {
		t.rec.Write.Error = t.wr.err.Error()
	} else {
		t.c.writeAck = t.wr.at
	}
	t.rec.WriteLatencyNS = between(t.c.writeStart, t.wr.at)
	if t.plan.Step.Anchor == AfterWriteStart && !t.c.killSent.IsZero() && t.wr.at.Before(t.c.killSent) {
		t.rec.AckBeforeKill = true // the write had returned: the kill cut nothing in flight
	}
}

// verify reads the key back.
func (t *trial) verify(ctx context.Context) {
	if ctx.Err() != nil {
		t.rec.Verify = results.Verify{Status: results.VerifyError, Error: errInterrupted}
		return
	}
	vctx, cancel := context.WithTimeout(ctx, t.r.Config.VerifyTimeout)
	defer cancel()
	t.rec.Verify, t.c.verify = t.r.verifier(t.m.get()).Verify(vctx, t.plan.Key.Name, t.value)
	if t.rec.Verify.Status == results.VerifyError && ctx.Err() == nil {
		t.fail("verify: %s", t.rec.Verify.Error)
	}
}

// awaitVictim records when the victim came back, waiting for it unless the
// next trial starts back to back.
func (t *trial) awaitVictim(ctx context.Context) {
	if !t.killed {
		return
	}
	if t.inj.Heal != nil {
		t.awaitHeal(ctx)
		return
	}
	wait := t.r.Config.VerifyTimeout
	if !t.waitVictim || ctx.Err() != nil {
		wait = 0
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	back, err := t.r.Target.Restored(rctx, t.inj.Kill)
	if err != nil {
		if wait > 0 {
			t.fail("victim back: %v", err)
		}
		return
	}
	t.c.restart, t.c.back = back.Began, back.Back
	if !t.c.newLeader.IsZero() || !back.Back.IsZero() {
		first := t.c.newLeader.IsZero() || back.Back.Before(t.c.newLeader)
		t.rec.VictimBackFirst = &first
	}
}

// finish classifies the trial and fills the record's timestamps and durations.
func (t *trial) finish(ctx context.Context) {
	if ctx.Err() != nil {
		t.errs = append([]string{errInterrupted}, t.errs...)
		t.rec.Interrupted = true
	}
	t.c.end = time.Now()
	c := &t.c
	t.rec.T = results.Timestamps{
		WriteStart:  c.at(c.writeStart),
		RequestSent: c.at(c.requestSent),
		WriteAck:    c.at(c.writeAck),
		KillSent:    c.at(c.killSent),
		KillDone:    c.at(c.killDone),
		NewLeader:   c.at(c.newLeader),
		FirstOK:     c.at(c.firstOK),
		Verify:      c.at(c.verify),
		Restart:     c.at(c.restart),
		VictimBack:  c.at(c.back),
		Heal:        c.at(c.heal),
		End:         c.at(c.end),
	}
	t.rec.ActualDelayNS = between(c.anchor, c.killSent)
	t.rec.ElectionNS = between(c.killSent, c.newLeader)
	t.rec.RecoveryNS = between(c.killSent, c.firstOK)
	t.rec.DurationNS = between(c.start, c.end)
	if t.rec.SettleError != "" {
		t.errs = append([]string{"store not healthy before the trial: " + t.rec.SettleError}, t.errs...)
	}
	if len(t.errs) > 0 {
		t.rec.Error = strings.Join(t.errs, "; ")
	}
	t.rec.Outcome = results.Outcome(&t.rec)
	t.rec.ClockNS = t.load.clockNS(c.start)
	if t.load != nil {
		t.load.faults(t.faultRecords())
	}
}

// awaitHeal waits for a timed fault's end, ending it at once when the
// campaign is stopped.
func (t *trial) awaitHeal(ctx context.Context) {
	d, err := t.inj.Heal.Wait(ctx)
	t.c.heal = d.EndedAt
	if err != nil && ctx.Err() == nil {
		t.fail("%s: %v", t.rec.Fault, err)
	}
}
