package fakecluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
	"github.com/gogo/protobuf/jsonpb"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// RaftDriver is the driver the raft controller names in its DataStores.
const RaftDriver = "atomix.io/raft"

// apiPort is the raft node's API port, which DataStore addresses name.
const apiPort = 5678

// PodAddress is a raft pod's API address as the raft controller writes it
// into a DataStore: the pod's name under its cluster's headless service.
func (f *Fake) PodAddress(cluster, pod string) string {
	return fmt.Sprintf("%s.%s-hs.%s.svc.cluster.local:%d", pod, cluster, f.Namespace, apiPort)
}

// PublishDataStore creates or updates the store's DataStore as the raft
// controller (stores/raft v0.7.0, reconcileDataStore) does: one partition
// config per RaftPartition, in partition order (store-1, store-2, …), whose
// PartitionID is the partition's Raft group ID, with its leader's and its
// other replicas' pod addresses; it returns the config published.
func (f *Fake) PublishDataStore(store string) rsmapiv1.ProtocolConfig {
	ctx := context.Background()
	sel := metav1.ListOptions{LabelSelector: "raft.atomix.io/store=" + store}
	parts, err := f.Dynamic.Resource(RaftPartitions).Namespace(f.Namespace).List(ctx, sel)
	if err != nil {
		panic(fmt.Sprintf("listing RaftPartitions: %v", err))
	}
	reps, err := f.Dynamic.Resource(RaftReplicas).Namespace(f.Namespace).List(ctx, sel)
	if err != nil {
		panic(fmt.Sprintf("listing RaftReplicas: %v", err))
	}
	slices.SortFunc(parts.Items, func(a, b unstructured.Unstructured) int {
		return partitionOrdinal(&a) - partitionOrdinal(&b)
	})
	var config rsmapiv1.ProtocolConfig
	for _, p := range parts.Items {
		config.Partitions = append(config.Partitions, f.partitionConfig(&p, reps.Items))
	}
	f.SetDataStore(store, RaftDriver, EncodeConfig(config))
	return config
}

func partitionOrdinal(p *unstructured.Unstructured) int {
	id, _ := strconv.Atoi(p.GetLabels()["raft.atomix.io/partition-id"])
	return id
}

// partitionConfig is one RaftPartition's group ID, leader and followers.
func (f *Fake) partitionConfig(p *unstructured.Unstructured, replicas []unstructured.Unstructured) rsmapiv1.PartitionConfig {
	id := partitionOrdinal(p)
	group, _, _ := unstructured.NestedInt64(p.Object, "spec", "groupID")
	cluster := p.GetLabels()["raft.atomix.io/cluster"]
	leader, _, _ := unstructured.NestedString(p.Object, "status", "leader", "name")
	pc := rsmapiv1.PartitionConfig{PartitionID: rsmapiv1.PartitionID(group)}
	for _, r := range replicas {
		if r.GetLabels()["raft.atomix.io/partition-id"] != strconv.Itoa(id) {
			continue
		}
		pod, _, _ := unstructured.NestedString(r.Object, "spec", "pod", "name")
		if r.GetName() == leader {
			pc.Leader = f.PodAddress(cluster, pod)
		} else {
			pc.Followers = append(pc.Followers, f.PodAddress(cluster, pod))
		}
	}
	slices.Sort(pc.Followers)
	return pc
}

// EncodeConfig returns config as a DataStore's spec.config holds it: the
// controller's jsonpb encoding, as a JSON object.
func EncodeConfig(config rsmapiv1.ProtocolConfig) map[string]any {
	raw, err := (&jsonpb.Marshaler{}).MarshalToString(&config)
	if err != nil {
		panic(fmt.Sprintf("encoding protocol config: %v", err))
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		panic(fmt.Sprintf("decoding protocol config: %v", err))
	}
	return v
}

// SetDataStore creates or replaces DataStore name with the given driver
// name and spec.config (nil: none).
func (f *Fake) SetDataStore(name, driver string, config any) {
	spec := map[string]any{"driver": map[string]any{"name": driver, "apiVersion": "v1"}}
	if config != nil {
		spec["config"] = config
	}
	// Read through the tracker: a fixture's read is no call of the code under test.
	obj, err := f.Dynamic.Tracker().Get(DataStores, f.Namespace, name)
	if apierrors.IsNotFound(err) {
		f.create(DataStores, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": DataStores.GroupVersion().String(), "kind": "DataStore",
			"metadata": map[string]any{"name": name}, "spec": spec,
		}})
		return
	}
	if err != nil {
		panic(fmt.Sprintf("reading DataStore %s: %v", name, err))
	}
	u := obj.(*unstructured.Unstructured).DeepCopy()
	u.Object["spec"] = spec
	if _, err := f.Dynamic.Resource(DataStores).Namespace(f.Namespace).Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		panic(fmt.Sprintf("updating DataStore %s: %v", name, err))
	}
}
