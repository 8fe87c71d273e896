package kubernetes

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

func podAddress(ip string) string {
	if ip == "" {
		return ""
	}
	return net.JoinHostPort(ip, strconv.Itoa(nodeAPIPort))
}

// memberLocked resolves a member and its pod from the watch caches; t.mu must be held.
func (t *Target) memberLocked(m memberState) cluster.Member {
	out := cluster.Member{ID: m.id, Name: m.name, Pod: m.pod}
	if p, ok := t.pods[m.pod]; ok {
		out.UID, out.Address = p.uid, podAddress(p.ip)
	}
	return out
}

// leadershipLocked builds a partition's leadership from the watch caches; t.mu must be held.
func (t *Target) leadershipLocked(id int) (cluster.Leadership, error) {
	p := t.partitions[id]
	if p == nil {
		return cluster.Leadership{Partition: id}, fmt.Errorf("partition %d: %s %s not found",
			id, t.era.partitionKind, t.era.partitionName(t.store, id))
	}
	l := cluster.Leadership{Partition: id, Term: p.term, ObservedAt: p.observedAt}
	if p.leader != "" {
		if m, ok := t.members[p.leader]; ok && m.partition == id {
			l.Leader = t.memberLocked(m)
		} else {
			l.Leader = cluster.Member{Name: p.leader}
		}
	}
	for _, m := range t.members {
		if m.partition == id && m.voting && m.name != p.leader {
			l.Followers = append(l.Followers, t.memberLocked(m))
		}
	}
	slices.SortFunc(l.Followers, func(a, b cluster.Member) int { return cmp.Compare(a.ID, b.ID) })
	return l, nil
}

// ledLocked returns the partitions whose leader, as the watch caches know it,
// runs in pod, with each one's term; t.mu must be held.
func (t *Target) ledLocked(pod string) map[int]uint64 {
	led := map[int]uint64{}
	for id, p := range t.partitions {
		if p.leader == "" {
			continue
		}
		if m, ok := t.members[p.leader]; ok && m.partition == id && m.pod == pod {
			led[id] = p.term
		}
	}
	return led
}

// Leaders returns the current leadership of every partition, as last observed by the watches.
func (t *Target) Leaders(ctx context.Context) ([]cluster.Leadership, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]cluster.Leadership, 0, t.store.partitions)
	for id := 1; id <= t.store.partitions; id++ {
		l, err := t.leadershipLocked(id)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// Leader returns one partition's leadership; ErrNoLeader while no leader is known.
func (t *Target) Leader(ctx context.Context, partition int) (cluster.Leadership, error) {
	if err := t.checkPartition(partition); err != nil {
		return cluster.Leadership{}, err
	}
	if err := ctx.Err(); err != nil {
		return cluster.Leadership{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l, err := t.leadershipLocked(partition)
	if err != nil {
		return l, err
	}
	if !l.HasLeader() {
		return l, fmt.Errorf("partition %d in term %d: %w", partition, l.Term, cluster.ErrNoLeader)
	}
	return l, nil
}

// WaitForLeader blocks until a watch event shows the partition led in a term above afterTerm.
func (t *Target) WaitForLeader(ctx context.Context, partition int, afterTerm uint64) (cluster.Leadership, error) {
	if err := t.checkPartition(partition); err != nil {
		return cluster.Leadership{}, err
	}
	for {
		t.mu.Lock()
		changed, gone := t.changed, t.storeGone
		l, err := t.leadershipLocked(partition)
		t.mu.Unlock()
		if gone {
			return l, fmt.Errorf("waiting for a leader of partition %d: the store was deleted", partition)
		}
		if err == nil && l.HasLeader() && l.Term > afterTerm {
			t.log.Info("new leader", zap.Int("partition", partition), zap.Uint64("term", l.Term),
				zap.Uint64("leader_member", l.Leader.ID), zap.String("leader_pod", l.Leader.Pod),
				zap.Strings("members_after", memberIDs(l)))
			return l, nil
		}
		select {
		case <-ctx.Done():
			return l, fmt.Errorf("waiting for a leader of partition %d after term %d (last seen term %d): %w",
				partition, afterTerm, l.Term, context.Cause(ctx))
		case <-changed:
		}
	}
}

func memberIDs(l cluster.Leadership) []string {
	var out []string
	if l.HasLeader() {
		out = append(out, fmt.Sprintf("%d:%s", l.Leader.ID, l.Leader.Pod))
	}
	for _, f := range l.Followers {
		out = append(out, fmt.Sprintf("%d:%s", f.ID, f.Pod))
	}
	return out
}
