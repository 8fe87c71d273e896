package workload

import (
	"context"

	_map "github.com/atomix/go-sdk/pkg/primitive/map"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// op starts the record of an operation of client on key, in the current trial.
func (w *Workload) op(client, kind, key string) history.Op {
	return history.Op{
		Type: history.TypeOp, RunID: w.cfg.RunID, Trial: int(w.trial.Load()),
		Client: client, Op: kind, Key: key,
	}
}

// exec times call, with a deadline of OpTimeout, on the run's clock,
// completes op with its outcome and records it; recorded is false when the
// history could not take it.
func (w *Workload) exec(ctx context.Context, op history.Op, call func(context.Context) (*_map.Entry[string, string], error)) (history.Op, bool) {
	octx, cancel := context.WithTimeout(ctx, w.cfg.OpTimeout)
	op.InvokeNS = w.clock.Now()
	e, err := call(octx)
	end := w.clock.Now()
	noAnswer := octx.Err() != nil
	cancel()
	complete(&op, e, err, end, noAnswer)
	return op, w.record(op)
}

// complete fills in op's outcome. A get of an absent key is ok with a null
// read; complete_ns stays null for an unknown outcome whose deadline passed
// without an answer.
func complete(op *history.Op, e *_map.Entry[string, string], err error, end int64, noAnswer bool) {
	switch {
	case err == nil:
		op.Status, op.CompleteNS = history.StatusOK, &end
		if e == nil {
			return
		}
		if v := uint64(e.Version); v != 0 {
			op.Version = &v
		}
		if op.Op == history.OpGet {
			read := e.Value
			op.Read = &read
		}
	case op.Op == history.OpGet && IsNotFound(err):
		op.Status, op.CompleteNS = history.StatusOK, &end
	default:
		op.Status, op.Error = Status(err), err.Error()
		if op.Status != history.StatusUnknown || !noAnswer {
			op.CompleteNS = &end
		}
	}
}
