package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/jsonl"
)

// BatchSize is how many buffered bytes make the Writer write a batch
// without waiting for FlushInterval.
const BatchSize = 64 << 10

// FlushInterval is how often the Writer writes and fsyncs what is buffered:
// a record reaches the disk about this long after Append at the latest,
// plus the time of a batch write already in progress.
const FlushInterval = 50 * time.Millisecond

// maxBuffered is how many buffered bytes make Append write the batch itself,
// which bounds memory when the disk is slower than the clients.
const maxBuffered = 4 << 20

// keptBuffer is the largest batch buffer kept for reuse.
const keptBuffer = 1 << 20

// ErrClosed is returned by Append and Flush on a closed Writer.
var ErrClosed = errors.New("history log writer closed")

// Entry is a record the Writer appends: an Op or a Fault, by value or pointer.
type Entry interface{ historyEntry() }

func (Op) historyEntry()    {}
func (Fault) historyEntry() {}

// Writer appends records to a history log as JSON lines. Append only
// buffers whole lines; one background goroutine writes the buffer as one
// batch and fsyncs it once BatchSize bytes are waiting or FlushInterval has
// passed, and Flush does so at once. Every batch is written holding an exclusive
// flock on the file, so Writers in this and other processes appending to the
// same log never interleave or tear each other's lines. The first write or
// fsync error stops all writing and is returned by every later Append, Flush
// and Close. Close must be called to stop the goroutine.
type Writer struct {
	path string
	cfg  config

	mu     sync.Mutex // guards buf, err and closed
	buf    []byte
	err    error
	closed bool

	ioMu  sync.Mutex // serializes batches; guards f and spare
	f     *os.File
	spare []byte

	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}

	closeOnce sync.Once
	closeErr  error
}

type config struct {
	batchSize   int
	interval    time.Duration
	maxBuffered int
	sync        func(*os.File) error
}

func defaultConfig() config {
	return config{batchSize: BatchSize, interval: FlushInterval, maxBuffered: maxBuffered, sync: (*os.File).Sync}
}

// Create opens path for appending, creating it and its directory if needed,
// and starts the Writer's background goroutine. Nothing already in the file
// is rewritten. If the file does not end in a newline (a torn record from a
// crash), a newline is written first so that the next record starts on a
// line of its own.
func Create(path string) (*Writer, error) { return create(path, defaultConfig()) }

func create(path string, cfg config) (*Writer, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating history directory %s: %w", dir, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening history log %s: %w", path, err)
	}
	w := &Writer{
		path: path, cfg: cfg, f: f,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	if err := errors.Join(syncDir(dir), w.writeBatch(nil)); err != nil {
		_ = f.Close()
		return nil, err
	}
	go w.loop()
	return w, nil
}

// syncDir makes a newly created log's directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening history directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("syncing history directory %s: %w", dir, err)
	}
	return nil
}

// Path is the file being written.
func (w *Writer) Path() string { return w.path }

// Append validates rec (filling in its type when empty), encodes it as one
// JSON line and buffers it. A nil error means the record is buffered, not
// that it is on disk: that is known once Flush or Close returns nil.
// Append is safe for concurrent use; records of one goroutine reach the
// file in the order it appended them.
func (w *Writer) Append(rec Entry) error {
	line, err := encode(rec)
	if err != nil {
		return err
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return fmt.Errorf("appending to history log %s: %w", w.path, ErrClosed)
	}
	if err := w.err; err != nil {
		w.mu.Unlock()
		return err
	}
	w.buf = append(w.buf, line...)
	n := len(w.buf)
	w.mu.Unlock()
	if n >= w.cfg.maxBuffered {
		return w.flush(w.cfg.maxBuffered)
	}
	if n >= w.cfg.batchSize {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

func encode(rec Entry) ([]byte, error) {
	var (
		v    any
		verr error
	)
	switch r := rec.(type) {
	case *Op:
		if r == nil {
			return nil, errors.New("appending a nil *Op to the history log")
		}
		return encode(*r)
	case *Fault:
		if r == nil {
			return nil, errors.New("appending a nil *Fault to the history log")
		}
		return encode(*r)
	case Op:
		if r.Type == "" {
			r.Type = TypeOp
		}
		v, verr = r, r.Validate()
	case Fault:
		if r.Type == "" {
			r.Type = TypeFault
		}
		v, verr = r, r.Validate()
	default:
		return nil, errors.New("appending a nil record to the history log")
	}
	if verr != nil {
		return nil, fmt.Errorf("appending to the history log: %w", verr)
	}
	line, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding %T history record: %w", v, err)
	}
	if len(line) > DefaultMaxLine {
		return nil, fmt.Errorf("appending to the history log: %T record of %d bytes, over the %d a Reader accepts", v, len(line), DefaultMaxLine)
	}
	return append(line, '\n'), nil
}

// Flush writes every record appended before it was called and fsyncs the
// file, or returns the error that stopped the Writer.
func (w *Writer) Flush() error {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return fmt.Errorf("flushing history log %s: %w", w.path, ErrClosed)
	}
	return w.flush(1)
}

// Close writes and fsyncs what is buffered, stops the background goroutine
// and closes the file. It returns the error that stopped the Writer, if any;
// later calls return what the first returned.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() { w.closeErr = w.close() })
	return w.closeErr
}

func (w *Writer) close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.stopped
	err := w.flush(1)
	w.ioMu.Lock()
	defer w.ioMu.Unlock()
	if cerr := w.f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("closing history log %s: %w", w.path, cerr))
	}
	w.f = nil
	return err
}

func (w *Writer) loop() {
	defer close(w.stopped)
	t := time.NewTicker(w.cfg.interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
		case <-t.C:
		}
		// An error is kept in w.err and returned by the next call.
		_ = w.flush(1)
	}
}

// flush writes and fsyncs the buffered records as one batch when at least
// `least` bytes are buffered and no earlier batch failed; a failure is kept
// as the Writer's error. Batches reach the file in the order they were taken
// from the buffer.
func (w *Writer) flush(least int) error {
	w.ioMu.Lock()
	defer w.ioMu.Unlock()
	w.mu.Lock()
	if len(w.buf) < least || w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	batch := w.buf
	w.buf = w.spare[:0]
	w.mu.Unlock()
	err := fmt.Errorf("writing history log %s: %w", w.path, ErrClosed)
	if w.f != nil {
		err = w.writeBatch(batch)
	}
	if err != nil {
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
	}
	w.spare = nil
	if cap(batch) <= keptBuffer {
		w.spare = batch[:0]
	}
	return err
}

// writeBatch writes batch under the file lock, preceded by a newline if the
// file ends in a torn line, and fsyncs. An empty batch only terminates a
// torn line.
func (w *Writer) writeBatch(batch []byte) error {
	return jsonl.AppendLocked(w.f, batch, w.cfg.sync, "history log")
}
