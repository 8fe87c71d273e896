package experiment

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// settled is the outcome of the health wait before a trial.
type settled struct {
	waited time.Duration
	// err says what was still wrong when the wait gave up; "" when healthy.
	err    string
	health cluster.Health
}

// settle waits, at most SettleTimeout, until the target says the store is
// healthy and partition's leader has led for MinLeaderAge.
func (r *Runner) settle(ctx context.Context, log *zap.Logger, partition int) *settled {
	sctx, cancel := context.WithTimeout(ctx, r.Config.SettleTimeout)
	defer cancel()
	begin := time.Now()
	h, err := r.Target.WaitHealthy(sctx, cluster.HealthSpec{Partition: partition, MinLeaderAge: r.Config.MinLeaderAge})
	s := &settled{waited: time.Since(begin), health: h}
	if err != nil && ctx.Err() == nil {
		s.err = err.Error()
		log.Warn("store not healthy before the trial", zap.Duration("waited", s.waited), zap.Error(err))
	} else if err == nil {
		log.Debug("store healthy", zap.Duration("waited", s.waited), zap.Duration("leader_age", h.LeaderAge))
	}
	return s
}
