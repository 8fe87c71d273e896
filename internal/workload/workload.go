// Package workload runs the concurrent workload of issue 9: clients, each
// with a map of its own when the target can open one, issuing a
// rate-limited mix of puts, gets and compare-and-sets on a few hot keys per
// partition and puts of write-once keys, and recording every operation in a
// history log on the run's one monotonic clock. It knows cluster and history
// (and keyspace, to route hot keys); nothing here imports experiment.
package workload

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/history"
)

// Stats is what a workload has done so far.
type Stats struct {
	// Clients is the number of clients.
	Clients int `json:"clients"`
	// Sessions is true when every client had a client of its own
	// (cluster.Sessions.OpenClient), false when all shared Target.Map.
	Sessions bool  `json:"sessions"`
	OK       int64 `json:"ok"`
	Fail     int64 `json:"fail"`
	Unknown  int64 `json:"unknown"`
}

// Total is the number of operations recorded.
func (s Stats) Total() int64 { return s.OK + s.Fail + s.Unknown }

// Workload is a running workload. Its methods are safe for concurrent use.
type Workload struct {
	cfg      Config
	target   cluster.Target
	hist     *history.Writer
	clock    *Clock
	log      *zap.Logger
	limiter  *rate.Limiter
	hotKeys  []string
	sessions bool
	// instance tells this Workload's values and write-once keys from those
	// of another one in the same run (e.g. after a wipe): Atomix answers a
	// put of the value a key already holds with the old version, which would
	// read as a violation, and a read must name exactly one write.
	instance string

	trial   atomic.Int64
	ok      atomic.Int64
	fail    atomic.Int64
	unknown atomic.Int64

	clients []*client
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	errMu sync.Mutex
	err   error

	stopOnce sync.Once
	stopErr  error
}

// Start opens a map per client and starts the clients; they run until Stop
// or until ctx ends. Every record goes to hist, timed on clock.
func Start(ctx context.Context, cfg Config, target cluster.Target, hist *history.Writer, clock *Clock, log *zap.Logger) (*Workload, error) {
	cfg, err := cfg.withDefaults(target.Info().Partitions)
	if err != nil {
		return nil, err
	}
	_, sessions := target.(cluster.Sessions)
	w := &Workload{
		cfg: cfg, target: target, hist: hist, clock: clock, log: log,
		limiter:  rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Burst),
		hotKeys:  HotKeys(cfg.KeyPrefix, cfg.Partitions, cfg.HotKeysPerPartition),
		sessions: sessions,
		instance: newInstance(),
	}
	w.trial.Store(int64(cfg.FirstTrial))
	if err := w.openClients(ctx); err != nil {
		return nil, errors.Join(err, w.closeMaps())
	}
	runCtx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	for _, c := range w.clients {
		w.wg.Go(func() { c.run(runCtx) })
	}
	log.Info("workload started", zap.String("run_id", cfg.RunID), zap.Int("clients", cfg.Clients),
		zap.Float64("rate", cfg.Rate), zap.Int("hot_keys", len(w.hotKeys)), zap.Bool("sessions", sessions),
		zap.String("map", cfg.Map))
	return w, nil
}

func (w *Workload) openClients(ctx context.Context) error {
	for i := range w.cfg.Clients {
		m, err := w.openMap(ctx)
		if err != nil {
			return fmt.Errorf("opening map %q for client %d: %w", w.cfg.Map, i+1, err)
		}
		w.clients = append(w.clients, newClient(w, fmt.Sprintf("c%d", i+1), m, w.cfg.Seed+uint64(i)))
	}
	return nil
}

// openMap opens a map over a client of its own when the target can, else
// through the target's shared data path; the call has OpTimeout.
func (w *Workload) openMap(ctx context.Context) (cluster.Map, error) {
	octx, cancel := context.WithTimeout(ctx, w.cfg.OpTimeout)
	defer cancel()
	if s, ok := w.target.(cluster.Sessions); ok {
		return s.OpenClient(octx, w.cfg.Map)
	}
	return w.target.Map(octx, w.cfg.Map)
}

// SetTrial attributes the operations invoked from now on to trial n (0: none).
func (w *Workload) SetTrial(n int) { w.trial.Store(int64(n)) }

// HotKeys are the workload's register keys.
func (w *Workload) HotKeys() []string { return append([]string(nil), w.hotKeys...) }

// Stats counts the operations recorded so far by status.
func (w *Workload) Stats() Stats {
	return Stats{Clients: w.cfg.Clients, Sessions: w.sessions, OK: w.ok.Load(), Fail: w.fail.Load(), Unknown: w.unknown.Load()}
}

// Stop stops every client, waits for each to finish its operation in flight
// (at most OpTimeout) and closes their maps. It returns the first error
// that stopped recording, if any; later calls return what the first did.
func (w *Workload) Stop() error {
	w.stopOnce.Do(func() {
		w.cancel()
		w.wg.Wait()
		w.stopErr = errors.Join(w.firstErr(), w.closeMaps())
		s := w.Stats()
		w.log.Info("workload stopped", zap.String("run_id", w.cfg.RunID), zap.Int64("ok", s.OK),
			zap.Int64("fail", s.Fail), zap.Int64("unknown", s.Unknown), zap.Error(w.stopErr))
	})
	return w.stopErr
}

func (w *Workload) closeMaps() error {
	var errs []error
	for _, c := range w.clients {
		if err := closeMap(c.m, w.cfg.OpTimeout); err != nil {
			errs = append(errs, fmt.Errorf("closing client %s's map: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

// closeMap closes m with a deadline of its own.
func closeMap(m cluster.Map, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return m.Close(ctx)
}

// record appends op to the history and counts it; the first append error
// stops the workload.
func (w *Workload) record(op history.Op) bool {
	switch op.Status {
	case history.StatusOK:
		w.ok.Add(1)
	case history.StatusFail:
		w.fail.Add(1)
	default:
		w.unknown.Add(1)
	}
	if err := w.hist.Append(op); err != nil {
		w.setErr(fmt.Errorf("recording %s of %s by %s: %w", op.Op, op.Key, op.Client, err))
		return false
	}
	return true
}

func (w *Workload) setErr(err error) {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if w.err == nil {
		w.err = err
		w.log.Error("workload recording failed; stopping", zap.Error(err))
		if w.cancel != nil {
			w.cancel()
		}
	}
}

func (w *Workload) firstErr() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

// newInstance returns 4 random bytes in hex.
func newInstance() string {
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}
