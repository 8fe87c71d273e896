package local

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// askTimeout bounds asking a node whether it leads.
const askTimeout = time.Second

// PlanKill returns the verified current leader of the partition without killing it.
func (s *Store) PlanKill(ctx context.Context, partition int) (cluster.Leadership, error) {
	l, _, err := s.verifiedLeader(ctx, partition)
	return l, err
}

// verifiedLeader returns the partition's leader and its process, checked to
// be a live child of this store.
func (s *Store) verifiedLeader(ctx context.Context, partition int) (cluster.Leadership, *process, error) {
	l, err := s.Leader(ctx, partition)
	if err != nil {
		return l, nil, err
	}
	s.mu.Lock()
	var p *process
	if i := int(l.Leader.ID) - 1; i >= 0 && i < len(s.procs) {
		p = s.procs[i]
	}
	s.mu.Unlock()
	if p == nil || !p.alive() || p.pid != l.Leader.PID {
		return l, nil, fmt.Errorf("leader %s of partition %d: no live node process of this store: %w", l.Leader, partition, cluster.ErrNotMember)
	}
	return l, p, nil
}

// confirmLeader asks the leader's node itself, right before the kill,
// which leader and term it knows for the partition. It returns the term in
// which the node says it leads, or ErrNotLeader when it says it does not.
func (s *Store) confirmLeader(ctx context.Context, l cluster.Leadership) (uint64, error) {
	s.mu.Lock()
	nc := s.nodes[l.Leader.ID-1]
	s.mu.Unlock()
	actx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	term, leader, err := nc.askLeadership(actx, l.Partition)
	if err != nil {
		return 0, fmt.Errorf("%w%s", err, logTail(nc.spec.LogPath))
	}
	if leader != l.Leader.ID || term < l.Term {
		return 0, fmt.Errorf("%s denies leading partition %d in term %d: it knows leader %d in term %d: %w",
			l.Leader.Name, l.Partition, l.Term, leader, term, cluster.ErrNotLeader)
	}
	return term, nil
}

// KillLeader SIGKILLs the process verified, by the tracker and then by the
// node itself, to lead the partition, waits until it is reaped, and
// schedules its restart on the same data dir by the restart policy.
func (s *Store) KillLeader(ctx context.Context, partition int) (cluster.Kill, error) {
	s.killMu.Lock()
	defer s.killMu.Unlock()
	l, p, err := s.verifiedLeader(ctx, partition)
	if err != nil {
		return cluster.Kill{}, err
	}
	term, err := s.confirmLeader(ctx, l)
	if err != nil {
		return cluster.Kill{}, err
	}
	led := s.tracker.leadersOf(l.Leader.ID)
	led[partition] = term
	k := cluster.Kill{Partition: partition, Victim: l.Leader, Term: term, Led: led}
	k.SentAt = time.Now()
	p.kill()
	k.DoneAt = time.Now()
	s.tracker.memberDown(l.Leader.ID, k.DoneAt)
	s.log.Info("killed leader", zap.Int("partition", partition), zap.Uint64("member", l.Leader.ID),
		zap.String("node", l.Leader.Name), zap.Int("pid", p.pid), zap.Uint64("term", term),
		zap.Any("led", led), zap.Duration("kill_to_reaped", k.DoneAt.Sub(k.SentAt)))
	s.mu.Lock()
	wipes := s.wipes
	s.mu.Unlock()
	s.wg.Add(1)
	go s.restart(int(l.Leader.ID)-1, k, wipes)
	return k, nil
}

// restart brings a killed node back on its data dir, as a StatefulSet
// recreates a pod, when the restart policy says so, unless the store was
// wiped since the kill (wipes is the wipe count at the kill).
func (s *Store) restart(i int, k cluster.Kill, wipes int) {
	defer s.wg.Done()
	s.mu.Lock()
	old := s.nodes[i]
	s.mu.Unlock()
	if old != nil {
		old.close()
	}
	if err := s.awaitRestart(k); err != nil {
		return
	}
	s.restartMu.RLock()
	defer s.restartMu.RUnlock()
	s.mu.Lock()
	wiped := s.wipes != wipes
	s.mu.Unlock()
	if wiped {
		return // the wipe restarted every node
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.StartTimeout)
	defer cancel()
	if err := s.startNode(ctx, i); err != nil {
		if s.ctx.Err() == nil {
			s.log.Error("restarting node", zap.String("node", s.specs[i].Name), zap.Error(err))
		}
		return
	}
	s.log.Info("node restarted", zap.String("node", s.specs[i].Name), zap.Int("pid", s.member(uint64(i+1)).PID))
}

// awaitRestart waits until the restart policy lets the victim of k come
// back; it fails only when the store is closing.
func (s *Store) awaitRestart(k cluster.Kill) error {
	delay := s.cfg.Restart.Delay
	if !s.cfg.Restart.Fixed {
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Restart.Timeout)
		_, err := s.tracker.waitFor(ctx, func(v map[int]groupState) bool {
			return s.quorumLost() || newLeaders(v, k.Led)
		})
		cancel()
		if s.ctx.Err() != nil {
			return s.ctx.Err()
		}
		if err != nil {
			s.log.Warn("restarting the victim before its partitions have new leaders", zap.String("node", k.Victim.Name),
				zap.Duration("restart_timeout", s.cfg.Restart.Timeout))
		}
		delay = s.cfg.Restart.Margin
	}
	if delay <= 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return s.ctx.Err()
	case <-t.C:
		return nil
	}
}

// Restored waits until the member killed by k runs again as a new
// incarnation with every group bootstrapped.
func (s *Store) Restored(ctx context.Context, k cluster.Kill) (cluster.Restart, error) {
	i := int(k.Victim.ID) - 1
	if i < 0 || i >= len(s.specs) {
		return cluster.Restart{}, fmt.Errorf("member %d is not a node of this store: %w", k.Victim.ID, cluster.ErrNotMember)
	}
	for {
		_, changed := s.tracker.snapshot()
		s.mu.Lock()
		p, began, back := s.procs[i], s.began[i], s.back[i]
		s.mu.Unlock()
		if p != nil && p.alive() && p.uid() != k.Victim.UID && !back.IsZero() {
			return cluster.Restart{Began: began, Back: back}, nil
		}
		select {
		case <-ctx.Done():
			return cluster.Restart{}, fmt.Errorf("waiting for %s to come back: %w", s.specs[i].Name, ctx.Err())
		case <-changed:
		}
	}
}

// newLeaders reports whether every group in led has a leader in a later term.
func newLeaders(v map[int]groupState, led map[int]uint64) bool {
	for g, term := range led {
		if v[g].Leader == 0 || v[g].Term <= term {
			return false
		}
	}
	return true
}

// quorumLost reports whether fewer nodes run than a majority of the members:
// then no group elects a leader until a node comes back, and a victim waiting
// for its groups' new leaders would wait for itself.
func (s *Store) quorumLost() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	alive := 0
	for _, p := range s.procs {
		if p != nil && p.alive() {
			alive++
		}
	}
	return alive < len(s.specs)/2+1
}
