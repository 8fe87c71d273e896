package experiment

import (
	"context"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// mapHolder holds the campaign's map; a wipe of the store (the positive
// control) makes the target open a new data path, and the map is reopened.
type mapHolder struct {
	mu sync.Mutex
	m  cluster.Map
	r  *Runner
}

func (r *Runner) openMap(ctx context.Context) (*mapHolder, error) {
	mctx, cancel := context.WithTimeout(ctx, r.Config.CallTimeout)
	defer cancel()
	m, err := r.Target.Map(mctx, r.Config.Map)
	if err != nil {
		return nil, fmt.Errorf("%w: opening map %q: %w", ErrTarget, r.Config.Map, err)
	}
	return &mapHolder{m: m, r: r}, nil
}

func (h *mapHolder) get() cluster.Map {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m
}

// reopen closes the map and opens it again; on failure the old one stays.
func (h *mapHolder) reopen(ctx context.Context, tgt cluster.Target, name string, log *zap.Logger) {
	h.close(ctx, log)
	mctx, cancel := context.WithTimeout(ctx, h.r.Config.CallTimeout)
	defer cancel()
	m, err := tgt.Map(mctx, name)
	if err != nil {
		log.Error("reopening the map after the wipe", zap.Error(err))
		return
	}
	h.mu.Lock()
	h.m = m
	h.mu.Unlock()
}

// close closes the map, with its own deadline even when ctx has ended.
func (h *mapHolder) close(ctx context.Context, log *zap.Logger) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.r.Config.CallTimeout)
	defer cancel()
	if err := h.get().Close(cctx); err != nil {
		log.Debug("closing the map", zap.Error(err))
	}
}
