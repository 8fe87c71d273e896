package local

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

var _ cluster.Isolator = (*Store)(nil)

// maxClientCut bounds a cut from the clients: half the rsm session timeout
// (protocols/rsm v1.1.1: one minute). The sessions on the groups the
// isolated node leads get no keep-alive through the cut; once one has
// expired, the next keep-alive gets a fault back and the rsm client exits
// this process.
const maxClientCut = 30 * time.Second

// IsolateLeader cuts the node verified, by the tracker and then by the node
// itself, to lead the partition off from side, through the store's link
// proxies (LinkProxies), keeps it cut for d and heals the cut; it heals at
// once when ctx ends or the store closes, and when the node exits. Cut off
// from its peers (SidePeers), the node's Raft links to and from every other
// member are reset and refused, while its clients still reach it; cut off
// from its clients (SideClients), every client connection to its API is
// reset and refused, while its Raft links stay up.
func (s *Store) IsolateLeader(ctx context.Context, partition int, d time.Duration, from cluster.Side, started func(cluster.Disruption)) (cluster.Disruption, error) {
	if err := s.checkIsolation(d, from); err != nil {
		return cluster.Disruption{}, fmt.Errorf("isolating the leader of partition %d from its %s: %w", partition, from, err)
	}
	iz, p, err := s.cutLeader(ctx, partition, from)
	if err != nil {
		return cluster.Disruption{}, fmt.Errorf("isolating the leader of partition %d from its %s: %w", partition, from, err)
	}
	if started != nil {
		started(iz)
	}
	held := s.holdCut(ctx, p, from, time.Until(iz.SentAt.Add(d)))
	iz, err = s.healCut(iz, p, from)
	if held != nil {
		return iz, held
	}
	return iz, err
}

func (s *Store) checkIsolation(d time.Duration, from cluster.Side) error {
	switch {
	case s.links == nil:
		return errNoLinkProxies
	case d <= 0:
		return fmt.Errorf("want a duration > 0, not %s", d)
	case from == cluster.SideClients && d > maxClientCut:
		return fmt.Errorf("a cut from the clients longer than %s lets the clients' sessions expire, and the rsm client exit this process; want at most %s, not %s", maxClientCut, maxClientCut, d)
	case from == cluster.SidePeers && len(s.specs) < 2:
		return fmt.Errorf("a single node has no peers")
	case from != cluster.SidePeers && from != cluster.SideClients:
		return fmt.Errorf("no side %q: want %q or %q", from, cluster.SidePeers, cluster.SideClients)
	}
	return nil
}

// cutLeader verifies the partition's leader and cuts it off from side,
// holding the kill lock only meanwhile.
func (s *Store) cutLeader(ctx context.Context, partition int, from cluster.Side) (cluster.Disruption, *process, error) {
	s.killMu.Lock()
	defer s.killMu.Unlock()
	iz, p, err := s.disruptionOf(ctx, partition)
	if err != nil {
		return cluster.Disruption{}, nil, err
	}
	proxies := s.links.side(iz.Victim.ID, from)
	iz.SentAt = time.Now()
	reset := cut(proxies)
	s.log.Info("isolated leader", zap.Int("partition", partition), zap.Uint64("member", iz.Victim.ID),
		zap.String("node", iz.Victim.Name), zap.Int("pid", p.pid), zap.Uint64("term", iz.Term), zap.Any("led", iz.Led),
		zap.String("from", string(from)), zap.Int("proxies_cut", len(proxies)), zap.Int("connections_reset", reset),
		zap.Duration("cut_took", time.Since(iz.SentAt)))
	return iz, p, nil
}

// holdCut waits d, or until ctx ends, the store closes or the process
// exits; it returns an error only when ctx ended or the store closed.
func (s *Store) holdCut(ctx context.Context, p *process, from cluster.Side, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.done:
	case <-ctx.Done():
		return fmt.Errorf("holding %s cut off from its %s: %w", p.spec.Name, from, ctx.Err())
	case <-s.ctx.Done():
		return fmt.Errorf("holding %s cut off from its %s: the store is closing", p.spec.Name, from)
	}
	return nil
}

// healCut heals the cut and records when; when the node exited during the
// cut, the cut ended with it: EndedAt stays zero.
func (s *Store) healCut(iz cluster.Disruption, p *process, from cluster.Side) (cluster.Disruption, error) {
	at := time.Now()
	heal(s.links.side(iz.Victim.ID, from))
	if !p.alive() {
		s.log.Warn("isolated leader exited before the heal", zap.Int("partition", iz.Partition),
			zap.Uint64("member", iz.Victim.ID), zap.Int("pid", p.pid), zap.String("from", string(from)),
			zap.Duration("isolated_for", at.Sub(iz.SentAt)))
		return iz, fmt.Errorf("healing the cut of %s from its %s: %w", iz.Victim, from, os.ErrProcessDone)
	}
	iz.EndedAt = at
	s.log.Info("healed leader isolation", zap.Int("partition", iz.Partition), zap.Uint64("member", iz.Victim.ID),
		zap.String("node", iz.Victim.Name), zap.Int("pid", p.pid), zap.Uint64("term", iz.Term),
		zap.String("from", string(from)), zap.Duration("isolated_for", at.Sub(iz.SentAt)))
	return iz, nil
}
