package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
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
func (w *Writer) appendLocked(line []byte) (err error) {
	if err := w.flock(syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking results log %s: %w", w.path, err)
	}
	defer func() {
		if uerr := w.flock(syscall.LOCK_UN); uerr != nil {
			err = errors.Join(err, fmt.Errorf("unlocking results log %s: %w", w.path, uerr))
		}
	}()
	torn, err := w.endsTorn()
	if err != nil {
		return err
	}
	if torn {
		line = append([]byte{'\n'}, line...)
	}
	if len(line) == 0 {
		return nil
	}
	// os.File.Write repeats short writes until all of line is written or it fails.
	if _, err := w.f.Write(line); err != nil {
		return fmt.Errorf("appending to %s: %w", w.path, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", w.path, err)
	}
	return nil
}

// endsTorn reports whether the file is not empty and does not end in a newline.
func (w *Writer) endsTorn() (bool, error) {
	st, err := w.f.Stat()
	if err != nil {
		return false, fmt.Errorf("checking results log %s: %w", w.path, err)
	}
	if st.Size() == 0 {
		return false, nil
	}
	var last [1]byte
	if _, err := w.f.ReadAt(last[:], st.Size()-1); err != nil {
		return false, fmt.Errorf("reading end of results log %s: %w", w.path, err)
	}
	return last[0] != '\n', nil
}

func (w *Writer) flock(how int) error {
	rc, err := w.f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if ferr = syscall.Flock(int(fd), how); !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
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
