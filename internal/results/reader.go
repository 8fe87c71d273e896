package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/atomix-failover/atomix-failover/internal/jsonl"
)

// DefaultMaxLine is the longest line, in bytes without its newline, that a
// Reader decodes; longer lines are skipped with a warning.
const DefaultMaxLine = jsonl.DefaultMaxLine

// MaxKeptWarnings is how many warnings a Reader keeps verbatim; the rest are
// only counted.
const MaxKeptWarnings = jsonl.MaxKeptWarnings

// Warning is a problem with one line of a log that made the reader skip it.
type Warning = jsonl.Warning

// Record is one decoded line of a log: exactly one of Run, Trial, Summary, Lost and Check is set.
type Record struct {
	Line    int
	Run     *Run
	Trial   *Trial
	Summary *Summary
	Lost    *Lost
	Check   *Check
}

// Reader decodes a results log line by line. It never panics on bad input:
// lines it cannot use (malformed JSON, wrong field types, unknown record
// types, lines over the maximum length, a torn last line) are skipped and
// reported as warnings with their line numbers. Memory is bounded by the
// maximum line length.
type Reader struct {
	s *jsonl.Scanner
}

// NewReader returns a Reader of r with the DefaultMaxLine limit.
func NewReader(r io.Reader) *Reader { return newReaderSize(r, 256<<10) }

func newReaderSize(r io.Reader, size int) *Reader {
	return &Reader{s: jsonl.NewScanner(r, size, "results log")}
}

// SetMaxLine changes the longest accepted line (n bytes, at least 1).
func (r *Reader) SetMaxLine(n int) { r.s.SetMaxLine(n) }

// Lines is the number of lines read so far.
func (r *Reader) Lines() int { return r.s.Lines() }

// Warnings returns the first MaxKeptWarnings warnings.
func (r *Reader) Warnings() []Warning { return r.s.Warnings() }

// WarningCount is the number of warnings, kept or not.
func (r *Reader) WarningCount() int { return r.s.WarningCount() }

// Next returns the next usable record. It returns io.EOF at the end of the
// input and any other error only when reading the input itself fails.
func (r *Reader) Next() (Record, error) {
	for {
		line, n, complete, err := r.s.Next()
		if err != nil {
			return Record{}, err
		}
		rec, err := decodeLine(line)
		if err != nil {
			if !complete {
				r.s.Warn(n, "torn last line (%d bytes, no newline at end of file): skipped", len(line))
			} else {
				r.s.Warn(n, "%v: skipped", err)
			}
			continue
		}
		rec.Line = n
		return rec, nil
	}
}

// anyRecord has the fields of every record type, so that a line is decoded
// once whatever its type. The JSON names of Run and Summary fields that a
// Trial lacks are declared here; the shared ones come from Trial.
type anyRecord struct {
	Trial
	Seed          int64             `json:"seed"`
	Target        string            `json:"target"`
	Store         string            `json:"store"`
	Partitions    int               `json:"partitions"`
	Replicas      int               `json:"replicas"`
	Scenarios     []string          `json:"scenarios"`
	Config        json.RawMessage   `json:"config,omitempty"`
	Versions      map[string]string `json:"versions,omitempty"`
	Trials        int               `json:"trials"`
	EndedAt       string            `json:"ended_at"`
	Outcomes      map[string]int    `json:"outcomes,omitempty"`
	Interrupted   bool              `json:"interrupted,omitempty"`
	Schema        int               `json:"schema,omitempty"`
	Repeat        int               `json:"repeat,omitempty"`
	Shuffle       bool              `json:"shuffle,omitempty"`
	RestartPolicy string            `json:"restart_policy,omitempty"`
	MinLeaderAge  int64             `json:"min_leader_age_ns,omitempty"`
	FinalRead     *FinalRead        `json:"final_read,omitempty"`
	Read          string            `json:"read"`
	ReadValue     string            `json:"read_value,omitempty"`
	At            string            `json:"at"`
	History       string            `json:"history,omitempty"`
	Workload      json.RawMessage   `json:"workload,omitempty"`
}

// ValidOutcome reports whether o is one of the five outcome classes.
func ValidOutcome(o string) bool {
	switch o {
	case OutcomeDurable, OutcomeLost, OutcomeIndeterminateApplied, OutcomeIndeterminateAbsent, OutcomeInconclusive:
		return true
	}
	return false
}

func decodeLine(line []byte) (Record, error) {
	if line[0] != '{' {
		return Record{}, errors.New("not a JSON object")
	}
	var a anyRecord
	if err := json.Unmarshal(line, &a); err != nil {
		return Record{}, fmt.Errorf("malformed record: %w", err)
	}
	if a.Type == "" {
		return Record{}, errors.New(`record without "type"`)
	}
	if a.RunID == "" && (a.Type == TypeRun || a.Type == TypeTrial || a.Type == TypeSummary || a.Type == TypeLost || a.Type == TypeCheck) {
		return Record{}, fmt.Errorf(`%s record without "run_id"`, a.Type)
	}
	switch a.Type {
	case TypeTrial:
		if !ValidOutcome(a.Outcome) {
			return Record{}, fmt.Errorf("trial %d: unknown outcome %.40q", a.Trial.Trial, a.Outcome)
		}
		t := a.Trial
		t.Interrupted = a.Interrupted
		return Record{Trial: &t}, nil
	case TypeRun:
		return Record{Run: &Run{
			Type: a.Type, RunID: a.RunID, StartedAt: a.StartedAt, Seed: a.Seed,
			Target: a.Target, Store: a.Store, Partitions: a.Partitions, Replicas: a.Replicas,
			Scenarios: a.Scenarios, Config: a.Config, Versions: a.Versions,
			Schema: a.Schema, Repeat: a.Repeat, Shuffle: a.Shuffle,
			RestartPolicy: a.RestartPolicy, MinLeaderAgeNS: a.MinLeaderAge,
			History: a.History, Workload: a.Workload,
		}}, nil
	case TypeSummary:
		return decodeSummary(a)
	case TypeCheck:
		return decodeCheck(line)
	case TypeLost:
		if a.Key == "" {
			return Record{}, errors.New(`lost record without "key"`)
		}
		return Record{Lost: &Lost{
			Type: a.Type, RunID: a.RunID, Trial: a.Trial.Trial, Key: a.Key, Value: a.Value,
			Read: a.Read, ReadValue: a.ReadValue, At: a.At,
		}}, nil
	}
	return Record{}, fmt.Errorf("unknown record type %.40q", a.Type)
}

func decodeSummary(a anyRecord) (Record, error) {
	sum := &Summary{
		Type: a.Type, RunID: a.RunID, Trials: a.Trials, EndedAt: a.EndedAt,
		Outcomes: a.Outcomes, Interrupted: a.Interrupted, FinalRead: a.FinalRead,
	}
	if len(a.Workload) > 0 && string(a.Workload) != "null" {
		sum.Workload = &WorkloadSummary{}
		if err := json.Unmarshal(a.Workload, sum.Workload); err != nil {
			return Record{}, fmt.Errorf("summary: malformed workload: %w", err)
		}
	}
	return Record{Summary: sum}, nil
}

func decodeCheck(line []byte) (Record, error) {
	var c Check
	if err := json.Unmarshal(line, &c); err != nil {
		return Record{}, fmt.Errorf("malformed check record: %w", err)
	}
	switch c.Verdict {
	case VerdictLinearizable, VerdictViolation, VerdictUnknown:
	default:
		return Record{}, fmt.Errorf("check of trial %d: unknown verdict %.40q", c.Trial, c.Verdict)
	}
	return Record{Check: &c}, nil
}
