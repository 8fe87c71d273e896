package kubernetes

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// observedPartition is a partition object and when its current leadership was first observed.
type observedPartition struct {
	partitionState
	// observedAt is when the target first saw this leader in this term (monotonic).
	observedAt time.Time
}

// podState is what the informer cache keeps of one pod incarnation.
type podState struct {
	uid string
	ip  string
	// ready: Running, condition Ready and every container ready.
	ready bool
	// notReady says why the pod is not ready ("" when ready).
	notReady string
	// deleting is set once the pod carries a deletion timestamp.
	deleting bool
	// firstSeen is when this incarnation (UID) was first observed (monotonic).
	firstSeen time.Time
	// readyAt is when this incarnation was first observed ready; zero until then.
	readyAt time.Time
}

// listTimeout gives list calls made by informers a server-side deadline; watches carry their own.
func (t *Target) listTimeout(o *metav1.ListOptions) {
	if o.TimeoutSeconds == nil {
		s := int64(t.cfg.CallTimeout / time.Second)
		if s < 1 {
			s = 1
		}
		o.TimeoutSeconds = &s
	}
}

func (t *Target) startWatches(ctx context.Context) error {
	ns := t.cfg.Namespace
	crSel := t.era.memberSelector(t.store)
	crf := dynamicinformer.NewFilteredDynamicSharedInformerFactory(t.dyn, 0, ns, func(o *metav1.ListOptions) {
		o.LabelSelector = crSel
		t.listTimeout(o)
	})
	stf := dynamicinformer.NewFilteredDynamicSharedInformerFactory(t.dyn, 0, ns, func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", t.store.name).String()
		t.listTimeout(o)
	})
	pf := informers.NewSharedInformerFactoryWithOptions(t.kube, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = t.era.podSelector(t.store)
			t.listTimeout(o)
		}))
	t.factories = []interface{ Shutdown() }{crf, stf, pf}

	handlers := []struct {
		inf cache.SharedIndexInformer
		on  func(obj any, deleted bool)
	}{
		{crf.ForResource(t.era.partitionGVR).Informer(), t.onPartition},
		{crf.ForResource(t.era.memberGVR).Informer(), t.onMember},
		{stf.ForResource(t.era.storeGVR).Informer(), t.onStore},
		{pf.Core().V1().Pods().Informer(), t.onPod},
	}
	synced := make([]cache.InformerSynced, 0, len(handlers))
	for _, h := range handlers {
		on := h.on
		if _, err := h.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { on(obj, false) },
			UpdateFunc: func(_, obj any) { on(obj, false) },
			DeleteFunc: func(obj any) { on(obj, true) },
		}); err != nil {
			return fmt.Errorf("registering a watch handler: %w", err)
		}
		synced = append(synced, h.inf.HasSynced)
	}
	crf.Start(t.stop)
	stf.Start(t.stop)
	pf.Start(t.stop)
	sctx, cancel := context.WithTimeout(ctx, t.cfg.SyncTimeout)
	defer cancel()
	if !cache.WaitForCacheSync(sctx.Done(), synced...) {
		return fmt.Errorf("listing the %s's %s, %s and pods: %w", t.era.storeKind, t.era.partitionKind, t.era.memberKind, context.Cause(sctx))
	}
	return nil
}

func unstructuredOf(obj any) *unstructured.Unstructured {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, _ := obj.(*unstructured.Unstructured)
	return u
}

// notifyLocked wakes every waiter; t.mu must be held.
func (t *Target) notifyLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *Target) onPartition(obj any, deleted bool) {
	u := unstructuredOf(obj)
	if u == nil {
		return
	}
	p, ok := t.era.parsePartition(t.store, u)
	if !ok {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.partitions[p.id]
	if deleted {
		if cur != nil && cur.name == p.name {
			delete(t.partitions, p.id)
			t.notifyLocked()
		}
		return
	}
	next := &observedPartition{partitionState: p, observedAt: now}
	if cur != nil && cur.term == p.term && cur.leader == p.leader {
		next.observedAt = cur.observedAt
	} else {
		t.log.Debug("leadership observed", zap.Int("partition", p.id), zap.Uint64("term", p.term), zap.String("leader", p.leader))
	}
	t.partitions[p.id] = next
	t.notifyLocked()
}

func (t *Target) onMember(obj any, deleted bool) {
	u := unstructuredOf(obj)
	if u == nil {
		return
	}
	m, ok := t.era.parseMember(t.store, u)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if deleted {
		delete(t.members, m.name)
	} else {
		t.members[m.name] = m
	}
	t.notifyLocked()
}

func (t *Target) onStore(obj any, deleted bool) {
	u := unstructuredOf(obj)
	if u == nil || u.GetName() != t.store.name {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if deleted && !t.storeGone {
		t.log.Warn("the store was deleted")
	}
	t.storeGone = deleted
	t.notifyLocked()
}

func (t *Target) onPod(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, known := t.pods[p.Name]
	if deleted {
		if known && cur.uid == string(p.UID) {
			delete(t.pods, p.Name)
		}
		t.notifyLocked()
		return
	}
	next := podState{uid: string(p.UID), ip: p.Status.PodIP, deleting: p.DeletionTimestamp != nil, firstSeen: now}
	next.ready, next.notReady = podReadiness(p)
	if known && cur.uid == next.uid {
		next.firstSeen, next.readyAt = cur.firstSeen, cur.readyAt
	} else {
		t.log.Debug("pod incarnation observed", zap.String("pod", p.Name), zap.String("uid", next.uid))
	}
	if next.ready && next.readyAt.IsZero() {
		next.readyAt = now
	}
	t.pods[p.Name] = next
	t.notifyLocked()
}

// podReadiness reports whether the pod is Running with condition Ready and
// every container ready, and if not, why.
func podReadiness(p *corev1.Pod) (bool, string) {
	if p.Status.Phase != corev1.PodRunning {
		phase := string(p.Status.Phase)
		if phase == "" {
			phase = "unknown"
		}
		return false, "phase " + phase
	}
	condition := false
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			condition = c.Status == corev1.ConditionTrue
		}
	}
	if !condition {
		return false, "condition Ready is not True"
	}
	ready := make(map[string]bool, len(p.Status.ContainerStatuses))
	for _, c := range p.Status.ContainerStatuses {
		ready[c.Name] = c.Ready
	}
	if len(ready) == 0 {
		return false, "no container status"
	}
	for _, c := range p.Spec.Containers {
		if !ready[c.Name] {
			return false, fmt.Sprintf("container %s not ready", c.Name)
		}
	}
	for _, c := range p.Status.ContainerStatuses {
		if !c.Ready {
			return false, fmt.Sprintf("container %s not ready", c.Name)
		}
	}
	return true, ""
}
