package local

import (
	"context"
	"fmt"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

func (s *Store) member(id uint64) cluster.Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := int(id) - 1
	if i < 0 || i >= len(s.specs) {
		return cluster.Member{ID: id}
	}
	spec := s.specs[i]
	m := cluster.Member{ID: id, Name: spec.Name, Pod: spec.Name, Address: spec.apiAddress()}
	if p := s.procs[i]; p != nil && p.alive() {
		m.PID, m.UID = p.pid, p.uid()
	}
	return m
}

func (s *Store) leadership(partition int, g groupState) cluster.Leadership {
	l := cluster.Leadership{Partition: partition, Term: g.Term, ObservedAt: g.ObservedAt}
	if g.Leader != 0 {
		l.Leader = s.member(g.Leader)
	}
	for _, spec := range s.specs {
		if spec.ID != g.Leader {
			l.Followers = append(l.Followers, s.member(spec.ID))
		}
	}
	return l
}

func (s *Store) checkPartition(partition int) error {
	if partition < 1 || partition > s.cfg.Partitions {
		return fmt.Errorf("partition %d does not exist (the store has partitions 1..%d)", partition, s.cfg.Partitions)
	}
	return nil
}

// Leaders returns the current leadership of every partition.
func (s *Store) Leaders(ctx context.Context) ([]cluster.Leadership, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	view, _ := s.tracker.snapshot()
	out := make([]cluster.Leadership, 0, len(view))
	for g := 1; g <= s.cfg.Partitions; g++ {
		out = append(out, s.leadership(g, view[g]))
	}
	return out, nil
}

// Leader returns the current leadership of one partition.
func (s *Store) Leader(ctx context.Context, partition int) (cluster.Leadership, error) {
	if err := s.checkPartition(partition); err != nil {
		return cluster.Leadership{}, err
	}
	if err := ctx.Err(); err != nil {
		return cluster.Leadership{}, err
	}
	g, _ := s.tracker.get(partition)
	l := s.leadership(partition, g)
	if !l.HasLeader() {
		return l, fmt.Errorf("partition %d in term %d: %w", partition, g.Term, cluster.ErrNoLeader)
	}
	return l, nil
}

// WaitForLeader waits for a leader of the partition in a term above afterTerm.
func (s *Store) WaitForLeader(ctx context.Context, partition int, afterTerm uint64) (cluster.Leadership, error) {
	if err := s.checkPartition(partition); err != nil {
		return cluster.Leadership{}, err
	}
	view, err := s.tracker.waitFor(ctx, func(v map[int]groupState) bool {
		g := v[partition]
		return g.Leader != 0 && g.Term > afterTerm
	})
	if err != nil {
		return s.leadership(partition, view[partition]), fmt.Errorf("waiting for a leader of partition %d after term %d: %w", partition, afterTerm, err)
	}
	return s.leadership(partition, view[partition]), nil
}
