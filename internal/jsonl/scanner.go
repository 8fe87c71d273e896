// Package jsonl holds what the project's JSON-lines logs share: a scanner
// that reads lines with a length limit and keeps warnings about the lines it
// skips, and a locked, fsynced append that never tears or interleaves
// lines. It knows nothing of what the lines hold.
package jsonl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLine is the longest line, in bytes without its newline, that a
// Scanner returns; longer lines are skipped with a warning.
const DefaultMaxLine = 16 << 20

// MaxKeptWarnings is how many warnings a Scanner keeps verbatim; the rest
// are only counted.
const MaxKeptWarnings = 1000

// Warning is a problem with one line of a log that made the reader skip it.
type Warning struct {
	Line int
	Msg  string
}

// String is the warning as "line N: message".
func (w Warning) String() string { return fmt.Sprintf("line %d: %s", w.Line, w.Msg) }

// Scanner reads a log line by line. Memory is bounded by the maximum line
// length: a longer line is consumed but not kept, and skipped with a warning.
type Scanner struct {
	br       *bufio.Reader
	what     string
	maxLine  int
	line     int
	buf      []byte
	warnings []Warning
	nwarn    int
	done     bool
}

// NewScanner returns a Scanner of r with a read buffer of size bytes and the
// DefaultMaxLine limit; what names the log in read errors ("results log").
func NewScanner(r io.Reader, size int, what string) *Scanner {
	return &Scanner{br: bufio.NewReaderSize(r, size), what: what, maxLine: DefaultMaxLine}
}

// SetMaxLine changes the longest accepted line (n bytes, at least 1).
func (s *Scanner) SetMaxLine(n int) { s.maxLine = max(n, 1) }

// MaxLine is the longest accepted line.
func (s *Scanner) MaxLine() int { return s.maxLine }

// Lines is the number of lines read so far.
func (s *Scanner) Lines() int { return s.line }

// Warnings returns the first MaxKeptWarnings warnings.
func (s *Scanner) Warnings() []Warning { return s.warnings }

// WarningCount is the number of warnings, kept or not.
func (s *Scanner) WarningCount() int { return s.nwarn }

// BufferCap is the capacity of the line buffer kept between lines.
func (s *Scanner) BufferCap() int { return cap(s.buf) }

// Warn records a warning about line.
func (s *Scanner) Warn(line int, format string, args ...any) {
	s.nwarn++
	if len(s.warnings) < MaxKeptWarnings {
		s.warnings = append(s.warnings, Warning{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
}

// Next returns the next non-blank line, trimmed, with its 1-based number;
// complete is false for a last line without a newline (a torn line). Lines
// over the limit are skipped with a warning. The slice is valid until the
// next call. It returns io.EOF at the end, and another error only when
// reading the input fails.
func (s *Scanner) Next() (line []byte, n int, complete bool, err error) {
	for !s.done {
		line, complete, tooLong, err := s.readLine()
		if err != nil {
			return nil, 0, false, err
		}
		if !complete {
			s.done = true
			if len(line) == 0 && !tooLong {
				break // the input ends with a newline
			}
		}
		s.line++
		if tooLong {
			s.Warn(s.line, "line longer than %d bytes: skipped", s.maxLine)
			continue
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			return line, s.line, complete, nil
		}
	}
	return nil, 0, false, io.EOF
}

// readLine returns the next line without its newline; complete is false
// for a last line that has no newline (or for none at all at the end of the
// input). A line over the limit is consumed but not kept: tooLong is set.
func (s *Scanner) readLine() (line []byte, complete, tooLong bool, err error) {
	s.buf = s.buf[:0]
	if cap(s.buf) > 1<<20 {
		s.buf = nil // do not keep a multi-megabyte buffer after a long line
	}
	first := true
	for {
		chunk, err := s.br.ReadSlice('\n')
		switch {
		case err == nil:
			chunk = chunk[:len(chunk)-1]
			if tooLong || len(s.buf)+len(chunk) > s.maxLine {
				return nil, true, true, nil
			}
			if first {
				return chunk, true, false, nil // common case: no copy
			}
			s.buf = append(s.buf, chunk...)
			return s.buf, true, false, nil
		case errors.Is(err, bufio.ErrBufferFull), errors.Is(err, io.EOF):
			if !tooLong && len(s.buf)+len(chunk) > s.maxLine {
				tooLong = true
				s.buf = s.buf[:0]
			}
			if !tooLong {
				s.buf = append(s.buf, chunk...)
			}
			if errors.Is(err, io.EOF) {
				return s.buf, false, tooLong, nil
			}
			first = false
		default:
			return nil, false, false, fmt.Errorf("reading %s line %d: %w", s.what, s.line+1, err)
		}
	}
}
