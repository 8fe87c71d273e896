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
// "timestamps" (recomputed) or "" (missing).
var CSVColumns = []string{
	"run_id", "trial", "scenario", "delay_ns", "partition", "key", "outcome",
	"write_status", "verify_status", "verify_attempts",
	"leader_before_member", "leader_before_term", "leader_after_member", "leader_after_term", "retargeted",
	"actual_delay_ns", "actual_delay_source", "election_ns", "election_source",
	"recovery_ns", "recovery_source", "write_latency_ns", "write_latency_source",
	"duration_ns", "duration_source",
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
	c.row = r
	if err := c.w.Write(r); err != nil {
		return fmt.Errorf("writing CSV row for trial %d of run %s: %w", t.Trial, t.RunID, err)
	}
	return nil
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
