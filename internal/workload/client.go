package workload

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/atomix/go-sdk/pkg/primitive"
	_map "github.com/atomix/go-sdk/pkg/primitive/map"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/history"
)

// client is one of the workload's clients. Only its goroutine touches its
// fields until Stop has waited for it.
type client struct {
	w    *Workload
	name string
	m    cluster.Map
	rng  *rand.Rand
	// writes numbers the client's writes: its values are "<name>-<instance>-<n>".
	writes int
	// writeOnce numbers its write-once keys.
	writeOnce int
	// seen is the version the client last saw of each hot key (read or written).
	seen map[string]uint64
	// written lists every key the client invoked a write on, in order.
	written []string
	wrote   map[string]bool
}

func newClient(w *Workload, name string, m cluster.Map, seed uint64) *client {
	return &client{
		w: w, name: name, m: m,
		rng:  rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		seen: map[string]uint64{}, wrote: map[string]bool{},
	}
}

// run issues operations at the workload's rate until ctx ends or recording fails.
func (c *client) run(ctx context.Context) {
	for c.w.limiter.Wait(ctx) == nil {
		if !c.step(ctx) {
			return
		}
	}
}

// step issues one operation chosen by the mix; false once recording failed.
// Operations get a deadline of their own that Stop does not cancel, so the
// one in flight ends with its answer.
func (c *client) step(ctx context.Context) bool {
	ctx = context.WithoutCancel(ctx)
	mix := c.w.cfg.Mix
	r := c.rng.IntN(mix.total())
	switch {
	case r < mix.WriteOnce:
		c.writeOnce++
		return c.put(ctx, writeOnceKey(c.w.cfg.KeyPrefix, c.name+"-"+c.w.instance, c.writeOnce))
	case r < mix.WriteOnce+mix.Put:
		return c.put(ctx, c.hotKey())
	case r < mix.WriteOnce+mix.Put+mix.CAS:
		return c.cas(ctx, c.hotKey())
	default:
		return c.get(ctx, c.hotKey())
	}
}

func (c *client) hotKey() string { return c.w.hotKeys[c.rng.IntN(len(c.w.hotKeys))] }

func (c *client) nextValue() string {
	c.writes++
	return fmt.Sprintf("%s-%s-%d", c.name, c.w.instance, c.writes)
}

func (c *client) noteWrite(key string) {
	if !c.wrote[key] {
		c.wrote[key] = true
		c.written = append(c.written, key)
	}
}

func (c *client) put(ctx context.Context, key string) bool {
	value := c.nextValue()
	c.noteWrite(key)
	op := c.w.op(c.name, history.OpPut, key)
	op.Value = value
	return c.learn(c.w.exec(ctx, op, func(ctx context.Context) (*_map.Entry[string, string], error) {
		return c.m.Put(ctx, key, value)
	}))
}

// cas updates key at the version the client last saw of it; a client that
// has seen none reads the key instead.
func (c *client) cas(ctx context.Context, key string) bool {
	expect, ok := c.seen[key]
	if !ok {
		return c.get(ctx, key)
	}
	value := c.nextValue()
	c.noteWrite(key)
	op := c.w.op(c.name, history.OpCAS, key)
	op.Value, op.ExpectVersion = value, &expect
	return c.learn(c.w.exec(ctx, op, func(ctx context.Context) (*_map.Entry[string, string], error) {
		return c.m.Update(ctx, key, value, _map.IfVersion(primitive.Version(expect)))
	}))
}

func (c *client) get(ctx context.Context, key string) bool {
	op := c.w.op(c.name, history.OpGet, key)
	return c.learn(c.w.exec(ctx, op, func(ctx context.Context) (*_map.Entry[string, string], error) {
		return c.m.Get(ctx, key)
	}))
}

// learn keeps the version an answered operation showed of its key; a
// refused compare-and-set forgets it, so that the client reads the key again.
func (c *client) learn(op history.Op, recorded bool) bool {
	switch {
	case op.Status == history.StatusOK && op.Version != nil:
		c.seen[op.Key] = *op.Version
	case op.Status == history.StatusOK && op.Op == history.OpGet:
		delete(c.seen, op.Key)
	case op.Status == history.StatusFail:
		delete(c.seen, op.Key)
	}
	return recorded
}
