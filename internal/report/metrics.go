package report

import (
	"fmt"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// Metric is one derived duration of a trial.
type Metric struct {
	NS int64
	OK bool
	// Recomputed is set when the record lacked the value and it was
	// computed from the trial's timestamps.
	Recomputed bool
	// Invalid is set when the value was negative (recorded or computed);
	// it then counts as missing.
	Invalid bool
}

// Metrics are a trial's derived durations (DESIGN.md, "Trial protocol").
type Metrics struct {
	ActualDelay  Metric
	Election     Metric
	Recovery     Metric
	Duration     Metric
	WriteLatency Metric
	// Settle is the health wait before the trial (recorded only).
	Settle Metric
	// LeaderAge is how long the victim had led when the kill was sent (recorded only).
	LeaderAge Metric
	// VictimBack is victim_back − kill_sent: how long the victim was down.
	VictimBack Metric
}

// Derive returns t's derived durations: the recorded value when present,
// else the difference of the timestamps it is defined by, else missing.
// actual delay = kill_sent − anchor (write_ack, or write_start for anchor
// write_start; version 1 logs: for scenario in-flight);
// election = new_leader − kill_sent; recovery = first_ok − kill_sent;
// duration = end (timestamps count from the trial's start);
// write latency = write_ack − write_start; settle = settle_ns;
// leader age = leader_age_ns; victim back = victim_back − kill_sent.
func Derive(t *results.Trial) Metrics {
	ts := &t.T
	delayFrom := ts.WriteAck
	if anchorOf(t) == results.AnchorWriteStart {
		delayFrom = ts.WriteStart
	}
	var zero int64
	return Metrics{
		ActualDelay:  derive(t.ActualDelayNS, ts.KillSent, delayFrom),
		Election:     derive(t.ElectionNS, ts.NewLeader, ts.KillSent),
		Recovery:     derive(t.RecoveryNS, ts.FirstOK, ts.KillSent),
		Duration:     derive(t.DurationNS, ts.End, &zero),
		WriteLatency: derive(t.WriteLatencyNS, ts.WriteAck, ts.WriteStart),
		Settle:       derive(t.SettleNS, nil, nil),
		LeaderAge:    derive(t.LeaderAgeNS, nil, nil),
		VictimBack:   derive(nil, ts.VictimBack, ts.KillSent),
	}
}

func derive(recorded, to, from *int64) Metric {
	if recorded != nil {
		if *recorded < 0 {
			return Metric{NS: *recorded, Invalid: true}
		}
		return Metric{NS: *recorded, OK: true}
	}
	if to == nil || from == nil {
		return Metric{}
	}
	d := *to - *from
	if d < 0 {
		return Metric{NS: d, Recomputed: true, Invalid: true}
	}
	return Metric{NS: d, OK: true, Recomputed: true}
}

// MS is the metric in milliseconds.
func (m Metric) MS() float64 { return float64(m.NS) / 1e6 }

// invalid lists the metrics of m that were negative, for warnings.
func (m Metrics) invalid() []string {
	var out []string
	for _, x := range []struct {
		name string
		m    Metric
	}{
		{"actual delay", m.ActualDelay}, {"election", m.Election}, {"recovery", m.Recovery},
		{"duration", m.Duration}, {"write latency", m.WriteLatency},
		{"settle", m.Settle}, {"leader age", m.LeaderAge}, {"victim back", m.VictimBack},
	} {
		if x.m.Invalid {
			out = append(out, fmt.Sprintf("%s %d ns", x.name, x.m.NS))
		}
	}
	return out
}
