package local

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// syncRetry spaces the in-sync checks while a node is not in sync.
const syncRetry = 100 * time.Millisecond

// syncTimeout bounds one node's ReadIndex round trip in the in-sync check.
const syncTimeout = 500 * time.Millisecond

// WaitHealthy waits until every node runs with its groups bootstrapped,
// every node reports the same leader and term for every partition, spec's
// leader has been in office for spec.MinLeaderAge, and every node confirms
// that it is in sync with every group's leader (a ReadIndex round trip: a
// node that knows the leader may still lack entries, and a candidate with a
// stale log can then win no election, which raises the term round after
// round). It wakes on the nodes' events, on a timer for the leader's age,
// and every syncRetry while a node is not yet in sync.
func (s *Store) WaitHealthy(ctx context.Context, spec cluster.HealthSpec) (cluster.Health, error) {
	if spec.Partition != 0 {
		if err := s.checkPartition(spec.Partition); err != nil {
			return cluster.Health{}, err
		}
	}
	var lastWhy string
	for {
		view, changed := s.tracker.snapshot()
		now := time.Now()
		why := s.unhealthy(view)
		var wait, age time.Duration
		if why == "" {
			why, wait = s.spreadLeaders(ctx, view, spec.Partition)
		}
		if why == "" && spec.Partition != 0 {
			age = now.Sub(view[spec.Partition].ObservedAt)
			if wait = spec.MinLeaderAge - age; wait > 0 {
				why = fmt.Sprintf("the leader of partition %d has led for %s of %s", spec.Partition, age.Round(time.Millisecond), spec.MinLeaderAge)
			}
		}
		if why == "" {
			if err := s.syncAll(ctx); err != nil {
				why, wait = err.Error(), syncRetry
			} else if isClosed(changed) {
				continue // the view moved during the check: judge the new one
			}
		}
		if why == "" {
			now = time.Now()
			if spec.Partition != 0 {
				age = now.Sub(view[spec.Partition].ObservedAt)
			}
			h := cluster.Health{At: now, LeaderAge: age}
			for g := 1; g <= s.cfg.Partitions; g++ {
				h.Leaders = append(h.Leaders, s.leadership(g, view[g]))
			}
			return h, nil
		}
		if why != lastWhy {
			s.log.Debug("waiting for a healthy store", zap.String("reason", why))
			lastWhy = why
		}
		if err := awaitChange(ctx, changed, wait); err != nil {
			return cluster.Health{}, fmt.Errorf("store not healthy: %s: %w", why, err)
		}
	}
}

// awaitChange returns when changed is closed, after wait when wait > 0, or
// with ctx's error.
func awaitChange(ctx context.Context, changed <-chan struct{}, wait time.Duration) error {
	var timer <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-changed:
	case <-timer:
	}
	return nil
}

// unhealthy says what keeps the store from being healthy, or "" when nothing does.
func (s *Store) unhealthy(view map[int]groupState) string {
	var why []string
	members := s.memberIDs()
	s.mu.Lock()
	for i, spec := range s.specs {
		switch p := s.procs[i]; {
		case p == nil || !p.alive():
			why = append(why, spec.Name+" is down")
		case s.back[i].IsZero():
			why = append(why, spec.Name+" has not bootstrapped its groups")
		}
	}
	s.mu.Unlock()
	for g := 1; g <= s.cfg.Partitions; g++ {
		if d := view[g].disagreement(members); d != "" {
			why = append(why, fmt.Sprintf("partition %d: %s", g, d))
		}
	}
	return strings.Join(why, "; ")
}

// syncAll asks every node to confirm, for every group, that it is in sync
// with the group's leader; it returns the first failures.
func (s *Store) syncAll(ctx context.Context) error {
	s.mu.Lock()
	nodes := append([]*nodeConn(nil), s.nodes...)
	s.mu.Unlock()
	errs := make([]error, len(nodes)*s.cfg.Partitions)
	var wg sync.WaitGroup
	for i, nc := range nodes {
		for g := 1; g <= s.cfg.Partitions; g++ {
			wg.Add(1)
			go func(k int, nc *nodeConn, g int) {
				defer wg.Done()
				errs[k] = nc.inSync(ctx, g, syncTimeout)
			}(i*s.cfg.Partitions+g-1, nc, g)
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// transferPause spaces leadership transfers while the health wait spreads leaders.
const transferPause = 300 * time.Millisecond

// spreadLeaders keeps leadership spread so that at most one node leads no
// group (as far as the groups allow). dragonboat sends Raft messages
// between two nodes only when one of them leads a group; a connection from
// a node to a peer that was restarted since they last talked is stale, and
// its first message (in the next election, a RequestVote) is lost: a split
// vote and another round, measured as part of the failover. A leader that
// keeps sending heartbeats renews its connections, so with two leaders
// among three nodes every pair talks. When leadership is concentrated, it
// asks the busiest leader to hand one group (not avoid, the partition about
// to be failed) to a node that leads none, and says so.
func (s *Store) spreadLeaders(ctx context.Context, view map[int]groupState, avoid int) (string, time.Duration) {
	leaders := make(map[int]uint64, s.cfg.Partitions)
	for g := 1; g <= s.cfg.Partitions; g++ {
		leaders[g] = view[g].Leader
	}
	group, from, to := spreadPlan(leaders, s.memberIDs(), avoid)
	if group == 0 {
		return "", 0
	}
	s.mu.Lock()
	last := s.lastTransfer
	nc := s.nodes[from-1]
	s.mu.Unlock()
	why := fmt.Sprintf("member %d leads too many groups: handing group %d to member %d", from, group, to)
	if since := time.Since(last); since < transferPause {
		return why, transferPause - since
	}
	s.mu.Lock()
	s.lastTransfer = time.Now()
	s.mu.Unlock()
	tctx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	if err := nc.transferLeadership(tctx, group, to); err != nil {
		why += ": " + err.Error()
	} else {
		s.log.Debug("spreading leadership", zap.Int("partition", group), zap.Uint64("from", from), zap.Uint64("to", to))
	}
	return why, transferPause
}

// spreadPlan says which group to hand from which leader to which idle
// member so that at most one member leads no group (as far as the number
// of groups allows), never the group avoid; group 0 when nothing is to do.
func spreadPlan(leaders map[int]uint64, members []uint64, avoid int) (group int, from, to uint64) {
	count := map[uint64]int{}
	for _, l := range leaders {
		count[l]++
	}
	if len(count) >= min(len(leaders), len(members)-1) {
		return 0, 0, 0
	}
	for _, m := range members {
		if count[m] > count[from] {
			from = m
		}
		if count[m] == 0 && to == 0 {
			to = m
		}
	}
	for g := 1; g <= len(leaders); g++ {
		if leaders[g] == from && g != avoid {
			return g, from, to
		}
	}
	return 0, 0, 0
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// memberIDs lists every node's member ID.
func (s *Store) memberIDs() []uint64 {
	ids := make([]uint64, len(s.specs))
	for i, spec := range s.specs {
		ids[i] = spec.ID
	}
	return ids
}
