package experiment

import (
	"time"

	"github.com/atomix-failover/atomix-failover/internal/history"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// faultRecords are the history's records of the trial's fault and of the
// victim's return, on the history's clock.
func (t *trial) faultRecords() []history.Fault {
	if !t.killed {
		return nil
	}
	k, c := t.inj.Kill, &t.c
	victim := k.Victim.Name
	if victim == "" {
		victim = k.Victim.Pod
	}
	rec := func(kind, target string, start, end time.Time) history.Fault {
		f := history.Fault{Trial: t.plan.Trial, Fault: kind, Target: target, Partition: t.plan.Partition}
		if s := t.load.clockNS(start); s != nil {
			f.StartNS = *s
		}
		f.EndNS = t.load.clockNS(end)
		return f
	}
	switch t.rec.Fault {
	case results.FaultPauseLeader:
		return []history.Fault{rec(history.FaultPause, victim, c.killSent, c.heal)}
	case results.FaultIsolateLeader:
		return []history.Fault{rec(history.FaultPartition, victim, c.killSent, c.heal)}
	case results.FaultWipeAll:
		victim = history.TargetAll
	}
	out := []history.Fault{rec(history.FaultKill, victim, c.killSent, c.killDone)}
	if !c.restart.IsZero() {
		out = append(out, rec(history.FaultRestart, victim, c.restart, c.back))
	}
	return out
}
