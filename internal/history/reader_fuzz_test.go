package history

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzReader checks that the reader never panics or fails on any input,
// that what it returns is consistent with the input's lines, that its line
// buffer stays within a bound set by the maximum line length, and that every
// record it accepts the writer encodes back to the same record. `go test`
// runs it on the seeds below; `go test -fuzz FuzzReader
// ./internal/history/` explores further.
func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		"",
		"\n\n\r\n",
		putLine + "\n" + getLine + "\n" + faultLine + "\n" + absentLine + "\n" + casLine + "\n",
		putLine + "\n" + casLine[:57],
		putLine + "\r\n\r\n  \n" + otherRunOp + "\n" + otherRunFault,
		"\x00\x01\xff\xfe{\x7f\n\x89PNG\r\n\x1a\n{\xff}",
		`{"type":"op","key":"` + strings.Repeat("x", 300) + `"}` + "\n" + putLine + "\n" + strings.Repeat("y", 301),
		`{"type":"checkpoint","run_id":"r1"}` + "\n" + `{"run_id":"r1"}` + "\n[1,2]\nnull\n42\n\"op\"\n",
		strings.Repeat("[", 150) + "\n" + `{"type":"op","read":` + strings.Repeat(`{"a":`, 30) + "\n",
		strings.Replace(putLine, `"complete_ns":20`, `"complete_ns":null`, 1) + "\n",
		strings.Replace(faultLine, `"end_ns":23`, `"end_ns":1e400`, 1) + "\n",
		`{"type":"op","run_id":"\ud800","client":"c","op":"get","key":"\xff","invoke_ns":0,"complete_ns":0,"status":"ok","type":"fault"}` + "\n",
	} {
		f.Add([]byte(seed))
	}
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
		if c := r.s.BufferCap(); c > 4*maxLine {
			t.Fatalf("line buffer of %d bytes with a %d-byte line limit", c, maxLine)
		}
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
		var entry Entry
		switch {
		case rec.Op != nil && rec.Fault == nil:
			if err := rec.Op.Validate(); err != nil {
				t.Fatalf("line %d: invalid op accepted: %v", rec.Line, err)
			}
			entry = *rec.Op
		case rec.Fault != nil && rec.Op == nil:
			if err := rec.Fault.Validate(); err != nil {
				t.Fatalf("line %d: invalid fault accepted: %v", rec.Line, err)
			}
			entry = *rec.Fault
		default:
			t.Fatalf("record at line %d does not have exactly one part", rec.Line)
		}
		line, err := encode(entry)
		if err != nil {
			t.Fatalf("line %d: the writer refuses what the reader accepted: %v", rec.Line, err)
		}
		back, err := decodeLine(line[:len(line)-1])
		if back.Line = rec.Line; err != nil || !reflect.DeepEqual(back, rec) {
			t.Fatalf("line %d re-encoded as %s decodes to %+v, %v", rec.Line, line, back, err)
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
