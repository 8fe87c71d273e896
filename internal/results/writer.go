package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/atomix-failover/atomix-failover/internal/jsonl"
)

// Writer appends records to a results log, one line per record, each written
// with a single write call and fsynced before Append returns. Every append
// holds an exclusive flock on the file, so Writers in this and other
// processes appending to the same log never interleave or tear each other's
// lines.
type Writer struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// Create opens path for appending, creating it and its directory if needed.
// Nothing already in the file is rewritten. If the file does not end in a
// newline (a torn record from a crash), a newline is written first so that
// the next record starts on a line of its own.
func Create(path string) (*Writer, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating results directory %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening results log %s: %w", path, err)
	}
	w := &Writer{f: f, path: path}
	if err := w.appendLocked(nil); err != nil {
		_ = f.Close()
		return nil, err
	}
	return w, nil
}

// Path is the file being written.
func (w *Writer) Path() string { return w.path }

// Append marshals rec as one JSON line and, holding an exclusive flock on the
// file, terminates a torn last line left by a crashed writer, writes the
// line with one write call and fsyncs.
func (w *Writer) Append(rec any) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding %T record: %w", rec, err)
	}
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.appendLocked(line)
}

// appendLocked writes line under the file lock, preceded by a newline if the
// file ends in a torn line, and fsyncs. An empty line only terminates a torn line.
func (w *Writer) appendLocked(line []byte) error {
	return jsonl.AppendLocked(w.f, line, (*os.File).Sync, "results log")
}

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", w.path, err)
	}
	return nil
}
