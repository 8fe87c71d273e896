package results

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
)

// FuzzReader checks that the reader never panics or fails on any input and
// that what it returns is consistent with the input's lines. `go test` runs
// it on the seed corpus in testdata/fuzz/FuzzReader; `go test -fuzz
// FuzzReader ./internal/results/` explores further.
func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxLine = 200
		lines := bytes.Split(data, []byte("\n"))
		if len(data) == 0 || data[len(data)-1] == '\n' {
			lines = lines[:len(lines)-1]
		}

		big := NewReader(bytes.NewReader(data))
		big.SetMaxLine(maxLine)
		got := fuzzRead(t, big, lines, maxLine)

		// The same input through a 16-byte buffer, one byte per read,
		// gives the same records and warnings.
		small := newReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16)
		small.SetMaxLine(maxLine)
		if again := fuzzRead(t, small, lines, maxLine); !reflect.DeepEqual(got, again) {
			t.Fatalf("chunked read differs:\n%+v\n%+v", got, again)
		}
	})
}

type fuzzResult struct {
	Records  []Record
	Warnings []Warning
}

func fuzzRead(t *testing.T, r *Reader, lines [][]byte, maxLine int) fuzzResult {
	t.Helper()
	var res fuzzResult
	last := 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next on in-memory input: %v", err)
		}
		if rec.Line <= last || rec.Line > len(lines) {
			t.Fatalf("record line %d after line %d, input has %d lines", rec.Line, last, len(lines))
		}
		last = rec.Line
		if n := len(lines[rec.Line-1]); n > maxLine {
			t.Fatalf("line %d has %d bytes, over the %d limit, yet was decoded", rec.Line, n, maxLine)
		}
		switch {
		case rec.Run != nil && rec.Trial == nil && rec.Summary == nil:
			if rec.Run.RunID == "" || rec.Run.Type != TypeRun {
				t.Fatalf("run record %+v", rec.Run)
			}
		case rec.Trial != nil && rec.Run == nil && rec.Summary == nil:
			if rec.Trial.RunID == "" || rec.Trial.Type != TypeTrial || !ValidOutcome(rec.Trial.Outcome) {
				t.Fatalf("trial record %+v", rec.Trial)
			}
		case rec.Summary != nil && rec.Run == nil && rec.Trial == nil:
			if rec.Summary.RunID == "" || rec.Summary.Type != TypeSummary {
				t.Fatalf("summary record %+v", rec.Summary)
			}
		default:
			t.Fatalf("record at line %d does not have exactly one part", rec.Line)
		}
		res.Records = append(res.Records, rec)
	}
	if r.Lines() != len(lines) {
		t.Fatalf("Lines() = %d, input has %d", r.Lines(), len(lines))
	}
	if len(res.Records)+r.WarningCount() > len(lines) {
		t.Fatalf("%d records and %d warnings from %d lines", len(res.Records), r.WarningCount(), len(lines))
	}
	for _, w := range r.Warnings() {
		if w.Line < 1 || w.Line > len(lines) || w.Msg == "" {
			t.Fatalf("warning %+v outside %d lines", w, len(lines))
		}
	}
	res.Warnings = r.Warnings()
	return res
}
