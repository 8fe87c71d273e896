package experiment

import (
	"context"
	"fmt"
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

// trialRun holds one trial's monotonic clock readings; zero means absent.
type trialRun struct {
	start, writeStart, writeAck, anchor, fired, deadline time.Time
	killSent, killDone, newLeader, firstOK, verify, end  time.Time
}

func (t *trialRun) at(x time.Time) *int64 {
	if x.IsZero() {
		return nil
	}
	v := int64(x.Sub(t.start))
	return &v
}

func between(from, to time.Time) *int64 {
	if from.IsZero() || to.IsZero() {
		return nil
	}
	v := int64(to.Sub(from))
	return &v
}

// runTrial runs the trial protocol of DESIGN.md once and returns its record.
// It always returns a record: a trial that cannot finish is inconclusive.
// The member is the victim of the kill, nil when nothing was killed.
func (r *Runner) runTrial(ctx context.Context, m cluster.Map, runID string, plan TrialPlan) (results.Trial, *cluster.Member) {
	value := fmt.Sprintf("%s/%d", runID, plan.Trial)
	rec := results.Trial{
		Type:      results.TypeTrial,
		RunID:     runID,
		Trial:     plan.Trial,
		Scenario:  plan.Scenario,
		DelayNS:   int64(plan.Step.Delay),
		Partition: plan.Partition,
		Key:       plan.Key.Name,
		Value:     value,
	}
	sha := plan.SHA256Partition
	rec.SHA256Partition = &sha
	var tr trialRun
	var errs []string

	lctx, lcancel := context.WithTimeout(ctx, r.Config.CallTimeout)
	before, err := r.Target.Leader(lctx, plan.Partition)
	lcancel()
	if err != nil {
		r.Log.Warn("reading the leader before the write", zap.Int("trial", plan.Trial), zap.Int("partition", plan.Partition), zap.Error(err))
	}

	tr.start = time.Now()
	rec.StartedAt = tr.start.UTC().Format(time.RFC3339Nano)

	wctx, wcancel := context.WithTimeout(ctx, r.Config.writeTimeout(plan.Step.Anchor))
	defer wcancel()
	writeDone := make(chan writeResult, 1)
	tr.writeStart = time.Now()
	go func() {
		_, err := m.Put(wctx, plan.Key.Name, value)
		writeDone <- writeResult{time.Now(), err}
	}()
	var wr *writeResult
	awaitWrite := func() {
		if wr == nil {
			w := <-writeDone
			wr = &w
		}
	}

	var inj Injection
	killed := false
	if plan.Step.Anchor == AfterWriteStart {
		tr.anchor = tr.writeStart
	} else {
		awaitWrite()
		tr.anchor = wr.at
	}
	tr.deadline = tr.anchor.Add(plan.Step.Delay)
	if ctx.Err() == nil {
		tr.fired, _ = r.Waiter.WaitUntil(ctx, tr.deadline)
	}
	if ctx.Err() == nil {
		kctx, kcancel := context.WithTimeout(ctx, r.Config.CallTimeout)
		inj, err = r.Failpoint.Inject(kctx, plan.Partition, before)
		kcancel()
		if err != nil {
			errs = append(errs, fmt.Sprintf("kill: %v", err))
		} else {
			killed = true
			if inj.Unconfirmed != nil {
				errs = append(errs, fmt.Sprintf("kill sent, not confirmed: %v", inj.Unconfirmed))
			}
			tr.killSent, tr.killDone = inj.Kill.SentAt, inj.Kill.DoneAt
			if tr.killSent.IsZero() {
				tr.killSent = tr.fired
			}
			rec.LeaderBefore = &results.Leader{Member: inj.Kill.Victim.ID, Pod: inj.Kill.Victim.Pod, Term: inj.Kill.Term}
			rec.Retargeted = inj.Retargeted
		}
	}

	var after cluster.Leadership
	if killed {
		octx, ocancel := context.WithTimeout(ctx, r.Config.VerifyTimeout)
		var wg sync.WaitGroup
		var electionErr, probeErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			after, electionErr = r.Target.WaitForLeader(octx, plan.Partition, inj.Kill.Term)
			if electionErr == nil {
				tr.newLeader = after.ObservedAt
				if tr.newLeader.IsZero() {
					tr.newLeader = time.Now()
				}
			}
		}()
		go func() {
			defer wg.Done()
			probe := r.prober(m, plan.Probe.Name)
			tr.firstOK, _, probeErr = probe.FirstSuccess(octx)
		}()
		wg.Wait()
		ocancel()
		if electionErr != nil && ctx.Err() == nil {
			errs = append(errs, fmt.Sprintf("election: %v", electionErr))
		} else if electionErr == nil {
			rec.LeaderAfter = &results.Leader{Member: after.Leader.ID, Pod: after.Leader.Pod, Term: after.Term}
		}
		if probeErr != nil && ctx.Err() == nil {
			errs = append(errs, fmt.Sprintf("recovery probe: %v", probeErr))
		}
	}

	awaitWrite()
	rec.Write.Status = WriteStatus(wr.err)
	if wr.err != nil {
		rec.Write.Error = wr.err.Error()
	} else {
		tr.writeAck = wr.at
	}
	rec.WriteLatencyNS = between(tr.writeStart, wr.at)

	if ctx.Err() == nil {
		vctx, vcancel := context.WithTimeout(ctx, r.Config.VerifyTimeout)
		rec.Verify, tr.verify = r.verifier(m).Verify(vctx, plan.Key.Name, value)
		vcancel()
		if rec.Verify.Status == results.VerifyError && ctx.Err() == nil {
			errs = append(errs, "verify: "+rec.Verify.Error)
		}
	} else {
		rec.Verify = results.Verify{Status: results.VerifyError, Error: errInterrupted}
	}
	rec.Outcome = r.Validator.Classify(rec.Write, rec.Verify)
	if !killed && rec.Outcome != results.OutcomeLost {
		rec.Outcome = results.OutcomeInconclusive
	}
	if ctx.Err() != nil {
		errs = append([]string{errInterrupted}, errs...)
		if rec.Outcome != results.OutcomeLost {
			rec.Outcome = results.OutcomeInconclusive
		}
	}
	tr.end = time.Now()

	rec.T = results.Timestamps{
		WriteStart: tr.at(tr.writeStart),
		WriteAck:   tr.at(tr.writeAck),
		KillSent:   tr.at(tr.killSent),
		KillDone:   tr.at(tr.killDone),
		NewLeader:  tr.at(tr.newLeader),
		FirstOK:    tr.at(tr.firstOK),
		Verify:     tr.at(tr.verify),
		End:        tr.at(tr.end),
	}
	rec.ActualDelayNS = between(tr.anchor, tr.killSent)
	rec.ElectionNS = between(tr.killSent, tr.newLeader)
	rec.RecoveryNS = between(tr.killSent, tr.firstOK)
	rec.DurationNS = between(tr.start, tr.end)
	if len(errs) > 0 {
		rec.Error = joinErrors(errs)
	}
	r.logTrial(rec, inj, tr)
	if !killed {
		return rec, nil
	}
	return rec, &inj.Kill.Victim
}

func joinErrors(errs []string) string {
	out := errs[0]
	for _, e := range errs[1:] {
		out += "; " + e
	}
	return out
}

func durationField(key string, ns *int64) zap.Field {
	if ns == nil {
		return zap.Skip()
	}
	return zap.Duration(key, time.Duration(*ns))
}

func (r *Runner) logTrial(rec results.Trial, inj Injection, tr trialRun) {
	fields := []zap.Field{
		zap.Int("trial", rec.Trial),
		zap.Int("of", r.total),
		zap.String("scenario", rec.Scenario),
		zap.Duration("delay", time.Duration(rec.DelayNS)),
		zap.Int("partition", rec.Partition),
		zap.String("key", rec.Key),
		zap.String("outcome", rec.Outcome),
		zap.String("write", rec.Write.Status),
		zap.String("verify", rec.Verify.Status),
	}
	if rec.LeaderBefore != nil {
		fields = append(fields, zap.Stringer("killed", inj.Kill.Victim), zap.Uint64("term_before", rec.LeaderBefore.Term))
	}
	if rec.LeaderAfter != nil {
		fields = append(fields, zap.String("new_leader", rec.LeaderAfter.Pod), zap.Uint64("term_after", rec.LeaderAfter.Term))
	}
	fields = append(fields,
		durationField("actual_delay", rec.ActualDelayNS),
		durationField("election", rec.ElectionNS),
		durationField("recovery", rec.RecoveryNS),
		zap.Int64p("actual_delay_ns", rec.ActualDelayNS),
	)
	if !tr.fired.IsZero() {
		fields = append(fields, zap.Duration("timer_error", tr.fired.Sub(tr.deadline)))
	}
	if rec.Retargeted {
		fields = append(fields, zap.Bool("retargeted", true),
			zap.Uint64("leader_before_write", inj.Before.Leader.ID), zap.Uint64("term_before_write", inj.Before.Term))
	}
	if rec.Error != "" {
		fields = append(fields, zap.String("error", rec.Error))
	}
	switch rec.Outcome {
	case results.OutcomeLost:
		r.Log.Error("trial: acknowledged write LOST (durability violation)", fields...)
	case results.OutcomeInconclusive:
		r.Log.Warn("trial", fields...)
	default:
		r.Log.Info("trial", fields...)
	}
}
