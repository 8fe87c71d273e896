package local

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

var _ cluster.Pauser = (*Store)(nil)

// PauseLeader SIGSTOPs the process group of the node verified, by the
// tracker and then by the node itself, to lead the partition, keeps it
// stopped for d and SIGCONTs it; it resumes the node at once when ctx ends
// or the store closes. The paused node stays a live member: its reports
// stop while the others elect a new leader.
func (s *Store) PauseLeader(ctx context.Context, partition int, d time.Duration, started func(cluster.Disruption)) (cluster.Disruption, error) {
	if d <= 0 {
		return cluster.Disruption{}, fmt.Errorf("pausing the leader of partition %d for %s: want a duration > 0", partition, d)
	}
	pz, p, err := s.stopLeader(ctx, partition)
	if err != nil {
		return cluster.Disruption{}, fmt.Errorf("pausing the leader of partition %d: %w", partition, err)
	}
	if started != nil {
		started(pz)
	}
	held := s.holdPaused(ctx, p, time.Until(pz.SentAt.Add(d)))
	pz, err = s.resume(pz, p)
	if held != nil {
		return pz, held
	}
	return pz, err
}

// stopLeader verifies the partition's leader and SIGSTOPs it, holding the
// kill lock only meanwhile.
func (s *Store) stopLeader(ctx context.Context, partition int) (cluster.Disruption, *process, error) {
	s.killMu.Lock()
	defer s.killMu.Unlock()
	pz, p, err := s.disruptionOf(ctx, partition)
	if err != nil {
		return cluster.Disruption{}, nil, err
	}
	pz.SentAt = time.Now()
	if err := p.signal(syscall.SIGSTOP); err != nil {
		return cluster.Disruption{}, nil, fmt.Errorf("stopping %s: %w", pz.Victim, err)
	}
	s.log.Info("paused leader", zap.Int("partition", partition), zap.Uint64("member", pz.Victim.ID),
		zap.String("node", pz.Victim.Name), zap.Int("pid", p.pid), zap.Uint64("term", pz.Term), zap.Any("led", pz.Led))
	return pz, p, nil
}

// disruptionOf is the Disruption (SentAt unset) of the partition's confirmed
// leader, with every partition it leads, and its process; the caller holds
// the kill lock.
func (s *Store) disruptionOf(ctx context.Context, partition int) (cluster.Disruption, *process, error) {
	l, p, term, err := s.confirmedLeader(ctx, partition)
	if err != nil {
		return cluster.Disruption{}, nil, err
	}
	led := s.tracker.leadersOf(l.Leader.ID)
	led[partition] = term
	return cluster.Disruption{Partition: partition, Victim: l.Leader, Term: term, Led: led}, p, nil
}

// confirmedLeader returns the partition's leader, its process and the term
// in which it leads, verified by the tracker and then by the node itself.
func (s *Store) confirmedLeader(ctx context.Context, partition int) (cluster.Leadership, *process, uint64, error) {
	l, p, err := s.verifiedLeader(ctx, partition)
	if err != nil {
		return l, nil, 0, err
	}
	term, err := s.confirmLeader(ctx, l)
	if err != nil {
		return l, nil, 0, err
	}
	return l, p, term, nil
}

// holdPaused waits d, or until ctx ends, the store closes or the process
// exits; it returns an error only when ctx ended or the store closed.
func (s *Store) holdPaused(ctx context.Context, p *process, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.done:
	case <-ctx.Done():
		return fmt.Errorf("holding %s paused: %w", p.spec.Name, ctx.Err())
	case <-s.ctx.Done():
		return fmt.Errorf("holding %s paused: the store is closing", p.spec.Name)
	}
	return nil
}

// resume SIGCONTs the paused node and records when.
func (s *Store) resume(pz cluster.Disruption, p *process) (cluster.Disruption, error) {
	at := time.Now()
	if err := p.signal(syscall.SIGCONT); err != nil {
		s.log.Warn("paused leader exited before its resume", zap.Int("partition", pz.Partition),
			zap.Uint64("member", pz.Victim.ID), zap.Int("pid", p.pid), zap.Duration("paused_for", at.Sub(pz.SentAt)))
		return pz, fmt.Errorf("resuming %s: %w", pz.Victim, err)
	}
	pz.EndedAt = at
	s.log.Info("resumed leader", zap.Int("partition", pz.Partition), zap.Uint64("member", pz.Victim.ID),
		zap.String("node", pz.Victim.Name), zap.Int("pid", p.pid), zap.Uint64("term", pz.Term),
		zap.Duration("paused_for", at.Sub(pz.SentAt)))
	return pz, nil
}

// signal sends sig to the process's group unless the process has been reaped.
func (p *process) signal(sig syscall.Signal) error {
	if !p.alive() {
		return os.ErrProcessDone
	}
	if err := syscall.Kill(-p.pid, sig); err != nil {
		return fmt.Errorf("sending %s to process group %d: %w", sig, p.pid, err)
	}
	return nil
}
