package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Writer appends records to a results log, one line per record, each written
// with a single write call and fsynced before Append returns.
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
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening results log %s: %w", path, err)
	}
	w := &Writer{f: f, path: path}
	if err := w.terminateTornLine(); err != nil {
		_ = f.Close()
		return nil, err
	}
	return w, nil
}

func (w *Writer) terminateTornLine() error {
	st, err := w.f.Stat()
	if err != nil {
		return fmt.Errorf("checking results log %s: %w", w.path, err)
	}
	if st.Size() == 0 {
		return nil
	}
	r, err := os.Open(w.path)
	if err != nil {
		return fmt.Errorf("reading results log %s: %w", w.path, err)
	}
	defer func() { _ = r.Close() }()
	last := make([]byte, 1)
	if _, err := r.ReadAt(last, st.Size()-1); err != nil {
		return fmt.Errorf("reading end of results log %s: %w", w.path, err)
	}
	if last[0] == '\n' {
		return nil
	}
	if _, err := w.f.Write([]byte("\n")); err != nil {
		return fmt.Errorf("terminating torn line in %s: %w", w.path, err)
	}
	return w.f.Sync()
}

// Path is the file being written.
func (w *Writer) Path() string { return w.path }

// Append marshals rec as one JSON line, writes it with one write call and fsyncs.
func (w *Writer) Append(rec any) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding %T record: %w", rec, err)
	}
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.f.Write(line); err != nil {
		return fmt.Errorf("appending to %s: %w", w.path, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", w.path, err)
	}
	return nil
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
