package experiment

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// maxSilentKeys is how many keys in a row may go unanswered before the
// final read stops asking a store that does not answer.
const maxSilentKeys = 3

// finalRead reads back, once every node is back, every key acknowledged in
// the run since the last wipe whose trial did not find it lost (a positive
// control destroys everything before it by construction, and a trial that
// already found its key lost has recorded that), and appends a Lost record
// for each key now missing or changed. It runs even
// after an interruption, on its own deadline (SettleTimeout + VerifyTimeout
// in all), and stops after maxSilentKeys unanswered keys in a row.
func (r *Runner) finalRead(ctx context.Context, log *zap.Logger, m *mapHolder, runID string, recs []results.Trial) (results.FinalRead, error) {
	keys := acknowledgedSinceWipe(recs)
	out := results.FinalRead{Keys: len(keys)}
	if len(keys) == 0 {
		return out, nil
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.Config.SettleTimeout+r.Config.VerifyTimeout)
	defer cancel()
	hctx, hcancel := context.WithTimeout(fctx, r.Config.SettleTimeout)
	_, err := r.Target.WaitHealthy(hctx, cluster.HealthSpec{})
	hcancel()
	if err != nil {
		log.Warn("final read on an unhealthy store", zap.Error(err))
	}
	silent := 0
	for i, rec := range keys {
		if fctx.Err() != nil || silent == maxSilentKeys {
			out.Unanswered += len(keys) - i
			break
		}
		vctx, vcancel := context.WithTimeout(fctx, r.Config.CallTimeout)
		v, _ := r.verifier(m.get()).Verify(vctx, rec.Key, rec.Value)
		vcancel()
		silent++
		switch v.Status {
		case results.VerifyOK:
			out.OK++
			silent = 0
		case results.VerifyError:
			out.Unanswered++
		default:
			out.Lost++
			silent = 0
			lost := results.Lost{Type: results.TypeLost, RunID: runID, Trial: rec.Trial, Key: rec.Key, Value: rec.Value,
				Read: v.Status, ReadValue: v.Value, At: time.Now().UTC().Format(time.RFC3339Nano)}
			log.Error("final read: acknowledged write LOST (durability violation)", zap.Int("trial", rec.Trial),
				zap.String("key", rec.Key), zap.String("read", v.Status), zap.String("read_value", v.Value))
			if err := r.Sink.Append(lost); err != nil {
				return out, fmt.Errorf("recording the lost key of trial %d: %w", rec.Trial, err)
			}
		}
	}
	if out.Unanswered > 0 {
		out.Error = fmt.Sprintf("%d of %d keys unanswered (the final read gives up after %d keys in a row without an answer, or after %s)",
			out.Unanswered, out.Keys, maxSilentKeys, r.Config.SettleTimeout+r.Config.VerifyTimeout)
	}
	log.Info("final read", zap.Int("keys", out.Keys), zap.Int("ok", out.OK), zap.Int("lost", out.Lost), zap.Int("unanswered", out.Unanswered))
	return out, nil
}

// acknowledgedSinceWipe returns the trials after the last wipe of the store
// whose write was acknowledged and not already found lost.
func acknowledgedSinceWipe(recs []results.Trial) []results.Trial {
	var out []results.Trial
	for _, rec := range recs {
		if rec.Fault == results.FaultWipeAll && rec.T.KillSent != nil {
			out = out[:0]
			continue
		}
		if rec.Write.Status == results.WriteOK && rec.Outcome != results.OutcomeLost {
			out = append(out, rec)
		}
	}
	return out
}
