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

const (
	putLine       = `{"type":"op","run_id":"r1","trial":1,"client":"c1","op":"put","key":"k","value":"v1","read":null,"version":1,"invoke_ns":10,"complete_ns":20,"status":"ok"}`
	getLine       = `{"type":"op","run_id":"r1","trial":1,"client":"c2","op":"get","key":"k","read":"v1","version":1,"invoke_ns":15,"complete_ns":25,"status":"ok"}`
	absentLine    = `{"type":"op","run_id":"r1","trial":1,"client":"c2","op":"get","key":"k9","read":null,"invoke_ns":30,"complete_ns":31,"status":"ok"}`
	casLine       = `{"type":"op","run_id":"r1","trial":1,"client":"c3","op":"cas","key":"k","value":"v2","expect_version":1,"read":null,"invoke_ns":40,"complete_ns":null,"status":"unknown","error":"deadline"}`
	faultLine     = `{"type":"fault","run_id":"r1","trial":1,"fault":"kill","target":"node-2","partition":2,"start_ns":22,"end_ns":23}`
	otherRunOp    = `{"type":"op","run_id":"r2","client":"c1","op":"put","key":"k","value":"w1","invoke_ns":1,"complete_ns":2,"status":"fail"}`
	otherRunFault = `{"type":"fault","run_id":"r2","fault":"restart","target":"node-1","start_ns":5}`
)

type readResult struct {
	kinds    []string // "op" or "fault", at lines
	lines    []int
	warnings []Warning
	nlines   int
}

func readRecords(t testing.TB, r *Reader) readResult {
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
		switch {
		case rec.Op != nil && rec.Fault == nil:
			res.kinds = append(res.kinds, TypeOp)
		case rec.Fault != nil && rec.Op == nil:
			res.kinds = append(res.kinds, TypeFault)
		default:
			t.Fatalf("record at line %d has not exactly one of Op and Fault", rec.Line)
		}
		res.lines = append(res.lines, rec.Line)
	}
	res.warnings = r.Warnings()
	res.nlines = r.Lines()
	if r.WarningCount() != len(res.warnings) {
		t.Fatalf("WarningCount %d, kept %d (fewer than the limit)", r.WarningCount(), len(res.warnings))
	}
	return res
}

// edit replaces old by new in line, which must contain it.
func edit(t *testing.T, line, old, new string) string {
	t.Helper()
	if !strings.Contains(line, old) {
		t.Fatalf("%q not in %s", old, line)
	}
	return strings.Replace(line, old, new, 1)
}

func TestReader(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		maxLine  int
		kinds    []string
		lines    []int
		warnings []string // prefix of each warning, in order, with its line
		nlines   int
	}{
		{name: "empty", input: "", nlines: 0},
		{name: "only newlines", input: "\n\n\r\n", nlines: 3},
		{
			name:   "every kind of record",
			input:  putLine + "\n" + getLine + "\n" + faultLine + "\n" + absentLine + "\n" + casLine + "\n" + otherRunOp + "\n" + otherRunFault + "\n",
			kinds:  []string{"op", "op", "fault", "op", "op", "op", "fault"},
			lines:  []int{1, 2, 3, 4, 5, 6, 7},
			nlines: 7,
		},
		{
			name:     "torn last line",
			input:    putLine + "\n" + getLine + "\n" + casLine[:57],
			kinds:    []string{"op", "op"},
			lines:    []int{1, 2},
			warnings: []string{"line 3: torn last line (57 bytes, no newline at end of file): malformed record"},
			nlines:   3,
		},
		{
			name:   "complete last line without newline is kept",
			input:  putLine + "\n" + faultLine,
			kinds:  []string{"op", "fault"},
			lines:  []int{1, 2},
			nlines: 2,
		},
		{
			name:   "CRLF and blank lines",
			input:  putLine + "\r\n\r\n  \n" + getLine + "\r\n",
			kinds:  []string{"op", "op"},
			lines:  []int{1, 4},
			nlines: 4,
		},
		{
			name:     "torn line in the middle terminated by the writer",
			input:    putLine + "\n" + getLine[:80] + "\n" + getLine + "\n",
			kinds:    []string{"op", "op"},
			lines:    []int{1, 3},
			warnings: []string{"line 2: malformed record: unexpected end of JSON input"},
			nlines:   3,
		},
		{
			name: "wrong field types",
			input: edit(t, putLine, `"invoke_ns":10`, `"invoke_ns":"10"`) + "\n" +
				edit(t, getLine, `"read":"v1"`, `"read":1`) + "\n" +
				edit(t, casLine, `"expect_version":1`, `"expect_version":-1`) + "\n" +
				edit(t, faultLine, `"end_ns":23`, `"end_ns":[23]`) + "\n" + putLine + "\n",
			kinds: []string{"op"},
			lines: []int{5},
			warnings: []string{
				"line 1: malformed record: json: cannot unmarshal string",
				"line 2: malformed record: json: cannot unmarshal number",
				"line 3: malformed record: json: cannot unmarshal number -1",
				"line 4: malformed record: json: cannot unmarshal array",
			},
			nlines: 5,
		},
		{
			name: "invalid op records",
			input: strings.Join([]string{
				edit(t, putLine, `"run_id":"r1",`, ``),
				edit(t, putLine, `"client":"c1"`, `"client":""`),
				edit(t, putLine, `"op":"put"`, `"op":"delete"`),
				edit(t, putLine, `"key":"k",`, ``),
				edit(t, putLine, `"status":"ok"`, `"status":"info"`),
				edit(t, putLine, `"status":"ok"`, `"status":"OK"`),
				edit(t, putLine, `"complete_ns":20`, `"complete_ns":null`),
				edit(t, putLine, `,"complete_ns":20`, ``),
				edit(t, edit(t, getLine, `"status":"ok"`, `"status":"fail"`), `"complete_ns":25`, `"complete_ns":null`),
				edit(t, putLine, `"complete_ns":20`, `"complete_ns":9`),
				edit(t, putLine, `"invoke_ns":10`, `"invoke_ns":-10`),
				edit(t, getLine, `"read":"v1"`, `"read":null`),
				edit(t, casLine, `"complete_ns":null,`, ``),
			}, "\n") + "\n",
			kinds: []string{"op", "op"},
			lines: []int{12, 13},
			warnings: []string{
				`line 1: op record without "run_id"`,
				`line 2: op record without "client"`,
				`line 3: op record: unknown op "delete"`,
				`line 4: op record without "key"`,
				`line 5: op record: unknown status "info"`,
				`line 6: op record: unknown status "OK"`,
				`line 7: op record: status ok without "complete_ns"`,
				`line 8: op record: status ok without "complete_ns"`,
				`line 9: op record: status fail without "complete_ns"`,
				`line 10: op record: complete_ns 9 before invoke_ns 10`,
				`line 11: op record: invoke_ns -10 before the run's start`,
			},
			nlines: 13,
		},
		{
			name: "invalid fault records",
			input: strings.Join([]string{
				edit(t, faultLine, `"run_id":"r1"`, `"run_id":""`),
				edit(t, faultLine, `"fault":"kill"`, `"fault":"flood"`),
				edit(t, faultLine, `"fault":"kill",`, ``),
				edit(t, faultLine, `"end_ns":23`, `"end_ns":21`),
				edit(t, faultLine, `,"end_ns":23`, `,"end_ns":null`),
			}, "\n") + "\n",
			kinds: []string{"fault"},
			lines: []int{5},
			warnings: []string{
				`line 1: fault record without "run_id"`,
				`line 2: fault record: unknown fault "flood"`,
				`line 3: fault record: unknown fault ""`,
				`line 4: fault record: end_ns 21 before start_ns 22`,
			},
			nlines: 5,
		},
		{
			name: "records of the wrong type",
			input: `{"type":"checkpoint","run_id":"r1"}` + "\n" + `{"run_id":"r1","op":"put"}` + "\n" +
				`{"type":"OP","run_id":"r1"}` + "\n" + "[1,2]\nnull\n42\n\"op\"\n",
			warnings: []string{
				`line 1: unknown record type "checkpoint"`,
				`line 2: record without "type"`,
				`line 3: unknown record type "OP"`,
				"line 4: not a JSON object",
				"line 5: not a JSON object",
				"line 6: not a JSON object",
				"line 7: not a JSON object",
			},
			nlines: 7,
		},
		{
			name:     "binary garbage",
			input:    "\x00\x01\xff\xfe{\x7f\n\x89PNG\r\n\x1a\n" + getLine + "\n{\xff}",
			kinds:    []string{"op"},
			lines:    []int{4},
			warnings: []string{"line 1: not a JSON object", "line 2: not a JSON object", "line 3: not a JSON object", "line 5: torn last line"},
			nlines:   5,
		},
		{
			name:     "line over the limit is skipped, the next one read",
			input:    `{"type":"op","key":"` + strings.Repeat("x", 300) + `"}` + "\n" + putLine + "\n" + strings.Repeat("y", 301),
			maxLine:  len(putLine),
			kinds:    []string{"op"},
			lines:    []int{2},
			warnings: []string{"line 1: line longer than 155 bytes", "line 3: line longer than 155 bytes"},
			nlines:   3,
		},
		{
			name:    "line exactly at the limit is read",
			input:   putLine + "\n" + putLine,
			maxLine: len(putLine),
			kinds:   []string{"op", "op"},
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
				got := readRecords(t, r)
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
	r := NewReader(strings.NewReader(absentLine + "\n" + casLine + "\n" + faultLine + "\n" + otherRunFault + "\n"))
	next := func() Record {
		t.Helper()
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	want := []Record{
		{Line: 1, Op: &Op{Type: TypeOp, RunID: "r1", Trial: 1, Client: "c2", Op: OpGet, Key: "k9", InvokeNS: 30, CompleteNS: i64(31), Status: StatusOK}},
		{Line: 2, Op: &Op{
			Type: TypeOp, RunID: "r1", Trial: 1, Client: "c3", Op: OpCAS, Key: "k", Value: "v2", ExpectVersion: u64(1),
			InvokeNS: 40, Status: StatusUnknown, Error: "deadline",
		}},
		{Line: 3, Fault: &Fault{Type: TypeFault, RunID: "r1", Trial: 1, Fault: FaultKill, Target: "node-2", Partition: 2, StartNS: 22, EndNS: i64(23)}},
		{Line: 4, Fault: &Fault{Type: TypeFault, RunID: "r2", Fault: FaultRestart, Target: "node-1", StartNS: 5}},
	}
	for _, w := range want {
		if got := next(); !reflect.DeepEqual(got, w) {
			t.Errorf("line %d:\n got %+v %+v\nwant %+v %+v", w.Line, got.Op, got.Fault, w.Op, w.Fault)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last record: %v, want io.EOF", err)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after io.EOF: %v, want io.EOF", err)
	}
}

func TestReadAll(t *testing.T) {
	input := putLine + "\n" + otherRunOp + "\n" + faultLine + "\ngarbage\n" + otherRunFault + "\n" + getLine + "\n" + casLine[:30]
	tests := []struct {
		run            string
		clients        []string
		targets        []string
		warningsPrefix []string
	}{
		{run: "r1", clients: []string{"c1", "c2"}, targets: []string{"node-2"}, warningsPrefix: []string{"line 4: not a JSON object", "line 7: torn last line"}},
		{run: "r2", clients: []string{"c1"}, targets: []string{"node-1"}, warningsPrefix: []string{"line 4:", "line 7:"}},
		{run: "", clients: []string{"c1", "c1", "c2"}, targets: []string{"node-2", "node-1"}, warningsPrefix: []string{"line 4:", "line 7:"}},
		{run: "r3", warningsPrefix: []string{"line 4:", "line 7:"}},
	}
	for _, tt := range tests {
		t.Run("run="+tt.run, func(t *testing.T) {
			ops, faults, warnings, err := ReadAll(strings.NewReader(input), tt.run)
			if err != nil {
				t.Fatal(err)
			}
			var clients, targets []string
			for _, op := range ops {
				clients = append(clients, op.Client)
				if tt.run != "" && op.RunID != tt.run {
					t.Errorf("op of run %s", op.RunID)
				}
			}
			for _, f := range faults {
				targets = append(targets, f.Target)
				if tt.run != "" && f.RunID != tt.run {
					t.Errorf("fault of run %s", f.RunID)
				}
			}
			if !reflect.DeepEqual(clients, tt.clients) || !reflect.DeepEqual(targets, tt.targets) {
				t.Errorf("ops of %v and faults on %v, want %v and %v", clients, targets, tt.clients, tt.targets)
			}
			if len(warnings) != len(tt.warningsPrefix) {
				t.Fatalf("warnings %v, want %q", warnings, tt.warningsPrefix)
			}
			for i, w := range warnings {
				if !strings.HasPrefix(w.String(), tt.warningsPrefix[i]) {
					t.Errorf("warning %d = %q, want prefix %q", i, w, tt.warningsPrefix[i])
				}
			}
		})
	}
}

func TestReadAllBoundsWarnings(t *testing.T) {
	input := strings.Repeat("garbage\n", MaxKeptWarnings+5) + putLine + "\n"
	ops, _, warnings, err := ReadAll(strings.NewReader(input), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || len(warnings) != MaxKeptWarnings+1 {
		t.Fatalf("%d ops, %d warnings; want 1 and %d", len(ops), len(warnings), MaxKeptWarnings+1)
	}
	if last := warnings[MaxKeptWarnings]; last.String() != "line 1006: 5 more warnings not kept" {
		t.Errorf("last warning %q", last)
	}
}

func TestReaderKeepsBoundedWarnings(t *testing.T) {
	r := NewReader(strings.NewReader(strings.Repeat("garbage\n", MaxKeptWarnings+5)))
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	if len(r.Warnings()) != MaxKeptWarnings || r.WarningCount() != MaxKeptWarnings+5 {
		t.Errorf("kept %d, counted %d", len(r.Warnings()), r.WarningCount())
	}
}

// A line over the default limit is skipped without keeping it.
func TestReaderMultiMegabyteLine(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(putLine + "\n")
	b.WriteString(`{"type":"op","run_id":"r1","value":"`)
	b.Write(bytes.Repeat([]byte("v"), DefaultMaxLine))
	b.WriteString("\"}\n")
	b.WriteString(edit(t, getLine, `"read":"v1"`, `"read":"`+strings.Repeat("w", 3<<20)+`"`) + "\n")
	b.WriteString(faultLine + "\n")
	r := NewReader(&b)
	got := readRecords(t, r)
	if want := []string{"op", "op", "fault"}; !reflect.DeepEqual(got.kinds, want) {
		t.Errorf("records %v, want %v", got.kinds, want)
	}
	if len(got.warnings) != 1 || got.warnings[0].Line != 2 || !strings.Contains(got.warnings[0].Msg, "longer than 16777216 bytes") {
		t.Errorf("warnings %v, want one for line 2", got.warnings)
	}
	if c := r.s.BufferCap(); c > 1<<20 {
		t.Errorf("line buffer of %d bytes kept after the long lines", c)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk on fire")
	}
	f.n = 0
	return copy(p, putLine+"\n"), nil
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
	ops, _, _, err := ReadAll(&failingReader{n: 1}, "")
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || len(ops) != 1 {
		t.Fatalf("ReadAll = %d ops, %v; want the op read before the error and the error", len(ops), err)
	}
}
