package kubernetes

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// verified is a leader checked against fresh API reads.
type verified struct {
	leadership cluster.Leadership
	podRV      string
}

// verify reads, with fresh API calls, the partition's leader, its member object,
// the store's members and the leader's pod, and checks that the pod is the
// current leader and a member of the store.
func (t *Target) verify(ctx context.Context, partition int) (verified, error) {
	var v verified
	if err := t.checkPartition(partition); err != nil {
		return v, err
	}
	// An ended context verifies nothing, whatever the API client does with
	// it (client-go's fake clients ignore it).
	if err := ctx.Err(); err != nil {
		return v, fmt.Errorf("verifying the leader of partition %d: %w", partition, err)
	}
	p, err := t.readPartition(ctx, partition)
	if err != nil {
		return v, err
	}
	v.leadership = cluster.Leadership{Partition: partition, Term: p.term, ObservedAt: time.Now()}
	if p.leader == "" {
		return v, fmt.Errorf("partition %d in term %d: %w", partition, p.term, cluster.ErrNoLeader)
	}
	leader, lu, err := t.readLeaderMember(ctx, p)
	if err != nil {
		return v, err
	}
	members, err := t.listMembers(ctx)
	if err != nil {
		return v, err
	}
	if err := t.checkPodNamed(members, leader); err != nil {
		return v, err
	}
	pod, err := t.readLeaderPod(ctx, leader)
	if err != nil {
		return v, err
	}
	if err := t.checkIncarnation(lu, leader, pod); err != nil {
		return v, err
	}
	if err := t.checkTermCurrent(p); err != nil {
		return v, err
	}
	v.podRV = pod.ResourceVersion
	v.leadership.Leader = cluster.Member{ID: leader.id, Name: leader.name, Pod: pod.Name, UID: string(pod.UID), Address: podAddress(pod.Status.PodIP)}
	v.leadership.Followers = followersOf(members, partition, leader.name)
	return v, nil
}

// readPartition reads the partition object and checks that it belongs to the store.
func (t *Target) readPartition(ctx context.Context, partition int) (partitionState, error) {
	pname := t.era.partitionName(t.store, partition)
	cctx, cancel := t.call(ctx)
	pu, err := t.dyn.Resource(t.era.partitionGVR).Namespace(t.cfg.Namespace).Get(cctx, pname, metav1.GetOptions{})
	cancel()
	if err != nil {
		return partitionState{}, fmt.Errorf("reading %s %s: %w", t.era.partitionKind, pname, err)
	}
	p, ok := t.era.parsePartition(t.store, pu)
	if !ok || p.id != partition {
		return partitionState{}, fmt.Errorf("%s %s does not belong to %s %s: %w", t.era.partitionKind, pname, t.era.storeKind, t.store.name, cluster.ErrNotMember)
	}
	return p, nil
}

// readLeaderMember reads the member object the partition names as leader and
// checks that it is a live member of that partition of the store.
func (t *Target) readLeaderMember(ctx context.Context, p partitionState) (memberState, *unstructured.Unstructured, error) {
	cctx, cancel := t.call(ctx)
	lu, err := t.dyn.Resource(t.era.memberGVR).Namespace(t.cfg.Namespace).Get(cctx, p.leader, metav1.GetOptions{})
	cancel()
	if apierrors.IsNotFound(err) {
		return memberState{}, nil, fmt.Errorf("%s %s, named leader of partition %d in term %d, no longer exists: %w",
			t.era.memberKind, p.leader, p.id, p.term, cluster.ErrNotLeader)
	}
	if err != nil {
		return memberState{}, nil, fmt.Errorf("reading %s %s: %w", t.era.memberKind, p.leader, err)
	}
	leader, ok := t.era.parseMember(t.store, lu)
	if !ok {
		return memberState{}, nil, fmt.Errorf("%s %s, named leader of partition %d, is not a member of %s %s: %w",
			t.era.memberKind, p.leader, p.id, t.era.storeKind, t.store.name, cluster.ErrNotMember)
	}
	if leader.partition != p.id {
		return memberState{}, nil, fmt.Errorf("%s %s belongs to partition %d, not %d: %w", t.era.memberKind, leader.name, leader.partition, p.id, cluster.ErrNotLeader)
	}
	if lu.GetDeletionTimestamp() != nil {
		return memberState{}, nil, fmt.Errorf("%s %s, named leader of partition %d, is being removed: %w", t.era.memberKind, leader.name, p.id, cluster.ErrNotLeader)
	}
	return leader, lu, nil
}

// listMembers lists the store's member objects with a fresh API call.
func (t *Target) listMembers(ctx context.Context) ([]memberState, error) {
	cctx, cancel := t.call(ctx)
	list, err := t.dyn.Resource(t.era.memberGVR).Namespace(t.cfg.Namespace).List(cctx, metav1.ListOptions{LabelSelector: t.era.memberSelector(t.store)})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("listing the %s's %s objects: %w", t.era.storeKind, t.era.memberKind, err)
	}
	var members []memberState
	for i := range list.Items {
		if m, ok := t.era.parseMember(t.store, &list.Items[i]); ok {
			members = append(members, m)
		}
	}
	return members, nil
}

// checkPodNamed checks that the leader names a pod and that a member of the store names it.
func (t *Target) checkPodNamed(members []memberState, leader memberState) error {
	named := slices.ContainsFunc(members, func(m memberState) bool { return m.pod != "" && m.pod == leader.pod })
	if leader.pod == "" || !named {
		return fmt.Errorf("pod %q of %s %s is not named by any %s of the store: %w",
			leader.pod, t.era.memberKind, leader.name, t.era.memberKind, cluster.ErrNotMember)
	}
	return nil
}

// readLeaderPod reads the leader's pod and checks that it is in the store's cluster and not terminating.
func (t *Target) readLeaderPod(ctx context.Context, leader memberState) (*corev1.Pod, error) {
	cctx, cancel := t.call(ctx)
	pod, err := t.kube.CoreV1().Pods(t.cfg.Namespace).Get(cctx, leader.pod, metav1.GetOptions{})
	cancel()
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("pod %s of leader %s is gone: %w", leader.pod, leader.name, cluster.ErrNotLeader)
	}
	if err != nil {
		return nil, fmt.Errorf("reading pod %s: %w", leader.pod, err)
	}
	if err := t.era.podInCluster(t.store, t.cfg.Namespace, pod.Labels); err != nil {
		return nil, fmt.Errorf("pod %s is not in cluster %s (%v): %w", pod.Name, t.store.cluster, err, cluster.ErrNotMember)
	}
	if pod.DeletionTimestamp != nil {
		return nil, fmt.Errorf("pod %s is already being deleted: %w", pod.Name, cluster.ErrNotLeader)
	}
	return pod, nil
}

// checkIncarnation refuses a member object owned by an earlier incarnation of the pod.
func (t *Target) checkIncarnation(lu *unstructured.Unstructured, leader memberState, pod *corev1.Pod) error {
	for _, o := range lu.GetOwnerReferences() {
		if o.Kind == "Pod" && o.Name == pod.Name && o.UID != pod.UID {
			return fmt.Errorf("%s %s belongs to an earlier incarnation of pod %s (UID %s, now %s): %w",
				t.era.memberKind, leader.name, pod.Name, o.UID, pod.UID, cluster.ErrNotLeader)
		}
	}
	return nil
}

// checkTermCurrent refuses when the watches have already seen a later term than the one verified.
func (t *Target) checkTermCurrent(p partitionState) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur := t.partitions[p.id]; cur != nil && cur.term > p.term {
		return fmt.Errorf("partition %d moved to term %d while verifying term %d: %w", p.id, cur.term, p.term, cluster.ErrNotLeader)
	}
	return nil
}

// followersOf returns the partition's voting members other than the leader, by member ID.
func followersOf(members []memberState, partition int, leader string) []cluster.Member {
	var out []cluster.Member
	for _, m := range members {
		if m.partition == partition && m.voting && m.name != leader {
			out = append(out, cluster.Member{ID: m.id, Name: m.name, Pod: m.pod})
		}
	}
	slices.SortFunc(out, func(a, b cluster.Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
