package workload

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	_map "github.com/atomix/go-sdk/pkg/primitive/map"
	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/history"
)

// FinalAttempts is how many gets FinalRead makes of a key whose read finds
// no answer before it gives up on it.
const FinalAttempts = 3

// ErrUnanswered is returned by FinalRead when some keys' final reads never
// got an answer.
var ErrUnanswered = errors.New("final reads without an answer")

// FinalRead stops the workload if it runs (a failure to close its clients'
// maps is returned but does not stop the reads), then reads every key a write was
// invoked on, every hot key included, through a newly opened map, with
// Clients reads at once; each read is a get recorded with client
// history.FinalClient. A key whose read ends unknown is read again, up to
// FinalAttempts times. It returns the error that stopped recording, or
// ErrUnanswered with the count of keys left without an answer.
func (w *Workload) FinalRead(ctx context.Context) error {
	stopErr := w.Stop()
	if err := w.firstErr(); err != nil {
		return err
	}
	m, err := w.openMap(ctx)
	if err != nil {
		return errors.Join(fmt.Errorf("opening map %q for the final reads: %w", w.cfg.Map, err), stopErr)
	}
	unanswered := w.readAll(ctx, m, w.writtenKeys())
	cerr := errors.Join(stopErr, closeMap(m, w.cfg.OpTimeout))
	if err := w.firstErr(); err != nil {
		return errors.Join(err, cerr)
	}
	if unanswered > 0 {
		return errors.Join(fmt.Errorf("%w: %d keys", ErrUnanswered, unanswered), cerr)
	}
	return cerr
}

// writtenKeys is every hot key and every key a client invoked a write on, sorted.
func (w *Workload) writtenKeys() []string {
	set := map[string]bool{}
	for _, k := range w.hotKeys {
		set[k] = true
	}
	for _, c := range w.clients {
		for _, k := range c.written {
			set[k] = true
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// readAll reads keys with Clients workers and returns how many got no answer.
func (w *Workload) readAll(ctx context.Context, m cluster.Map, keys []string) int {
	next := make(chan string)
	var unanswered atomic.Int64
	var wg sync.WaitGroup
	for range min(w.cfg.Clients, len(keys)) {
		wg.Go(func() {
			for k := range next {
				if !w.finalRead(ctx, m, k) {
					unanswered.Add(1)
				}
			}
		})
	}
	for _, k := range keys {
		next <- k
	}
	close(next)
	wg.Wait()
	n := int(unanswered.Load())
	w.log.Info("final reads done", zap.String("run_id", w.cfg.RunID), zap.Int("keys", len(keys)), zap.Int("unanswered", n))
	return n
}

// finalRead gets key until a read is answered, up to FinalAttempts times;
// it reports whether one was.
func (w *Workload) finalRead(ctx context.Context, m cluster.Map, key string) bool {
	for range FinalAttempts {
		if ctx.Err() != nil || w.firstErr() != nil {
			return false
		}
		op, recorded := w.exec(ctx, w.op(history.FinalClient, history.OpGet, key),
			func(ctx context.Context) (*_map.Entry[string, string], error) { return m.Get(ctx, key) })
		if !recorded {
			return false
		}
		if op.Status == history.StatusOK {
			return true
		}
	}
	return false
}
