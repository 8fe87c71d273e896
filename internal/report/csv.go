package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// CSVColumns are the columns of the CSV output, one row per trial.
// Durations are integer nanoseconds; an empty cell is a missing value.
// The *_source columns say where a derived metric came from: "record",
// "timestamps" (recomputed) or "" (missing). The columns after
// duration_source came with schema version 2: anchor and fault as the
// analysis reads them (version 1 rule, kill-leader when absent),
// rule_outcome is results.Outcome, term_increase is empty unless the term
// rose, victim_back_ns = t.victim_back − t.kill_sent, and t_* are the raw
// timestamps.
var CSVColumns = []string{
	"run_id", "trial", "scenario", "delay_ns", "partition", "key", "outcome",
	"write_status", "verify_status", "verify_attempts",
	"leader_before_member", "leader_before_term", "leader_after_member", "leader_after_term", "retargeted",
	"actual_delay_ns", "actual_delay_source", "election_ns", "election_source",
	"recovery_ns", "recovery_source", "write_latency_ns", "write_latency_source",
	"duration_ns", "duration_source",
	"anchor", "fault", "back_to_back", "ack_before_kill", "victim_back_before_new_leader", "term_increase",
	"settle_ns", "settle_error", "leader_age_ns", "victim_back_ns", "retarget_reason", "probe_attempts", "interrupted",
	"rule_outcome", "t_request_sent", "t_restart", "t_victim_back",
}

// CSVWriter streams trials as CSV rows.
type CSVWriter struct {
	w   *csv.Writer
	row []string
}

// NewCSVWriter writes the header row to w and returns a writer of trial rows.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	c := &CSVWriter{w: csv.NewWriter(w), row: make([]string, 0, len(CSVColumns))}
	if err := c.w.Write(CSVColumns); err != nil {
		return nil, fmt.Errorf("writing CSV header: %w", err)
	}
	return c, nil
}

// Trial writes t's row with its derived metrics m.
func (c *CSVWriter) Trial(t *results.Trial, m Metrics) error {
	r := c.row[:0]
	r = append(r, t.RunID, strconv.Itoa(t.Trial), t.Scenario, strconv.FormatInt(t.DelayNS, 10),
		strconv.Itoa(t.Partition), t.Key, t.Outcome, t.Write.Status, t.Verify.Status, strconv.Itoa(t.Verify.Attempts))
	r = appendLeader(r, t.LeaderBefore)
	r = appendLeader(r, t.LeaderAfter)
	r = append(r, strconv.FormatBool(t.Retargeted))
	for _, x := range []Metric{m.ActualDelay, m.Election, m.Recovery, m.WriteLatency, m.Duration} {
		switch {
		case !x.OK:
			r = append(r, "", "")
		case x.Recomputed:
			r = append(r, strconv.FormatInt(x.NS, 10), "timestamps")
		default:
			r = append(r, strconv.FormatInt(x.NS, 10), "record")
		}
	}
	r = appendV2(r, t, m)
	c.row = r
	if err := c.w.Write(r); err != nil {
		return fmt.Errorf("writing CSV row for trial %d of run %s: %w", t.Trial, t.RunID, err)
	}
	return nil
}

// appendV2 appends the columns schema version 2 added.
func appendV2(r []string, t *results.Trial, m Metrics) []string {
	k := classify(t)
	victim := ""
	if t.VictimBackFirst != nil {
		victim = strconv.FormatBool(*t.VictimBackFirst)
	}
	rounds := ""
	if d, ok := termIncrease(t); ok {
		rounds = strconv.FormatUint(d, 10)
	}
	r = append(r, k.anchor, k.fault, strconv.FormatBool(t.BackToBack), strconv.FormatBool(t.AckBeforeKill), victim, rounds,
		metricCell(m.Settle), t.SettleError, metricCell(m.LeaderAge), metricCell(m.VictimBack), t.RetargetReason,
		strconv.Itoa(t.ProbeAttempts), strconv.FormatBool(t.Interrupted), results.Outcome(t))
	for _, p := range []*int64{t.T.RequestSent, t.T.Restart, t.T.VictimBack} {
		if p == nil {
			r = append(r, "")
		} else {
			r = append(r, strconv.FormatInt(*p, 10))
		}
	}
	return r
}

// metricCell is the metric in ns, empty when missing.
func metricCell(m Metric) string {
	if !m.OK {
		return ""
	}
	return strconv.FormatInt(m.NS, 10)
}

func appendLeader(r []string, l *results.Leader) []string {
	if l == nil {
		return append(r, "", "")
	}
	return append(r, strconv.FormatUint(l.Member, 10), strconv.FormatUint(l.Term, 10))
}

// Flush writes any buffered rows.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}
