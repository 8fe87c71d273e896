// Package fakecluster builds Atomix stores of both eras (custom resources and
// pods, labelled as the Atomix controllers label them) on client-go's fake
// clients, for tests of the Kubernetes target.
package fakecluster

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// Group versions and resources of the two Atomix eras.
var (
	RaftGV      = schema.GroupVersion{Group: "raft.atomix.io", Version: "v1beta3"}
	ConsensusGV = schema.GroupVersion{Group: "consensus.atomix.io", Version: "v1beta1"}

	RaftStores      = RaftGV.WithResource("raftstores")
	RaftPartitions  = RaftGV.WithResource("raftpartitions")
	RaftReplicas    = RaftGV.WithResource("raftreplicas")
	ConsensusStores = ConsensusGV.WithResource("consensusstores")
	RaftGroups      = ConsensusGV.WithResource("raftgroups")
	RaftMembers     = ConsensusGV.WithResource("raftmembers")

	// DataStores are the atomix.io/v3beta4 DataStores the raft controller
	// publishes for the Atomix sidecar (datastore.go).
	DataStores = schema.GroupVersionResource{Group: "atomix.io", Version: "v3beta4", Resource: "datastores"}
)

var listKinds = map[schema.GroupVersionResource]string{
	RaftStores:      "RaftStoreList",
	RaftPartitions:  "RaftPartitionList",
	RaftReplicas:    "RaftReplicaList",
	ConsensusStores: "ConsensusStoreList",
	RaftGroups:      "RaftGroupList",
	RaftMembers:     "RaftMemberList",
	DataStores:      "DataStoreList",
}

// Fake is a fake API server holding Atomix stores.
type Fake struct {
	Kube      *kubefake.Clientset
	Dynamic   *dynfake.FakeDynamicClient
	Namespace string
	// ReplacementsPending makes the pods that EnforceDeletePreconditions(true)
	// recreates start Pending and not ready, as a StatefulSet's replacement
	// does; SetPodReady then makes one ready. By default replacements are
	// created ready.
	ReplacementsPending bool
	// ElectAfter, when > 0, makes every pod delete that
	// EnforceDeletePreconditions accepts fail over the partitions whose
	// leader ran in the pod, as their surviving members do (failOver).
	ElectAfter time.Duration
	uids       int
	// groups is the last Raft group ID allocated on each RaftCluster.
	groups map[string]int
	// groupOf is the group ID of each store's partition ("store/partition").
	groupOf map[string]int
}

// NodeContainer is the name of the one container of every fake pod.
const NodeContainer = "raft"

// New returns an empty namespace whose API discovery serves the given eras ("raft", "consensus").
func New(namespace string, eras ...string) *Fake {
	f := &Fake{
		Kube:      kubefake.NewClientset(),
		Dynamic:   dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds),
		Namespace: namespace,
		groups:    map[string]int{},
		groupOf:   map[string]int{},
	}
	d := f.Kube.Discovery().(*fakediscovery.FakeDiscovery)
	for _, e := range eras {
		switch e {
		case "raft":
			d.Resources = append(d.Resources, resourceList(RaftGV, "raftclusters", "raftstores", "raftpartitions", "raftreplicas"))
		case "consensus":
			d.Resources = append(d.Resources, resourceList(ConsensusGV, "consensusstores", "multiraftclusters", "raftgroups", "raftmembers"))
		}
	}
	return f
}

func resourceList(gv schema.GroupVersion, names ...string) *metav1.APIResourceList {
	l := &metav1.APIResourceList{GroupVersion: gv.String()}
	for _, n := range names {
		l.APIResources = append(l.APIResources, metav1.APIResource{Name: n, Namespaced: true, Verbs: metav1.Verbs{"get", "list", "watch"}})
	}
	return l
}

func (f *Fake) uid(prefix string) types.UID {
	f.uids++
	return types.UID(fmt.Sprintf("%s-uid-%d", prefix, f.uids))
}

func (f *Fake) create(gvr schema.GroupVersionResource, u *unstructured.Unstructured) {
	u.SetNamespace(f.Namespace)
	if u.GetUID() == "" {
		u.SetUID(f.uid(u.GetName()))
	}
	if _, err := f.Dynamic.Resource(gvr).Namespace(f.Namespace).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
		panic(fmt.Sprintf("creating %s %s: %v", gvr.Resource, u.GetName(), err))
	}
}

// AddPod creates a running, ready pod with the given labels and returns its UID.
func (f *Fake) AddPod(name string, labels map[string]string) types.UID {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.Namespace, UID: f.uid(name), Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: NodeContainer}}},
		Status:     corev1.PodStatus{PodIP: fmt.Sprintf("10.0.0.%d", f.uids)},
	}
	setReady(p, true)
	if _, err := f.Kube.CoreV1().Pods(f.Namespace).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
		panic(fmt.Sprintf("creating pod %s: %v", name, err))
	}
	return p.UID
}

// setReady makes the pod Running and ready, or Pending and not ready.
func setReady(p *corev1.Pod, ready bool) {
	phase, cond := corev1.PodPending, corev1.ConditionFalse
	if ready {
		phase, cond = corev1.PodRunning, corev1.ConditionTrue
	}
	p.Status.Phase = phase
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: cond}}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: NodeContainer, Ready: ready}}
}

// SetPodReady makes the pod Running and ready, or Pending and not ready.
func (f *Fake) SetPodReady(name string, ready bool) {
	f.UpdatePod(name, func(p *corev1.Pod) { setReady(p, ready) })
}

// UpdatePod applies fn to the pod and stores the result.
func (f *Fake) UpdatePod(name string, fn func(*corev1.Pod)) {
	p := f.Pod(name)
	if p == nil {
		panic(fmt.Sprintf("pod %s not found", name))
	}
	fn(p)
	if _, err := f.Kube.CoreV1().Pods(f.Namespace).Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		panic(fmt.Sprintf("updating pod %s: %v", name, err))
	}
}

// Pod returns the pod or nil.
func (f *Fake) Pod(name string) *corev1.Pod {
	p, err := f.Kube.CoreV1().Pods(f.Namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return p
}

// RaftPodLabels are the labels the raft-era controller puts on a RaftCluster's pods.
func (f *Fake) RaftPodLabels(cluster string) map[string]string {
	return map[string]string{"raft.atomix.io/cluster": cluster, "raft.atomix.io/namespace": f.Namespace}
}

// ConsensusPodLabels are the labels the consensus-era controller puts on a store's pods.
func ConsensusPodLabels(store string) map[string]string {
	return map[string]string{"app": "atomix", "store": store}
}

// RaftPodName is the pod of replica rid of partition (group) pid, as the raft-era controller places it.
func RaftPodName(cluster string, clusterReplicas, partitionReplicas, pid, rid int) string {
	return fmt.Sprintf("%s-%d", cluster, (partitionReplicas*pid+(rid-1))%clusterReplicas)
}

// SkipGroupIDs makes the next n Raft group IDs of cluster unused, as the raft
// controller (stores/raft v0.7.0) leaves them when it allocates a group
// (RaftCluster status.groups++) and then retries: a store's group IDs need
// not be its partition IDs (seen: partitions 1..3 on groups 1, 3, 4).
func (f *Fake) SkipGroupIDs(cluster string, n int) { f.groups[cluster] += n }

// GroupID is the Raft group ID of a store's partition.
func (f *Fake) GroupID(store string, partition int) int {
	if g, ok := f.groupOf[fmt.Sprintf("%s/%d", store, partition)]; ok {
		return g
	}
	return partition
}

// AddRaftStore creates a RaftStore on RaftCluster cluster with its pods,
// partitions (term 1, leader replica ((p-1) mod replicas)+1, group IDs
// allocated from the cluster's counter, as the controller does) and replicas
// (member ID = replica ID).
func (f *Fake) AddRaftStore(store, cluster string, partitions, replicas int) {
	for i := range replicas {
		f.AddPod(fmt.Sprintf("%s-%d", cluster, i), f.RaftPodLabels(cluster))
	}
	f.create(RaftStores, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": RaftGV.String(), "kind": "RaftStore",
		"metadata": map[string]any{"name": store},
		"spec":     map[string]any{"cluster": map[string]any{"name": cluster}, "partitions": int64(partitions), "replicationFactor": int64(replicas)},
		"status":   map[string]any{"replicationFactor": int64(replicas), "state": "Ready"},
	}})
	for p := 1; p <= partitions; p++ {
		f.groups[cluster]++
		g := f.groups[cluster]
		f.groupOf[fmt.Sprintf("%s/%d", store, p)] = g
		labels := map[string]any{
			"atomix.io/store": store, "raft.atomix.io/store": store, "raft.atomix.io/cluster": cluster,
			"raft.atomix.io/namespace": f.Namespace, "raft.atomix.io/partition-id": strconv.Itoa(p), "raft.atomix.io/group-id": strconv.Itoa(g),
		}
		leader := fmt.Sprintf("%s-%d-%d", store, p, (p-1)%replicas+1)
		f.create(RaftPartitions, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": RaftGV.String(), "kind": "RaftPartition",
			"metadata": map[string]any{"name": fmt.Sprintf("%s-%d", store, p), "labels": labels},
			"spec":     map[string]any{"partitionID": int64(p), "groupID": int64(g), "replicas": int64(replicas)},
			"status":   map[string]any{"state": "Ready", "term": int64(1), "leader": map[string]any{"name": leader}},
		}})
		for r := 1; r <= replicas; r++ {
			f.AddRaftReplica(store, cluster, p, r, uint64(r), RaftPodName(cluster, replicas, replicas, p, r))
		}
	}
}

// AddRaftReplica creates RaftReplica store-pid-rid with the given member ID and pod.
func (f *Fake) AddRaftReplica(store, cluster string, pid, rid int, member uint64, pod string) {
	g := f.GroupID(store, pid)
	labels := map[string]any{
		"atomix.io/store": store, "raft.atomix.io/store": store, "raft.atomix.io/cluster": cluster,
		"raft.atomix.io/namespace": f.Namespace, "raft.atomix.io/partition-id": strconv.Itoa(pid), "raft.atomix.io/group-id": strconv.Itoa(g),
		"raft.atomix.io/pod": pod, "raft.atomix.io/replica-id": strconv.Itoa(rid), "raft.atomix.io/member-id": strconv.FormatUint(member, 10),
	}
	f.create(RaftReplicas, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": RaftGV.String(), "kind": "RaftReplica",
		"metadata": map[string]any{"name": fmt.Sprintf("%s-%d-%d", store, pid, rid), "labels": labels},
		"spec": map[string]any{"groupID": int64(g), "replicaID": int64(rid), "memberID": int64(member),
			"pod": map[string]any{"name": pod}, "type": "Voter", "peers": int64(3)},
	}})
}

// AddConsensusStore creates a ConsensusStore with its pods, RaftGroups (term 1,
// leader member ((g-1) mod replicas)+1) and RaftMembers.
func (f *Fake) AddConsensusStore(store string, groups, replicas int) {
	for i := range replicas {
		f.AddPod(fmt.Sprintf("%s-%d", store, i), ConsensusPodLabels(store))
	}
	f.create(ConsensusStores, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": ConsensusGV.String(), "kind": "ConsensusStore",
		"metadata": map[string]any{"name": store},
		"spec":     map[string]any{"replicas": int64(replicas), "groups": int64(groups)},
		"status":   map[string]any{"state": "Ready"},
	}})
	for g := 1; g <= groups; g++ {
		group := fmt.Sprintf("%s-%d", store, g)
		f.create(RaftGroups, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": ConsensusGV.String(), "kind": "RaftGroup",
			"metadata": map[string]any{"name": group, "ownerReferences": []any{owner(ConsensusGV, "MultiRaftCluster", store, true)}},
			"spec":     map[string]any{},
			"status":   map[string]any{"state": "Ready", "term": int64(1), "leader": map[string]any{"name": fmt.Sprintf("%s-%d", group, (g-1)%replicas+1)}},
		}})
		for m := 1; m <= replicas; m++ {
			f.create(RaftMembers, &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": ConsensusGV.String(), "kind": "RaftMember",
				"metadata": map[string]any{"name": fmt.Sprintf("%s-%d", group, m), "ownerReferences": []any{
					owner(ConsensusGV, "MultiRaftCluster", store, true), owner(ConsensusGV, "RaftGroup", group, false)}},
				"spec": map[string]any{"pod": map[string]any{"name": fmt.Sprintf("%s-%d", store, (replicas*g+(m-1))%replicas)}, "type": "Member"},
			}})
		}
	}
}

func owner(gv schema.GroupVersion, kind, name string, controller bool) map[string]any {
	return map[string]any{"apiVersion": gv.String(), "kind": kind, "name": name, "uid": name + "-uid", "controller": controller}
}

// SetPartitionStatus sets a RaftPartition's or RaftGroup's term and leader ("" = election running).
func (f *Fake) SetPartitionStatus(gvr schema.GroupVersionResource, name string, term uint64, leader string) {
	res := f.Dynamic.Resource(gvr).Namespace(f.Namespace)
	u, err := res.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		panic(fmt.Sprintf("reading %s %s: %v", gvr.Resource, name, err))
	}
	st := map[string]any{"state": "Ready", "term": int64(term)}
	if leader != "" {
		st["leader"] = map[string]any{"name": leader}
	}
	u.Object["status"] = st
	if _, err := res.Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		panic(fmt.Sprintf("updating %s %s: %v", gvr.Resource, name, err))
	}
}

// MemberStatus is the status the Atomix controllers write on a RaftReplica or
// RaftMember from its node's events ("" and 0 fields are left out).
type MemberStatus struct {
	State  string // Ready or NotReady
	Role   string // Leader, Candidate or Follower
	Leader string // the leader member object's name
	Term   uint64
	PodUID string // status.podRef.uid
}

// SetMemberStatus replaces a RaftReplica's or RaftMember's status.
func (f *Fake) SetMemberStatus(gvr schema.GroupVersionResource, name string, st MemberStatus) {
	f.Mutate(gvr, name, func(u *unstructured.Unstructured) {
		m := map[string]any{}
		if st.State != "" {
			m["state"] = st.State
		}
		if st.Role != "" {
			m["role"] = st.Role
		}
		if st.Leader != "" {
			m["leader"] = map[string]any{"name": st.Leader}
		}
		if st.Term != 0 {
			m["term"] = int64(st.Term)
		}
		if st.PodUID != "" {
			m["podRef"] = map[string]any{"uid": st.PodUID}
		}
		u.Object["status"] = m
	})
}

// Mutate applies fn to a custom resource and stores the result.
func (f *Fake) Mutate(gvr schema.GroupVersionResource, name string, fn func(*unstructured.Unstructured)) {
	res := f.Dynamic.Resource(gvr).Namespace(f.Namespace)
	u, err := res.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		panic(fmt.Sprintf("reading %s %s: %v", gvr.Resource, name, err))
	}
	fn(u)
	if _, err := res.Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		panic(fmt.Sprintf("updating %s %s: %v", gvr.Resource, name, err))
	}
}

// Delete removes a custom resource.
func (f *Fake) Delete(gvr schema.GroupVersionResource, name string) {
	if err := f.Dynamic.Resource(gvr).Namespace(f.Namespace).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		panic(fmt.Sprintf("deleting %s %s: %v", gvr.Resource, name, err))
	}
}

// EnforceDeletePreconditions makes pod deletes honour the UID precondition, as the API server does.
// With recreate, an accepted delete is followed by a new pod of the same name (a StatefulSet's replacement);
// with ElectAfter, by the failover of the partitions the pod led.
func (f *Fake) EnforceDeletePreconditions(recreate bool) {
	f.Kube.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		d := a.(k8stesting.DeleteActionImpl)
		obj, err := f.Kube.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), d.Namespace, d.Name)
		if err != nil {
			return true, nil, err
		}
		pod := obj.(*corev1.Pod)
		if pc := d.DeleteOptions.Preconditions; pc != nil && pc.UID != nil && *pc.UID != pod.UID {
			return true, nil, apierrors.NewConflict(corev1.Resource("pods"), d.Name,
				fmt.Errorf("precondition failed: UID in precondition: %s, UID in object meta: %s", *pc.UID, pod.UID))
		}
		if err := f.Kube.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("pods"), d.Namespace, d.Name); err != nil {
			return true, nil, err
		}
		if recreate {
			n := pod.DeepCopy()
			n.UID = f.uid(pod.Name)
			n.ResourceVersion = ""
			if f.ReplacementsPending {
				setReady(n, false)
			}
			if err := f.Kube.Tracker().Create(corev1.SchemeGroupVersion.WithResource("pods"), n, d.Namespace); err != nil {
				return true, nil, err
			}
		}
		if f.ElectAfter > 0 {
			f.failOver(d.Name)
		}
		return true, nil, nil
	})
}

// failOver does to the store's custom resources what the Atomix controllers
// write when the pod's Raft node dies: every RaftPartition or RaftGroup that
// a member in the pod led has, at once, no leader in the next term, and
// ElectAfter later the first of its other members (by name) on another pod
// leads in that term, as the surviving members elect it.
func (f *Fake) failOver(pod string) {
	for _, era := range []struct{ partitions, members schema.GroupVersionResource }{
		{RaftPartitions, RaftReplicas}, {RaftGroups, RaftMembers},
	} {
		parts := f.list(era.partitions)
		members := f.list(era.members)
		slices.SortFunc(members, func(a, b unstructured.Unstructured) int { return strings.Compare(a.GetName(), b.GetName()) })
		for i := range parts {
			p := &parts[i]
			leader, _, _ := unstructured.NestedString(p.Object, "status", "leader", "name")
			term, _, _ := unstructured.NestedInt64(p.Object, "status", "term")
			led, next := false, ""
			for j := range members {
				m := &members[j]
				if !memberOf(m, p) {
					continue
				}
				on, _, _ := unstructured.NestedString(m.Object, "spec", "pod", "name")
				switch {
				case on == pod:
					led = led || m.GetName() == leader
				case next == "" && m.GetDeletionTimestamp() == nil:
					next = m.GetName()
				}
			}
			if !led {
				continue
			}
			gvr, name, t := era.partitions, p.GetName(), uint64(term)+1
			f.SetPartitionStatus(gvr, name, t, "")
			if next != "" {
				time.AfterFunc(f.ElectAfter, func() { f.SetPartitionStatus(gvr, name, t, next) })
			}
		}
	}
}

// list returns every object of the resource in the namespace.
func (f *Fake) list(gvr schema.GroupVersionResource) []unstructured.Unstructured {
	l, err := f.Dynamic.Resource(gvr).Namespace(f.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		panic(fmt.Sprintf("listing %s: %v", gvr.Resource, err))
	}
	return l.Items
}

// memberOf reports whether m is a member of partition p: a RaftReplica
// labelled with p's store and partition ID, or a RaftMember owned by RaftGroup p.
func memberOf(m, p *unstructured.Unstructured) bool {
	if id, ok := p.GetLabels()["raft.atomix.io/partition-id"]; ok {
		l := m.GetLabels()
		return l["raft.atomix.io/partition-id"] == id && l["raft.atomix.io/store"] == p.GetLabels()["raft.atomix.io/store"]
	}
	for _, o := range m.GetOwnerReferences() {
		if o.Kind == "RaftGroup" && o.Name == p.GetName() {
			return true
		}
	}
	return false
}
