package kubernetes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	sdkclient "github.com/atomix/go-sdk/pkg/client"
	"github.com/atomix/go-sdk/pkg/types"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// Clients are the API clients the target uses.
type Clients struct {
	// Kube is the typed client: pods and API discovery.
	Kube k8s.Interface
	// Dynamic reads the Atomix custom resources as unstructured objects.
	Dynamic dynamic.Interface
}

// Target is a store run by the Atomix controllers in a Kubernetes namespace.
type Target struct {
	cfg   Config
	log   *zap.Logger
	era   *era
	store storeInfo
	kube  k8s.Interface
	dyn   dynamic.Interface

	stop      chan struct{}
	factories []interface{ Shutdown() }
	closeOnce sync.Once

	mu         sync.Mutex
	changed    chan struct{}
	partitions map[int]*observedPartition
	members    map[string]memberState
	pods       map[string]podState
	storeGone  bool

	sdkMu sync.Mutex
	sdk   *sdkclient.Client
}

type observedPartition struct {
	partitionState
	observedAt time.Time
}

type podState struct {
	uid string
	ip  string
}

var _ cluster.Target = (*Target)(nil)

// Open connects to the cluster named by cfg and opens the store.
func Open(ctx context.Context, cfg Config, log *zap.Logger) (*Target, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rc, err := RESTConfig(cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	kube, err := k8s.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("creating the dynamic client: %w", err)
	}
	return New(ctx, Clients{Kube: kube, Dynamic: dyn}, cfg, log)
}

// New opens the store with the given clients: it finds the Atomix era and the
// store, then starts watching the store's partitions, members and pods.
func New(ctx context.Context, c Clients, cfg Config, log *zap.Logger) (*Target, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	t := &Target{
		cfg:        cfg,
		log:        log.With(zap.String("namespace", cfg.Namespace)),
		kube:       c.Kube,
		dyn:        c.Dynamic,
		stop:       make(chan struct{}),
		changed:    make(chan struct{}),
		partitions: map[int]*observedPartition{},
		members:    map[string]memberState{},
		pods:       map[string]podState{},
	}
	if err := t.resolveStore(ctx); err != nil {
		return nil, err
	}
	t.log = t.log.With(zap.String("store", t.store.name), zap.String("kind", t.era.storeKind))
	if err := t.startWatches(ctx); err != nil {
		_ = t.Close()
		return nil, err
	}
	t.log.Info("watching store",
		zap.String("api", t.era.gv.String()), zap.String("cluster", t.store.cluster),
		zap.Int("partitions", t.store.partitions), zap.Int("replicas", t.store.replicas))
	return t, nil
}

// call bounds one API call.
func (t *Target) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, t.cfg.CallTimeout)
}

type discoveryWithContext interface {
	ServerResourcesForGroupVersionWithContext(ctx context.Context, groupVersion string) (*metav1.APIResourceList, error)
}

// serves reports whether the API server serves every resource of the era.
func (t *Target) serves(ctx context.Context, e *era) (bool, error) {
	cctx, cancel := t.call(ctx)
	defer cancel()
	var list *metav1.APIResourceList
	var err error
	if d, ok := t.kube.Discovery().(discoveryWithContext); ok {
		list, err = d.ServerResourcesForGroupVersionWithContext(cctx, e.gv.String())
	} else {
		list, err = t.kube.Discovery().ServerResourcesForGroupVersion(e.gv.String())
	}
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("discovering %s: %w", e.gv, err)
	}
	want := map[string]bool{e.storeGVR.Resource: false, e.partitionGVR.Resource: false, e.memberGVR.Resource: false}
	for _, r := range list.APIResources {
		if _, ok := want[r.Name]; ok {
			want[r.Name] = true
		}
	}
	for _, ok := range want {
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// resolveStore picks the era (API discovery or Config.StoreKind) and reads the store.
func (t *Target) resolveStore(ctx context.Context) error {
	kinds := []string{KindRaft, KindConsensus}
	if t.cfg.StoreKind != KindAuto {
		kinds = []string{t.cfg.StoreKind}
	}
	var served []*era
	for _, k := range kinds {
		e := newEra(k)
		ok, err := t.serves(ctx, e)
		if err != nil {
			return err
		}
		if ok {
			served = append(served, e)
		}
	}
	if len(served) == 0 {
		if t.cfg.StoreKind == KindAuto {
			return fmt.Errorf("neither %s nor %s is served: is Atomix installed?", raftGV, consensusGV)
		}
		return fmt.Errorf("%s is not served: is that Atomix era installed?", newEra(kinds[0]).gv)
	}
	type found struct {
		era *era
		obj *unstructured.Unstructured
	}
	var stores []found
	for _, e := range served {
		res := t.dyn.Resource(e.storeGVR).Namespace(t.cfg.Namespace)
		cctx, cancel := t.call(ctx)
		if t.cfg.Store != "" {
			u, err := res.Get(cctx, t.cfg.Store, metav1.GetOptions{})
			cancel()
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("reading %s %s/%s: %w", e.storeKind, t.cfg.Namespace, t.cfg.Store, err)
			}
			stores = append(stores, found{e, u})
			break
		}
		list, err := res.List(cctx, metav1.ListOptions{})
		cancel()
		if err != nil {
			return fmt.Errorf("listing %s in %s: %w", e.storeResource, t.cfg.Namespace, err)
		}
		for i := range list.Items {
			stores = append(stores, found{e, &list.Items[i]})
		}
	}
	switch {
	case len(stores) == 0 && t.cfg.Store != "":
		return fmt.Errorf("store %q not found in namespace %s", t.cfg.Store, t.cfg.Namespace)
	case len(stores) == 0:
		return fmt.Errorf("no Atomix store in namespace %s", t.cfg.Namespace)
	case len(stores) > 1:
		names := make([]string, len(stores))
		for i, s := range stores {
			names[i] = s.era.storeKind + "/" + s.obj.GetName()
		}
		return fmt.Errorf("namespace %s holds several stores (%v): choose one with --store", t.cfg.Namespace, names)
	}
	s, err := stores[0].era.parseStore(stores[0].obj)
	if err != nil {
		return err
	}
	t.era, t.store = stores[0].era, s
	return nil
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
	t.mu.Lock()
	defer t.mu.Unlock()
	if deleted {
		if cur, ok := t.pods[p.Name]; ok && cur.uid == string(p.UID) {
			delete(t.pods, p.Name)
		}
	} else {
		t.pods[p.Name] = podState{uid: string(p.UID), ip: p.Status.PodIP}
	}
	t.notifyLocked()
}

// Info describes the store.
func (t *Target) Info() cluster.Info {
	return cluster.Info{
		Target:     "kubernetes",
		Store:      t.store.name,
		Partitions: t.store.partitions,
		Replicas:   t.store.replicas,
		Versions:   map[string]string{"api": t.era.gv.String(), "store-kind": t.era.storeKind},
	}
}

func (t *Target) checkPartition(partition int) error {
	if partition < 1 || partition > t.store.partitions {
		return fmt.Errorf("partition %d: the store has partitions 1..%d", partition, t.store.partitions)
	}
	return nil
}

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
	ns := t.cfg.Namespace
	pname := t.era.partitionName(t.store, partition)
	cctx, cancel := t.call(ctx)
	pu, err := t.dyn.Resource(t.era.partitionGVR).Namespace(ns).Get(cctx, pname, metav1.GetOptions{})
	cancel()
	if err != nil {
		return v, fmt.Errorf("reading %s %s: %w", t.era.partitionKind, pname, err)
	}
	p, ok := t.era.parsePartition(t.store, pu)
	if !ok || p.id != partition {
		return v, fmt.Errorf("%s %s does not belong to %s %s: %w", t.era.partitionKind, pname, t.era.storeKind, t.store.name, cluster.ErrNotMember)
	}
	v.leadership = cluster.Leadership{Partition: partition, Term: p.term, ObservedAt: time.Now()}
	if p.leader == "" {
		return v, fmt.Errorf("partition %d in term %d: %w", partition, p.term, cluster.ErrNoLeader)
	}

	cctx, cancel = t.call(ctx)
	lu, err := t.dyn.Resource(t.era.memberGVR).Namespace(ns).Get(cctx, p.leader, metav1.GetOptions{})
	cancel()
	if apierrors.IsNotFound(err) {
		return v, fmt.Errorf("%s %s, named leader of partition %d in term %d, no longer exists: %w",
			t.era.memberKind, p.leader, partition, p.term, cluster.ErrNotLeader)
	}
	if err != nil {
		return v, fmt.Errorf("reading %s %s: %w", t.era.memberKind, p.leader, err)
	}
	leader, ok := t.era.parseMember(t.store, lu)
	if !ok {
		return v, fmt.Errorf("%s %s, named leader of partition %d, is not a member of %s %s: %w",
			t.era.memberKind, p.leader, partition, t.era.storeKind, t.store.name, cluster.ErrNotMember)
	}
	if leader.partition != partition {
		return v, fmt.Errorf("%s %s belongs to partition %d, not %d: %w", t.era.memberKind, leader.name, leader.partition, partition, cluster.ErrNotLeader)
	}
	if lu.GetDeletionTimestamp() != nil {
		return v, fmt.Errorf("%s %s, named leader of partition %d, is being removed: %w", t.era.memberKind, leader.name, partition, cluster.ErrNotLeader)
	}

	cctx, cancel = t.call(ctx)
	list, err := t.dyn.Resource(t.era.memberGVR).Namespace(ns).List(cctx, metav1.ListOptions{LabelSelector: t.era.memberSelector(t.store)})
	cancel()
	if err != nil {
		return v, fmt.Errorf("listing the %s's %s objects: %w", t.era.storeKind, t.era.memberKind, err)
	}
	var members []memberState
	named := false
	for i := range list.Items {
		m, ok := t.era.parseMember(t.store, &list.Items[i])
		if !ok {
			continue
		}
		members = append(members, m)
		named = named || (m.pod != "" && m.pod == leader.pod)
	}
	if leader.pod == "" || !named {
		return v, fmt.Errorf("pod %q of %s %s is not named by any %s of the store: %w",
			leader.pod, t.era.memberKind, leader.name, t.era.memberKind, cluster.ErrNotMember)
	}

	cctx, cancel = t.call(ctx)
	pod, err := t.kube.CoreV1().Pods(ns).Get(cctx, leader.pod, metav1.GetOptions{})
	cancel()
	if apierrors.IsNotFound(err) {
		return v, fmt.Errorf("pod %s of leader %s is gone: %w", leader.pod, leader.name, cluster.ErrNotLeader)
	}
	if err != nil {
		return v, fmt.Errorf("reading pod %s: %w", leader.pod, err)
	}
	if err := t.era.podInCluster(t.store, ns, pod.Labels); err != nil {
		return v, fmt.Errorf("pod %s is not in cluster %s (%v): %w", pod.Name, t.store.cluster, err, cluster.ErrNotMember)
	}
	if pod.DeletionTimestamp != nil {
		return v, fmt.Errorf("pod %s is already being deleted: %w", pod.Name, cluster.ErrNotLeader)
	}
	for _, o := range lu.GetOwnerReferences() {
		if o.Kind == "Pod" && o.Name == pod.Name && o.UID != pod.UID {
			return v, fmt.Errorf("%s %s belongs to an earlier incarnation of pod %s (UID %s, now %s): %w",
				t.era.memberKind, leader.name, pod.Name, o.UID, pod.UID, cluster.ErrNotLeader)
		}
	}

	t.mu.Lock()
	if cur := t.partitions[partition]; cur != nil && cur.term > p.term {
		t.mu.Unlock()
		return v, fmt.Errorf("partition %d moved to term %d while verifying term %d: %w", partition, cur.term, p.term, cluster.ErrNotLeader)
	}
	t.mu.Unlock()

	v.podRV = pod.ResourceVersion
	v.leadership.Leader = cluster.Member{ID: leader.id, Name: leader.name, Pod: pod.Name, UID: string(pod.UID), Address: podAddress(pod.Status.PodIP)}
	for _, m := range members {
		if m.partition == partition && m.voting && m.name != leader.name {
			v.leadership.Followers = append(v.leadership.Followers, cluster.Member{ID: m.id, Name: m.name, Pod: m.pod})
		}
	}
	slices.SortFunc(v.leadership.Followers, func(a, b cluster.Member) int { return cmp.Compare(a.ID, b.ID) })
	return v, nil
}

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

// KillLeader deletes the pod verified, right before, to lead the partition and
// returns once a watch shows the pod gone or replaced.
func (t *Target) KillLeader(ctx context.Context, partition int) (cluster.Kill, error) {
	v, err := t.verify(ctx, partition)
	if err != nil {
		t.log.Warn("refusing to delete", zap.Int("partition", partition), zap.Error(err))
		return cluster.Kill{}, err
	}
	victim := v.leadership.Leader
	log := t.log.With(zap.Int("partition", partition), zap.Uint64("term", v.leadership.Term),
		zap.String("pod", victim.Pod), zap.String("uid", victim.UID), zap.Uint64("member", victim.ID))
	pods := t.kube.CoreV1().Pods(t.cfg.Namespace)
	w, err := t.watchPod(ctx, victim.Pod, v.podRV)
	if err != nil {
		return cluster.Kill{}, err
	}
	defer func() { w.Stop() }()

	uid := v.leadership.Leader.UID
	grace := t.cfg.GracePeriod
	opts := metav1.DeleteOptions{GracePeriodSeconds: &grace, Preconditions: &metav1.Preconditions{UID: typesUID(uid)}}
	k := cluster.Kill{Partition: partition, Victim: victim, Term: v.leadership.Term}
	cctx, cancel := t.call(ctx)
	k.SentAt = time.Now()
	err = pods.Delete(cctx, victim.Pod, opts)
	cancel()
	switch {
	case apierrors.IsNotFound(err):
		return cluster.Kill{}, fmt.Errorf("pod %s vanished before the delete: %w", victim.Pod, cluster.ErrNotLeader)
	case apierrors.IsConflict(err):
		return cluster.Kill{}, fmt.Errorf("pod %s was replaced before the delete (UID precondition %s): %w", victim.Pod, uid, cluster.ErrNotLeader)
	case err != nil:
		return cluster.Kill{}, fmt.Errorf("deleting pod %s: %w", victim.Pod, err)
	}
	log.Info("pod deletion accepted", zap.Int64("grace_period_s", grace), zap.Strings("members_before", memberIDs(v.leadership)))
	done, err := t.awaitPodGone(ctx, w, victim.Pod, uid)
	if err != nil {
		return k, fmt.Errorf("deletion of pod %s accepted, not yet confirmed: %w", victim.Pod, err)
	}
	k.DoneAt = done
	log.Info("leader pod gone", zap.Duration("kill", k.DoneAt.Sub(k.SentAt)))
	return k, nil
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

// Map opens the named map through the Atomix sidecar (go-sdk's default host and port).
func (t *Target) Map(ctx context.Context, name string) (cluster.Map, error) {
	if t.era.kind != KindRaft {
		return nil, errors.New("the data path needs the raft-era sidecar: go-sdk v0.13.3 cannot talk to a consensus-era proxy")
	}
	t.sdkMu.Lock()
	if t.sdk == nil {
		t.sdk = sdkclient.NewClient()
	}
	c := t.sdk
	t.sdkMu.Unlock()
	m, err := sdkclient.Map[string, string](c)(name).Codec(types.Scalar[string]()).Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening map %s through the sidecar at %s:%d: %w", name, c.Host, c.Port, err)
	}
	return m, nil
}

// Close stops the watches and closes the sidecar connection.
func (t *Target) Close() error {
	var err error
	t.closeOnce.Do(func() {
		close(t.stop)
		for _, f := range t.factories {
			f.Shutdown()
		}
		t.sdkMu.Lock()
		defer t.sdkMu.Unlock()
		if t.sdk != nil {
			if cerr := t.sdk.Close(); cerr != nil {
				err = fmt.Errorf("closing the sidecar connection: %w", cerr)
			}
		}
	})
	return err
}
