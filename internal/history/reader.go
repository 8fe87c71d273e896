package history

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

// Record is one decoded line of a history log: exactly one of Op and Fault is set.
type Record struct {
	Line  int
	Op    *Op
	Fault *Fault
}

// Reader decodes a history log line by line. It never panics on bad input:
// lines it cannot use (malformed JSON, wrong field types, records failing
// Validate, unknown record types, lines over the maximum length, a torn last
// line) are skipped and reported as warnings with their line numbers.
// Memory is bounded by the maximum line length.
type Reader struct {
	s *jsonl.Scanner
}

// NewReader returns a Reader of r with the DefaultMaxLine limit.
func NewReader(r io.Reader) *Reader { return newReaderSize(r, 256<<10) }

func newReaderSize(r io.Reader, size int) *Reader {
	return &Reader{s: jsonl.NewScanner(r, size, "history log")}
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
				r.s.Warn(n, "torn last line (%d bytes, no newline at end of file): %v: skipped", len(line), err)
			} else {
				r.s.Warn(n, "%v: skipped", err)
			}
			continue
		}
		rec.Line = n
		return rec, nil
	}
}

// anyRecord has the fields of both record types, so that a line is decoded
// once whatever its type; the shared ones come from Op.
type anyRecord struct {
	Op
	Fault     string `json:"fault"`
	Target    string `json:"target"`
	Partition int    `json:"partition"`
	StartNS   int64  `json:"start_ns"`
	EndNS     *int64 `json:"end_ns"`
}

func decodeLine(line []byte) (Record, error) {
	if line[0] != '{' {
		return Record{}, errors.New("not a JSON object")
	}
	var a anyRecord
	if err := json.Unmarshal(line, &a); err != nil {
		return Record{}, fmt.Errorf("malformed record: %w", err)
	}
	switch a.Type {
	case TypeOp:
		op := a.Op
		if err := op.Validate(); err != nil {
			return Record{}, err
		}
		return Record{Op: &op}, nil
	case TypeFault:
		f := Fault{
			Type: a.Type, RunID: a.RunID, Trial: a.Trial, Fault: a.Fault, Target: a.Target,
			Partition: a.Partition, StartNS: a.StartNS, EndNS: a.EndNS,
		}
		if err := f.Validate(); err != nil {
			return Record{}, err
		}
		return Record{Fault: &f}, nil
	case "":
		return Record{}, errors.New(`record without "type"`)
	}
	return Record{}, fmt.Errorf("unknown record type %.40q", a.Type)
}

// ReadAll reads a whole history log and returns the ops and faults of run
// runID (of every run when runID is empty) in file order, and the warnings
// of the Reader: the first MaxKeptWarnings, then one saying how many more
// there were. The error is nil unless reading r fails; what was read until
// then is returned with it.
func ReadAll(r io.Reader, runID string) ([]Op, []Fault, []Warning, error) {
	var (
		ops    []Op
		faults []Fault
	)
	hr := NewReader(r)
	var err error
	for {
		var rec Record
		if rec, err = hr.Next(); err != nil {
			break
		}
		switch {
		case rec.Op != nil && (runID == "" || rec.Op.RunID == runID):
			ops = append(ops, *rec.Op)
		case rec.Fault != nil && (runID == "" || rec.Fault.RunID == runID):
			faults = append(faults, *rec.Fault)
		}
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	warnings := hr.Warnings()
	if more := hr.WarningCount() - len(warnings); more > 0 {
		warnings = append(warnings, Warning{Line: hr.Lines(), Msg: fmt.Sprintf("%d more warnings not kept", more)})
	}
	return ops, faults, warnings, err
}
