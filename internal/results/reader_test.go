package results

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

const (
	runLine     = `{"type":"run","run_id":"r1","started_at":"2026-11-25T10:00:00Z","seed":7,"target":"local","store":"raft","partitions":3,"replicas":3,"scenarios":["immediate"]}`
	trialLine   = `{"type":"trial","run_id":"r1","trial":1,"scenario":"immediate","delay_ns":0,"partition":2,"key":"k","value":"v","started_at":"2026-11-25T10:00:01Z","t":{"write_start":0,"write_ack":1000000,"kill_sent":1200000,"first_ok":900000000},"recovery_ns":898800000,"write":{"status":"ok"},"verify":{"status":"ok","attempts":1,"value":"v"},"outcome":"durable"}`
	summaryLine = `{"type":"summary","run_id":"r1","trials":1,"ended_at":"2026-11-25T10:00:05Z","outcomes":{"durable":1}}`
)

type readResult struct {
	kinds    []string // "run", "trial", "summary" with their line numbers
	lines    []int
	warnings []Warning
	nlines   int
}

func readAll(t testing.TB, r *Reader) readResult {
	t.Helper()
	var res readResult
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		var kind string
		n := 0
		if rec.Run != nil {
			kind, n = TypeRun, n+1
		}
		if rec.Trial != nil {
			kind, n = TypeTrial, n+1
		}
		if rec.Summary != nil {
			kind, n = TypeSummary, n+1
		}
		if n != 1 {
			t.Fatalf("record at line %d has %d parts set, want exactly 1", rec.Line, n)
		}
		res.kinds = append(res.kinds, kind)
		res.lines = append(res.lines, rec.Line)
	}
	res.warnings = r.Warnings()
	res.nlines = r.Lines()
	if r.WarningCount() != len(res.warnings) {
		t.Fatalf("WarningCount %d, kept %d (fewer than the limit)", r.WarningCount(), len(res.warnings))
	}
	return res
}

func TestReader(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		maxLine  int
		kinds    []string
		lines    []int
		warnings []string // substring expected in each warning, in order, with its line prefix
		nlines   int
	}{
		{name: "empty", input: "", nlines: 0},
		{name: "only newlines", input: "\n\n\r\n", nlines: 3},
		{
			name:   "one run",
			input:  runLine + "\n" + trialLine + "\n" + summaryLine + "\n",
			kinds:  []string{"run", "trial", "summary"},
			lines:  []int{1, 2, 3},
			nlines: 3,
		},
		{
			name:     "torn last line",
			input:    runLine + "\n" + trialLine + "\n" + trialLine[:57],
			kinds:    []string{"run", "trial"},
			lines:    []int{1, 2},
			warnings: []string{"line 3: torn last line (57 bytes"},
			nlines:   3,
		},
		{
			name:   "complete last line without newline is kept",
			input:  runLine + "\n" + trialLine,
			kinds:  []string{"run", "trial"},
			lines:  []int{1, 2},
			nlines: 2,
		},
		{
			name:   "CRLF and blank lines",
			input:  runLine + "\r\n\r\n  \n" + trialLine + "\r\n",
			kinds:  []string{"run", "trial"},
			lines:  []int{1, 4},
			nlines: 4,
		},
		{
			name:     "torn line in the middle terminated by the writer",
			input:    runLine + "\n" + trialLine[:80] + "\n" + trialLine + "\n",
			kinds:    []string{"run", "trial"},
			lines:    []int{1, 3},
			warnings: []string{"line 2: malformed record: unexpected end of JSON input"},
			nlines:   3,
		},
		{
			name: "wrong field types",
			input: strings.Replace(trialLine, `"delay_ns":0`, `"delay_ns":"0"`, 1) + "\n" +
				strings.Replace(trialLine, `"write_ack":1000000`, `"write_ack":true`, 1) + "\n" +
				strings.Replace(runLine, `"partitions":3`, `"partitions":[3]`, 1) + "\n" + trialLine + "\n",
			kinds: []string{"trial"},
			lines: []int{4},
			warnings: []string{
				"line 1: malformed record: json: cannot unmarshal string",
				"line 2: malformed record: json: cannot unmarshal bool",
				"line 3: malformed record: json: cannot unmarshal array",
			},
			nlines: 4,
		},
		{
			name: "records of the wrong type",
			input: `{"type":"checkpoint","run_id":"r1"}` + "\n" + `{"run_id":"r1"}` + "\n" +
				`{"type":"trial","trial":3,"outcome":"durable"}` + "\n" +
				strings.Replace(trialLine, `"outcome":"durable"`, `"outcome":"fine"`, 1) + "\n" +
				"[1,2]\nnull\n42\n\"trial\"\n",
			warnings: []string{
				`line 1: unknown record type "checkpoint"`,
				`line 2: record without "type"`,
				`line 3: trial record without "run_id"`,
				`line 4: trial 1: unknown outcome "fine"`,
				"line 5: not a JSON object",
				"line 6: not a JSON object",
				"line 7: not a JSON object",
				"line 8: not a JSON object",
			},
			nlines: 8,
		},
		{
			name:     "binary garbage",
			input:    "\x00\x01\xff\xfe{\x7f\n\x89PNG\r\n\x1a\n" + trialLine + "\n{\xff}",
			kinds:    []string{"trial"},
			lines:    []int{4},
			warnings: []string{"line 1: not a JSON object", "line 2: not a JSON object", "line 3: not a JSON object", "line 5: torn last line"},
			nlines:   5,
		},
		{
			name:     "line over the limit is skipped, the next one read",
			input:    `{"type":"trial","key":"` + strings.Repeat("x", 300) + `"}` + "\n" + runLine + "\n" + strings.Repeat("y", 301),
			maxLine:  len(runLine),
			kinds:    []string{"run"},
			lines:    []int{2},
			warnings: []string{"line 1: line longer than 159 bytes", "line 3: line longer than 159 bytes"},
			nlines:   3,
		},
		{
			name:    "line exactly at the limit is read",
			input:   runLine + "\n" + runLine,
			maxLine: len(runLine),
			kinds:   []string{"run", "run"},
			lines:   []int{1, 2},
			nlines:  2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Read through the normal buffer and through one-byte reads with
			// the smallest buffer, which splits every line into many chunks.
			for _, small := range []bool{false, true} {
				var r *Reader
				if small {
					r = newReaderSize(iotest.OneByteReader(strings.NewReader(tt.input)), 16)
				} else {
					r = NewReader(strings.NewReader(tt.input))
				}
				if tt.maxLine > 0 {
					r.SetMaxLine(tt.maxLine)
				}
				got := readAll(t, r)
				if !reflect.DeepEqual(got.kinds, tt.kinds) || !reflect.DeepEqual(got.lines, tt.lines) {
					t.Errorf("small=%v: records %v at lines %v, want %v at %v", small, got.kinds, got.lines, tt.kinds, tt.lines)
				}
				if got.nlines != tt.nlines {
					t.Errorf("small=%v: Lines() = %d, want %d", small, got.nlines, tt.nlines)
				}
				if len(got.warnings) != len(tt.warnings) {
					t.Fatalf("small=%v: warnings %v, want %d like %q", small, got.warnings, len(tt.warnings), tt.warnings)
				}
				for i, w := range got.warnings {
					if !strings.HasPrefix(w.String(), tt.warnings[i]) {
						t.Errorf("small=%v: warning %d = %q, want prefix %q", small, i, w, tt.warnings[i])
					}
				}
			}
		})
	}
}

func TestReaderDecodesFields(t *testing.T) {
	r := NewReader(strings.NewReader(runLine + "\n" + trialLine + "\n" + summaryLine + "\n"))
	run, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if run.Run.RunID != "r1" || run.Run.Seed != 7 || run.Run.Partitions != 3 || len(run.Run.Scenarios) != 1 {
		t.Errorf("run = %+v", run.Run)
	}
	tr, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	tt := tr.Trial
	if tt.Type != TypeTrial || tt.Trial != 1 || tt.Partition != 2 || tt.Outcome != OutcomeDurable ||
		tt.T.WriteAck == nil || *tt.T.WriteAck != 1000000 || tt.T.NewLeader != nil ||
		tt.RecoveryNS == nil || *tt.RecoveryNS != 898800000 || tt.Verify.Attempts != 1 {
		t.Errorf("trial = %+v", tt)
	}
	sum, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Summary.Trials != 1 || sum.Summary.Outcomes[OutcomeDurable] != 1 || sum.Summary.EndedAt == "" {
		t.Errorf("summary = %+v", sum.Summary)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last record: %v, want io.EOF", err)
	}
}

// A line over the default limit (16 MiB) is skipped without keeping it.
func TestReaderMultiMegabyteLine(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(runLine + "\n")
	b.WriteString(`{"type":"trial","run_id":"r1","value":"`)
	b.Write(bytes.Repeat([]byte("v"), DefaultMaxLine))
	b.WriteString("\"}\n")
	b.WriteString(`{"type":"trial","run_id":"r1","value":"` + strings.Repeat("w", 3<<20) + `","outcome":"lost"}` + "\n")
	b.WriteString(summaryLine + "\n")
	got := readAll(t, NewReader(&b))
	if want := []string{"run", "trial", "summary"}; !reflect.DeepEqual(got.kinds, want) {
		t.Errorf("records %v, want %v", got.kinds, want)
	}
	if len(got.warnings) != 1 || got.warnings[0].Line != 2 || !strings.Contains(got.warnings[0].Msg, "longer than 16777216 bytes") {
		t.Errorf("warnings %v, want one for line 2", got.warnings)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk on fire")
	}
	f.n = 0
	return copy(p, runLine+"\n"), nil
}

func TestReaderReturnsReadErrors(t *testing.T) {
	r := NewReader(&failingReader{n: 1})
	if _, err := r.Next(); err != nil {
		t.Fatalf("first record: %v", err)
	}
	_, err := r.Next()
	if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want the read error for line 2", err)
	}
}

func TestReaderKeepsBoundedWarnings(t *testing.T) {
	input := strings.Repeat("garbage\n", MaxKeptWarnings+5)
	r := NewReader(strings.NewReader(input))
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	if len(r.Warnings()) != MaxKeptWarnings || r.WarningCount() != MaxKeptWarnings+5 {
		t.Errorf("kept %d, counted %d", len(r.Warnings()), r.WarningCount())
	}
}
