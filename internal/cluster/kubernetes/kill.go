package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// PlanKill verifies which pod KillLeader would delete now, and deletes nothing.
func (t *Target) PlanKill(ctx context.Context, partition int) (cluster.Leadership, error) {
	v, err := t.verify(ctx, partition)
	if err != nil {
		t.log.Warn("no pod would be deleted", zap.Int("partition", partition), zap.Error(err))
		return v.leadership, err
	}
	t.log.Info("dry run: would delete pod", zap.Int("partition", partition), zap.Uint64("term", v.leadership.Term),
		zap.String("pod", v.leadership.Leader.Pod), zap.String("uid", v.leadership.Leader.UID), zap.Uint64("member", v.leadership.Leader.ID))
	return v.leadership, nil
}

// KillLeader deletes the pod verified to lead the partition and waits until a watch shows it gone or replaced.
func (t *Target) KillLeader(ctx context.Context, partition int) (cluster.Kill, error) {
	// An error means no pod was deleted. A deletion accepted but not seen
	// done before ctx ends is a kill: Kill.Unconfirmed says why, error is nil.
	v, err := t.verify(ctx, partition)
	if err != nil {
		t.log.Warn("refusing to delete", zap.Int("partition", partition), zap.Error(err))
		return cluster.Kill{}, err
	}
	victim := v.leadership.Leader
	log := t.log.With(zap.Int("partition", partition), zap.Uint64("term", v.leadership.Term),
		zap.String("pod", victim.Pod), zap.String("uid", victim.UID), zap.Uint64("member", victim.ID))
	w, err := t.watchPod(ctx, victim.Pod, v.podRV)
	if err != nil {
		return cluster.Kill{}, err
	}
	defer func() { w.Stop() }()

	k := cluster.Kill{Partition: partition, Victim: victim, Term: v.leadership.Term}
	t.mu.Lock()
	k.Led = t.ledLocked(victim.Pod)
	t.mu.Unlock()
	k.Led[partition] = v.leadership.Term
	if err := t.deletePod(ctx, victim, &k.SentAt); err != nil {
		return cluster.Kill{}, err
	}
	log.Info("pod deletion accepted", zap.Int64("grace_period_s", t.cfg.GracePeriod),
		zap.Strings("members_before", memberIDs(v.leadership)), zap.Any("led", k.Led))
	done, err := t.awaitPodGone(ctx, w, victim.Pod, victim.UID)
	if err != nil {
		k.Unconfirmed = fmt.Errorf("deletion of pod %s accepted, not yet confirmed: %w", victim.Pod, err)
		log.Warn("leader pod deletion not confirmed", zap.Error(k.Unconfirmed))
		return k, nil
	}
	k.DoneAt = done
	log.Info("leader pod gone", zap.Duration("kill", k.DoneAt.Sub(k.SentAt)))
	return k, nil
}

// deletePod sends the delete of the victim's pod with the configured grace
// period and a precondition on its UID, setting *sentAt just before the
// request. An error means the pod was not deleted.
func (t *Target) deletePod(ctx context.Context, victim cluster.Member, sentAt *time.Time) error {
	grace := t.cfg.GracePeriod
	opts := metav1.DeleteOptions{GracePeriodSeconds: &grace, Preconditions: &metav1.Preconditions{UID: typesUID(victim.UID)}}
	cctx, cancel := t.call(ctx)
	defer cancel()
	*sentAt = time.Now()
	err := t.kube.CoreV1().Pods(t.cfg.Namespace).Delete(cctx, victim.Pod, opts)
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("pod %s vanished before the delete: %w", victim.Pod, cluster.ErrNotLeader)
	case apierrors.IsConflict(err):
		return fmt.Errorf("pod %s was replaced before the delete (UID precondition %s): %w", victim.Pod, victim.UID, cluster.ErrNotLeader)
	case err != nil:
		return fmt.Errorf("deleting pod %s: %w", victim.Pod, err)
	}
	return nil
}

// watchPod watches one pod by name from resourceVersion rv.
func (t *Target) watchPod(ctx context.Context, name, rv string) (watchHandle, error) {
	timeout := int64(300)
	if d, ok := ctx.Deadline(); ok {
		timeout = max(int64(time.Until(d)/time.Second)+1, 1)
	}
	wctx, cancel := context.WithCancel(ctx)
	w, err := t.kube.CoreV1().Pods(t.cfg.Namespace).Watch(wctx, metav1.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", name).String(),
		ResourceVersion: rv,
		TimeoutSeconds:  &timeout,
	})
	if err != nil {
		cancel()
		return watchHandle{}, fmt.Errorf("watching pod %s: %w", name, err)
	}
	return watchHandle{w: w, cancel: cancel}, nil
}

// awaitPodGone returns when the pod incarnation uid is seen deleted or replaced.
func (t *Target) awaitPodGone(ctx context.Context, w watchHandle, name, uid string) (time.Time, error) {
	for {
		select {
		case <-ctx.Done():
			return time.Time{}, context.Cause(ctx)
		case ev, ok := <-w.w.ResultChan():
			if ok {
				pod, isPod := ev.Object.(*corev1.Pod)
				if !isPod || pod.Name != name {
					continue
				}
				if string(pod.UID) != uid || ev.Type == watch.Deleted {
					return time.Now(), nil
				}
				continue
			}
			w.Stop()
			cctx, cancel := t.call(ctx)
			pod, err := t.kube.CoreV1().Pods(t.cfg.Namespace).Get(cctx, name, metav1.GetOptions{})
			cancel()
			if apierrors.IsNotFound(err) || (err == nil && string(pod.UID) != uid) {
				return time.Now(), nil
			}
			if err != nil {
				return time.Time{}, fmt.Errorf("reading pod %s: %w", name, err)
			}
			if w, err = t.watchPod(ctx, name, pod.ResourceVersion); err != nil {
				return time.Time{}, err
			}
			defer w.Stop()
		}
	}
}

// Restored blocks until the informers show a new, ready incarnation of the killed pod.
func (t *Target) Restored(ctx context.Context, k cluster.Kill) (cluster.Restart, error) {
	// The pod named like the victim with another UID, Ready and not being
	// deleted: Began is when the informer first saw that UID, Back when it
	// first saw it ready.
	if k.Victim.Pod == "" || k.Victim.UID == "" {
		return cluster.Restart{}, errors.New("restored: the kill names no victim pod and UID")
	}
	for {
		t.mu.Lock()
		changed, gone := t.changed, t.storeGone
		p, ok := t.pods[k.Victim.Pod]
		t.mu.Unlock()
		if ok && p.uid != k.Victim.UID && p.ready && !p.deleting {
			t.log.Info("killed pod back", zap.String("pod", k.Victim.Pod), zap.String("uid", p.uid),
				zap.Duration("created_after_kill", p.firstSeen.Sub(k.SentAt)), zap.Duration("ready_after_kill", p.readyAt.Sub(k.SentAt)))
			return cluster.Restart{Began: p.firstSeen, Back: p.readyAt}, nil
		}
		if gone {
			return cluster.Restart{}, fmt.Errorf("waiting for pod %s to come back: the store was deleted", k.Victim.Pod)
		}
		select {
		case <-ctx.Done():
			return cluster.Restart{}, fmt.Errorf("waiting for pod %s to come back: %s: %w",
				k.Victim.Pod, replacementState(p, ok, k.Victim.UID), context.Cause(ctx))
		case <-changed:
		}
	}
}

// replacementState says why the pod named like the victim is not back yet.
func replacementState(p podState, exists bool, victimUID string) string {
	switch {
	case !exists:
		return "no pod of that name"
	case p.uid == victimUID:
		return fmt.Sprintf("still the killed incarnation (UID %s)", victimUID)
	case p.deleting:
		return fmt.Sprintf("replacement (UID %s) is being deleted", p.uid)
	default:
		return fmt.Sprintf("replacement (UID %s) not ready: %s", p.uid, p.notReady)
	}
}
