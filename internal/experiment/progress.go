package experiment

import (
	"fmt"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// progress tracks a campaign's trials for the per-trial log line.
type progress struct {
	total, finished, lost int
	started               time.Time
}

func newProgress(total int, started time.Time) *progress {
	return &progress{total: total, started: started}
}

func (p *progress) done(lost bool) {
	p.finished++
	if lost {
		p.lost++
	}
}

// eta extrapolates the mean time per finished trial over the rest.
func (p *progress) eta(now time.Time) time.Duration {
	if p.finished == 0 {
		return 0
	}
	per := now.Sub(p.started) / time.Duration(p.finished)
	return per * time.Duration(p.total-p.finished)
}

func (p *progress) fields(now time.Time) []zap.Field {
	return []zap.Field{
		zap.String("progress", fmt.Sprintf("%d/%d", p.finished, p.total)),
		zap.Int("lost_so_far", p.lost),
		zap.Duration("elapsed", now.Sub(p.started).Round(100*time.Millisecond)),
		zap.Duration("eta", p.eta(now).Round(time.Second)),
	}
}

func durationField(key string, ns *int64) zap.Field {
	if ns == nil {
		return zap.Skip()
	}
	return zap.Duration(key, time.Duration(*ns))
}

func (r *Runner) logStart(log *zap.Logger, info cluster.Info, trials int) {
	log.Info("campaign starting",
		zap.Int64("seed", r.Config.Seed),
		zap.Strings("scenarios", r.Config.Scenarios),
		zap.Int("repeat", r.Config.Repeat),
		zap.Int("trials", trials),
		zap.String("target", info.Target),
		zap.Int("partitions", info.Partitions),
		zap.Int("replicas", info.Replicas),
		zap.String("restart_policy", info.RestartPolicy),
		zap.Duration("min_leader_age", r.Config.MinLeaderAge),
		zap.Bool("realtime_timer", r.Config.RealtimeTimer && RealtimeAvailable()))
}

// logTrial writes the trial's one structured line.
func (r *Runner) logTrial(log *zap.Logger, rec results.Trial, p *progress) {
	fields := append(p.fields(time.Now()),
		zap.Int("trial", rec.Trial),
		zap.String("scenario", rec.Scenario),
		zap.Duration("delay", time.Duration(rec.DelayNS)),
		zap.String("anchor", rec.Anchor),
		zap.Int("partition", rec.Partition),
		zap.String("key", rec.Key),
		zap.String("outcome", rec.Outcome),
		zap.String("write", rec.Write.Status),
		zap.String("verify", rec.Verify.Status),
	)
	if l := rec.LeaderBefore; l != nil {
		fields = append(fields, zap.String("killed", l.Pod), zap.Uint64("member", l.Member), zap.Uint64("term_before", l.Term))
	}
	if l := rec.LeaderAfter; l != nil {
		fields = append(fields, zap.String("new_leader", l.Pod), zap.Uint64("term_after", l.Term))
	}
	fields = append(fields,
		durationField("actual_delay", rec.ActualDelayNS),
		durationField("election", rec.ElectionNS),
		durationField("recovery", rec.RecoveryNS),
		durationField("settle", rec.SettleNS),
		durationField("leader_age", rec.LeaderAgeNS))
	if rec.VictimBackFirst != nil {
		fields = append(fields, zap.Bool("victim_back_before_new_leader", *rec.VictimBackFirst))
	}
	if rec.AckBeforeKill {
		fields = append(fields, zap.Bool("ack_before_kill", true))
	}
	if rec.Retargeted {
		fields = append(fields, zap.String("retargeted", rec.RetargetReason))
	}
	if rec.Error != "" {
		fields = append(fields, zap.String("error", rec.Error))
	}
	switch rec.Outcome {
	case results.OutcomeLost:
		log.Error("trial: acknowledged write LOST (durability violation)", fields...)
	case results.OutcomeInconclusive:
		log.Warn("trial", fields...)
	default:
		log.Info("trial", fields...)
	}
}

// logCheck logs the checker's verdict on one trial.
func (r *Runner) logCheck(c results.Check) {
	fields := []zap.Field{
		zap.Int("trial", c.Trial), zap.String("scenario", c.Scenario), zap.String("verdict", c.Verdict),
		zap.Int("ops", c.Ops), zap.Int("keys", c.Keys), zap.Int("stale_reads", c.StaleReads),
		zap.Int("lost_writes", len(c.LostWrites)), zap.Duration("check", time.Duration(c.CheckNS)),
	}
	if c.Reason != "" {
		fields = append(fields, zap.String("reason", c.Reason))
	}
	if c.Visualization != "" {
		fields = append(fields, zap.Strings("violations", c.Violations), zap.String("visualization", c.Visualization))
	}
	if c.Verdict == results.VerdictViolation || len(c.LostWrites) > 0 {
		r.Log.Error("check: history NOT linearizable", fields...)
		return
	}
	r.Log.Info("check", fields...)
}

func median(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r *Runner) logSummary(log *zap.Logger, res Result, recs []results.Trial, final results.FinalRead, wall time.Duration) {
	var election, recovery []time.Duration
	for _, rec := range recs {
		if rec.ElectionNS != nil && rec.Fault != results.FaultWipeAll {
			election = append(election, time.Duration(*rec.ElectionNS))
		}
		if rec.RecoveryNS != nil && rec.Fault != results.FaultWipeAll {
			recovery = append(recovery, time.Duration(*rec.RecoveryNS))
		}
	}
	durable, lost := res.Outcomes[results.OutcomeDurable], res.Outcomes[results.OutcomeLost]
	fields := []zap.Field{
		zap.Int("trials", res.Trials),
		zap.Int(results.OutcomeDurable, durable),
		zap.Int(results.OutcomeLost, lost),
		zap.Int(results.OutcomeIndeterminateApplied, res.Outcomes[results.OutcomeIndeterminateApplied]),
		zap.Int(results.OutcomeIndeterminateAbsent, res.Outcomes[results.OutcomeIndeterminateAbsent]),
		zap.Int(results.OutcomeInconclusive, res.Outcomes[results.OutcomeInconclusive]),
		zap.Int("final_read_keys", final.Keys),
		zap.Int("final_read_lost", final.Lost),
	}
	if durable+lost > 0 {
		fields = append(fields, zap.String("success_rate", fmt.Sprintf("%d/%d", durable, durable+lost)))
	}
	fields = append(fields,
		zap.Duration("median_election", median(election)),
		zap.Duration("median_recovery", median(recovery)),
		zap.Duration("wall", wall),
		zap.Bool("interrupted", res.Interrupted))
	if r.Config.Workload {
		fields = append(fields, zap.Int("violations", res.Violations), zap.Int("lost_writes", res.LostWrites))
	}
	if res.Violations > 0 {
		log.Error("summary: LINEARIZABILITY VIOLATION in the workload's history", fields...)
		return
	}
	if res.Lost() > 0 || res.LostWrites > 0 {
		log.Error("summary: DURABILITY VIOLATION: acknowledged writes were lost", fields...)
		return
	}
	log.Info("summary", fields...)
}
