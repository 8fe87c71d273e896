package kubernetes

import (
	"encoding/json"
	"errors"
	"fmt"

	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/atomix-failover/atomix-failover/internal/cluster/datapath"
)

// dataStoreGVR is the DataStore the raft controller (stores/raft v0.7.0,
// reconcileDataStore) publishes for each RaftStore, under the store's name
// and namespace: spec.driver names the rsm driver and spec.config is the
// rsm ProtocolConfig (every partition's leader and follower addresses),
// rewritten on every leader change. The Atomix sidecar is configured from
// it; so is the embedded data path.
var dataStoreGVR = schema.GroupVersionResource{Group: "atomix.io", Version: "v3beta4", Resource: "datastores"}

// raftDriver is the driver the raft controller names in its DataStores.
const raftDriver = "atomix.io/raft"

// errNoDataStoreConfig is returned for a DataStore without spec.config.
var errNoDataStoreConfig = errors.New("spec.config is not set")

// decodeDataStore returns the protocol config of a DataStore of a store
// with the given number of partitions.
func decodeDataStore(u *unstructured.Unstructured, partitions int) (rsmapiv1.ProtocolConfig, error) {
	if d, _, _ := unstructured.NestedString(u.Object, "spec", "driver", "name"); d != "" && d != raftDriver {
		return rsmapiv1.ProtocolConfig{}, fmt.Errorf("spec.driver.name is %q: the embedded data path speaks %s only", d, raftDriver)
	}
	v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "config")
	if !ok || v == nil {
		return rsmapiv1.ProtocolConfig{}, errNoDataStoreConfig
	}
	raw, err := json.Marshal(v)
	if s, isString := v.(string); isString {
		raw, err = []byte(s), nil
	}
	if err != nil {
		return rsmapiv1.ProtocolConfig{}, fmt.Errorf("encoding spec.config: %w", err)
	}
	config, err := datapath.DecodeConfig(raw)
	if err != nil {
		return rsmapiv1.ProtocolConfig{}, fmt.Errorf("spec.config: %w", err)
	}
	if err := checkPartitions(config, partitions); err != nil {
		return rsmapiv1.ProtocolConfig{}, fmt.Errorf("spec.config: %w", err)
	}
	return config, nil
}

// checkPartitions insists on n partitions with distinct IDs. The IDs are
// the partitions' Raft group IDs, which need not be 1..n (the raft
// controller allocates them from its cluster's counter and can skip some);
// the config lists the partitions in order, and the rsm client routes a key
// to the i-th entry, partition i+1 of the store.
func checkPartitions(config rsmapiv1.ProtocolConfig, n int) error {
	ids := partitionIDs(config)
	seen := map[int]bool{}
	for _, id := range ids {
		if id < 1 || seen[id] {
			return fmt.Errorf("partition IDs %v: each must be a distinct Raft group ID", ids)
		}
		seen[id] = true
	}
	if len(ids) != n {
		return fmt.Errorf("%d partitions (IDs %v), want %d (the store's partitions)", len(ids), ids, n)
	}
	return nil
}

func partitionIDs(config rsmapiv1.ProtocolConfig) []int {
	ids := make([]int, 0, len(config.Partitions))
	for _, p := range config.Partitions {
		ids = append(ids, int(p.PartitionID))
	}
	return ids
}

// addressed insists on an address for every partition, which a client
// needs to connect; an update may lack one (the client keeps the
// partition's previous addresses).
func addressed(config rsmapiv1.ProtocolConfig) error {
	for _, p := range config.Partitions {
		if p.Leader == "" && len(p.Followers) == 0 {
			return fmt.Errorf("spec.config: partition ID %d has no leader and no followers yet", p.PartitionID)
		}
	}
	return nil
}
