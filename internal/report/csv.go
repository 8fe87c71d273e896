package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
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

// CSVWriter streams trials as CSV rows. The header is written with the
// first row: with the WorkloadCSVColumns when that row's trial has a
// workload (clock_ns); rows are then held until Finish, which adds the
// workload columns, else streamed.
type CSVWriter struct {
	w      *csv.Writer
	row    []string
	header bool
	wide   bool
	held   []heldRow
	// narrow lists the runs with a workload whose rows lack its columns.
	narrow []string
}

// heldRow is a row of a wide CSV waiting for its workload columns.
type heldRow struct {
	ref   trialRef
	cells []string
}

// NewCSVWriter returns a writer of trial rows to w.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	return &CSVWriter{w: csv.NewWriter(w), row: make([]string, 0, len(CSVColumns))}, nil
}

// writeHeader writes the header, with the workload columns when wide.
func (c *CSVWriter) writeHeader(wide bool) error {
	c.header, c.wide = true, wide
	cols := CSVColumns
	if wide {
		cols = append(append([]string(nil), CSVColumns...), WorkloadCSVColumns...)
	}
	if err := c.w.Write(cols); err != nil {
		return fmt.Errorf("writing CSV header: %w", err)
	}
	return nil
}

// Trial writes t's row with its derived metrics m (holds it, in a CSV with workload columns).
func (c *CSVWriter) Trial(t *results.Trial, m Metrics) error {
	if !c.header {
		if err := c.writeHeader(t.ClockNS != nil); err != nil {
			return err
		}
	}
	r := c.trialCells(t, m)
	if c.wide {
		c.held = append(c.held, heldRow{ref: trialRef{t.RunID, t.Trial}, cells: appendTrialWorkload(slices.Clone(r), t)})
		return nil
	}
	if t.ClockNS != nil && !slices.Contains(c.narrow, t.RunID) {
		c.narrow = append(c.narrow, t.RunID)
	}
	if err := c.w.Write(r); err != nil {
		return fmt.Errorf("writing CSV row for trial %d of run %s: %w", t.Trial, t.RunID, err)
	}
	return nil
}

// trialCells are t's cells of CSVColumns.
func (c *CSVWriter) trialCells(t *results.Trial, m Metrics) []string {
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
	return r
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

// Flush writes any buffered rows (and the header, when no row came).
func (c *CSVWriter) Flush() error {
	if !c.header {
		if err := c.writeHeader(false); err != nil {
			return err
		}
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}
