package kubernetes

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// WaitHealthy blocks, woken by the informers' events, until the store is healthy and spec.Partition's leader has led for spec.MinLeaderAge.
func (t *Target) WaitHealthy(ctx context.Context, spec cluster.HealthSpec) (cluster.Health, error) {
	if spec.Partition != 0 {
		if err := t.checkPartition(spec.Partition); err != nil {
			return cluster.Health{}, err
		}
	}
	// Only the leader's age is waited out with a timer; everything else is
	// re-checked when an informer event closes t.changed.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var last []string
	for {
		t.mu.Lock()
		changed, gone := t.changed, t.storeGone
		now := time.Now()
		problems := t.healthProblemsLocked()
		var h cluster.Health
		var wait time.Duration
		if len(problems) == 0 {
			h = t.healthLocked(now, spec)
			if spec.Partition != 0 && h.LeaderAge < spec.MinLeaderAge {
				wait = spec.MinLeaderAge - h.LeaderAge
				problems = append(problems, fmt.Sprintf("the leader of partition %d has been in office for %s, less than %s",
					spec.Partition, h.LeaderAge, spec.MinLeaderAge))
			}
		}
		t.mu.Unlock()
		if gone {
			return cluster.Health{}, fmt.Errorf("waiting for store %s to be healthy: the store was deleted", t.store.name)
		}
		if len(problems) == 0 {
			t.log.Debug("store healthy", zap.Int("partition", spec.Partition), zap.Duration("leader_age", h.LeaderAge))
			return h, nil
		}
		if !slices.Equal(problems, last) {
			t.log.Debug("store not healthy yet", zap.Strings("problems", problems))
			last = problems
		}
		var tick <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			return cluster.Health{}, fmt.Errorf("waiting for store %s to be healthy: %s: %w",
				t.store.name, strings.Join(problems, "; "), context.Cause(ctx))
		case <-changed:
		case <-tick:
		}
		timer.Stop()
	}
}

// healthLocked describes the store at now; t.mu must be held and the store healthy.
func (t *Target) healthLocked(now time.Time, spec cluster.HealthSpec) cluster.Health {
	h := cluster.Health{At: now, Leaders: make([]cluster.Leadership, 0, t.store.partitions)}
	for id := 1; id <= t.store.partitions; id++ {
		l, _ := t.leadershipLocked(id)
		h.Leaders = append(h.Leaders, l)
	}
	if spec.Partition != 0 {
		h.LeaderAge = now.Sub(h.Leaders[spec.Partition-1].ObservedAt)
	}
	return h
}

// healthProblemsLocked lists, in a stable order, everything that keeps the
// store from being healthy; t.mu must be held. Healthy means: every pod named
// by a live member object exists in the store's cluster, is Running, Ready
// (condition and every container) and not being deleted; every partition has
// a leader in a term > 0, at least its expected number of live member objects
// (RaftPartition spec.replicas, else the store's replicas), the leader among
// them, each naming a pod; and no member's own status contradicts the
// partition's leader and term (reportProblemLocked).
func (t *Target) healthProblemsLocked() []string {
	problems := t.podProblemsLocked()
	for id := 1; id <= t.store.partitions; id++ {
		problems = append(problems, t.partitionProblemsLocked(id)...)
	}
	return problems
}

// liveMembersLocked returns the partition's member objects that are not being
// removed, by name; t.mu must be held.
func (t *Target) liveMembersLocked(partition int) []memberState {
	var out []memberState
	for _, m := range t.members {
		if m.partition == partition && !m.deleting {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b memberState) int { return strings.Compare(a.name, b.name) })
	return out
}

// podProblemsLocked checks every pod named by a live member of the store; t.mu must be held.
func (t *Target) podProblemsLocked() []string {
	named := map[string]string{}
	for _, m := range t.members {
		if !m.deleting && m.pod != "" {
			if cur, ok := named[m.pod]; !ok || m.name < cur {
				named[m.pod] = m.name
			}
		}
	}
	pods := make([]string, 0, len(named))
	for name := range named {
		pods = append(pods, name)
	}
	slices.Sort(pods)
	var problems []string
	for _, name := range pods {
		p, ok := t.pods[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("pod %s (of %s %s) does not exist in cluster %s", name, t.era.memberKind, named[name], t.store.cluster))
		case p.deleting:
			problems = append(problems, fmt.Sprintf("pod %s is being deleted", name))
		case !p.ready:
			problems = append(problems, fmt.Sprintf("pod %s is not ready (%s)", name, p.notReady))
		}
	}
	return problems
}

// partitionProblemsLocked checks one partition's leader, replicas and the
// replicas' own reports; t.mu must be held.
func (t *Target) partitionProblemsLocked(id int) []string {
	p := t.partitions[id]
	if p == nil {
		return []string{fmt.Sprintf("partition %d: %s %s not observed", id, t.era.partitionKind, t.era.partitionName(t.store, id))}
	}
	var problems []string
	if p.leader == "" || p.term == 0 {
		problems = append(problems, fmt.Sprintf("partition %d has no leader (term %d)", id, p.term))
	}
	members := t.liveMembersLocked(id)
	want := p.replicas
	if want == 0 {
		want = t.store.replicas
	}
	if len(members) < want {
		problems = append(problems, fmt.Sprintf("partition %d has %d of %d %s objects", id, len(members), want, t.era.memberKind))
	}
	if p.leader != "" && !slices.ContainsFunc(members, func(m memberState) bool { return m.name == p.leader }) {
		problems = append(problems, fmt.Sprintf("partition %d: leader %s is not a live %s of it", id, p.leader, t.era.memberKind))
	}
	for _, m := range members {
		if m.pod == "" {
			problems = append(problems, fmt.Sprintf("%s %s names no pod", t.era.memberKind, m.name))
			continue
		}
		if p.leader == "" || p.term == 0 {
			continue
		}
		if msg := t.reportProblemLocked(p.partitionState, m); msg != "" {
			problems = append(problems, msg)
		}
	}
	return problems
}

// reportProblemLocked compares a member's own status with its partition's leader
// and term; t.mu must be held.
//
// A member whose status is Ready is followed by the controller (it marks a
// member NotReady when its pod changes and Ready on the node's MemberReady
// event), so its report must name the partition's term and leader. A member
// that is not Ready may carry a report the controller no longer updates
// (stores/raft v0.7.0 can lose its watch of a recreated pod, leaving the
// replica NotReady for good): only a report that contradicts the partition —
// a later term, or another leader in the same term — holds it back; a
// lagging or absent report is left to its pod's readiness.
func (t *Target) reportProblemLocked(p partitionState, m memberState) string {
	r := m.report
	if r.term == 0 {
		return ""
	}
	if pod, ok := t.pods[m.pod]; ok && r.podUID != "" && r.podUID != pod.uid {
		return "" // a report about an earlier incarnation of the pod
	}
	isLeader := m.name == p.leader
	switch {
	case r.term > p.term:
		return fmt.Sprintf("%s %s reports term %d, partition %d is at term %d", t.era.memberKind, m.name, r.term, p.id, p.term)
	case r.term == p.term && r.leader != "" && r.leader != p.leader:
		return fmt.Sprintf("%s %s reports leader %s in term %d, partition %d names %s", t.era.memberKind, m.name, r.leader, r.term, p.id, p.leader)
	case r.state != memberReady:
		return ""
	case r.term < p.term:
		return fmt.Sprintf("%s %s (Ready) last reported term %d, partition %d is at term %d", t.era.memberKind, m.name, r.term, p.id, p.term)
	case r.leader == "":
		return fmt.Sprintf("%s %s (Ready) reports no leader in term %d, partition %d names %s", t.era.memberKind, m.name, r.term, p.id, p.leader)
	case r.role != "" && (r.role == roleLeader) != isLeader:
		return fmt.Sprintf("%s %s (Ready) has role %s in term %d, partition %d names %s leader", t.era.memberKind, m.name, r.role, r.term, p.id, p.leader)
	}
	return ""
}
