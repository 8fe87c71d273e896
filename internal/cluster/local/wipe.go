package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

var _ cluster.Wiper = (*Store)(nil)

// WipeAll is the positive control: it detaches the data path and every
// client opened by OpenClient (so that no session of the old store reaches
// the new one, where the protocol client would take "session not found" as
// data loss and exit the process), kills every node, deletes every node's
// data, restarts all nodes empty, bootstraps them and reconnects the data
// path on a fresh port. Maps opened before the wipe, by Map or OpenClient,
// are unusable afterwards: open new ones.
// An error after the kill leaves the store down: maps cannot be opened again.
func (s *Store) WipeAll(ctx context.Context, partition int) (cluster.Kill, error) {
	if err := s.checkPartition(partition); err != nil {
		return cluster.Kill{}, err
	}
	s.killMu.Lock()
	defer s.killMu.Unlock()
	s.restartMu.Lock()
	defer s.restartMu.Unlock()
	s.mu.Lock()
	s.wipes++
	s.mu.Unlock()
	l, _ := s.tracker.get(partition)
	k := cluster.Kill{Partition: partition, Victim: s.member(l.Leader), Term: l.Term, Led: map[int]uint64{}}
	if err := s.releaseClients(false); err != nil {
		s.log.Warn("detaching the clients before the wipe", zap.Error(err))
	}
	if err := s.disconnectDataPath(); err != nil {
		s.log.Warn("detaching the data path before the wipe", zap.Error(err))
	}
	s.mu.Lock()
	s.data, s.client = nil, nil
	procs := append([]*process(nil), s.procs...)
	nodes := append([]*nodeConn(nil), s.nodes...)
	s.mu.Unlock()
	k.SentAt = time.Now()
	killAll(procs)
	k.DoneAt = time.Now()
	for _, nc := range nodes {
		if nc != nil {
			nc.close()
		}
	}
	var errs []error
	for _, spec := range s.specs {
		s.tracker.memberDown(spec.ID, k.DoneAt)
		if err := os.RemoveAll(spec.DataDir); err != nil {
			errs = append(errs, fmt.Errorf("wiping %s: %w", spec.DataDir, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return k, err
	}
	s.tracker.reset(k.DoneAt)
	s.log.Warn("wiped every node's data (positive control)", zap.Int("partition", partition),
		zap.Uint64("leader_before", l.Leader), zap.Uint64("term_before", l.Term))
	if err := s.startAll(ctx); err != nil {
		return k, fmt.Errorf("restarting the wiped nodes: %w", err)
	}
	ports, err := pickPorts(0, []string{"sidecar port"})
	if err != nil {
		return k, err
	}
	if err := s.connectDataPath(ctx, ports[0]); err != nil {
		return k, fmt.Errorf("reconnecting the data path after the wipe: %w", err)
	}
	return k, nil
}

// killAll SIGKILLs and reaps every live process, in parallel.
func killAll(procs []*process) {
	var wg sync.WaitGroup
	for _, p := range procs {
		if p != nil && p.alive() {
			wg.Add(1)
			go func(p *process) {
				defer wg.Done()
				p.kill()
			}(p)
		}
	}
	wg.Wait()
}
