package kubernetes

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Label keys and values written by the Atomix controllers.
const (
	labelRaftStore       = "raft.atomix.io/store"
	labelRaftCluster     = "raft.atomix.io/cluster"
	labelRaftNamespace   = "raft.atomix.io/namespace"
	labelRaftPartitionID = "raft.atomix.io/partition-id"
	labelConsensusStore  = "store"
	labelConsensusApp    = "app"
	valueConsensusApp    = "atomix"
	// nodeAPIPort is the Raft node's gRPC API port in both eras.
	nodeAPIPort = 5678
)

// Group versions of the two Atomix eras.
var (
	raftGV      = schema.GroupVersion{Group: "raft.atomix.io", Version: "v1beta3"}
	consensusGV = schema.GroupVersion{Group: "consensus.atomix.io", Version: "v1beta1"}
)

// storeInfo is what the target needs from the store object.
type storeInfo struct {
	name       string
	partitions int
	replicas   int
	// cluster names the pods' cluster: the RaftCluster, or the MultiRaftCluster named like the ConsensusStore.
	cluster string
}

// partitionState is one partition object (RaftPartition or RaftGroup).
type partitionState struct {
	id        int
	name      string
	term      uint64
	leader    string
	followers []string
	// replicas is the partition's own replica count (RaftPartition spec.replicas); 0 when the object has none.
	replicas int
}

// memberState is one member object (RaftReplica or RaftMember).
type memberState struct {
	name      string
	partition int
	id        uint64
	pod       string
	voting    bool
	// deleting is set once the object carries a deletion timestamp.
	deleting bool
	// report is what the member's node last told the controller (its status).
	report memberReport
}

// memberReport is a member object's status, written by the Atomix controller
// from the events of the member's node. RaftReplica (stores/raft v0.7.0,
// raft.atomix.io/v1beta3) and RaftMember (consensus.atomix.io/v1beta1) share
// its shape: state (Ready / NotReady), role (Leader / Candidate / Follower),
// leader (an object reference), term, podRef.
type memberReport struct {
	state  string
	role   string
	leader string
	term   uint64
	podUID string
}

// Member states and roles as the Atomix controllers write them.
const (
	memberReady = "Ready"
	roleLeader  = "Leader"
)

// era describes how one Atomix generation models a store.
type era struct {
	kind            string
	gv              schema.GroupVersion
	storeResource   string
	storeKind       string
	partitionKind   string
	memberKind      string
	partitionGVR    schema.GroupVersionResource
	memberGVR       schema.GroupVersionResource
	storeGVR        schema.GroupVersionResource
	parseStore      func(u *unstructured.Unstructured) (storeInfo, error)
	parsePartition  func(s storeInfo, u *unstructured.Unstructured) (partitionState, bool)
	parseMember     func(s storeInfo, u *unstructured.Unstructured) (memberState, bool)
	memberSelector  func(s storeInfo) string
	podClusterLabel string
	podSelector     func(s storeInfo) string
	// podInCluster checks the pod's labels against the store's cluster.
	podInCluster func(s storeInfo, namespace string, labels map[string]string) error
}

func (e *era) partitionName(s storeInfo, id int) string { return fmt.Sprintf("%s-%d", s.name, id) }

func newEra(kind string) *era {
	if kind == KindConsensus {
		return consensusEra()
	}
	return raftEra()
}

func raftEra() *era {
	gv := raftGV
	return &era{
		kind:            KindRaft,
		gv:              gv,
		storeResource:   "raftstores",
		storeKind:       "RaftStore",
		partitionKind:   "RaftPartition",
		memberKind:      "RaftReplica",
		storeGVR:        gv.WithResource("raftstores"),
		partitionGVR:    gv.WithResource("raftpartitions"),
		memberGVR:       gv.WithResource("raftreplicas"),
		podClusterLabel: labelRaftCluster,
		parseStore: func(u *unstructured.Unstructured) (storeInfo, error) {
			s := storeInfo{name: u.GetName()}
			s.partitions = int(intField(u, "spec", "partitions"))
			s.cluster, _, _ = unstructured.NestedString(u.Object, "spec", "cluster", "name")
			if ns, _, _ := unstructured.NestedString(u.Object, "spec", "cluster", "namespace"); ns != "" && ns != u.GetNamespace() {
				return s, fmt.Errorf("RaftStore %s: its RaftCluster is in namespace %s; the store, its cluster and its pods must share one namespace", s.name, ns)
			}
			s.replicas = int(intField(u, "status", "replicationFactor"))
			if s.replicas == 0 {
				s.replicas = int(intField(u, "spec", "replicationFactor"))
			}
			if s.partitions < 1 {
				return s, fmt.Errorf("RaftStore %s: spec.partitions is not set", s.name)
			}
			if s.cluster == "" {
				return s, fmt.Errorf("RaftStore %s: spec.cluster.name is not set", s.name)
			}
			return s, nil
		},
		parsePartition: func(s storeInfo, u *unstructured.Unstructured) (partitionState, bool) {
			if u.GetLabels()[labelRaftStore] != s.name {
				return partitionState{}, false
			}
			p := partitionState{name: u.GetName(), id: int(intField(u, "spec", "partitionID")), replicas: int(intField(u, "spec", "replicas"))}
			if p.id < 1 || p.id > s.partitions || p.name != fmt.Sprintf("%s-%d", s.name, p.id) {
				return partitionState{}, false
			}
			readPartitionStatus(u, &p)
			return p, true
		},
		parseMember: func(s storeInfo, u *unstructured.Unstructured) (memberState, bool) {
			l := u.GetLabels()
			if l[labelRaftStore] != s.name {
				return memberState{}, false
			}
			pid, err := strconv.Atoi(l[labelRaftPartitionID])
			if err != nil || pid < 1 || pid > s.partitions {
				return memberState{}, false
			}
			m := memberState{name: u.GetName(), partition: pid, id: uint64(intField(u, "spec", "memberID"))}
			m.pod, _, _ = unstructured.NestedString(u.Object, "spec", "pod", "name")
			t, _, _ := unstructured.NestedString(u.Object, "spec", "type")
			m.voting = t == "" || t == "Voter"
			readMemberStatus(u, &m)
			return m, m.id != 0
		},
		memberSelector: func(s storeInfo) string { return labelRaftStore + "=" + s.name },
		podSelector:    func(s storeInfo) string { return labelRaftCluster + "=" + s.cluster },
		podInCluster: func(s storeInfo, namespace string, l map[string]string) error {
			if v, ok := l[labelRaftCluster]; !ok || v != s.cluster {
				return fmt.Errorf("label %s=%q, want %q", labelRaftCluster, v, s.cluster)
			}
			if v, ok := l[labelRaftNamespace]; ok && v != namespace {
				return fmt.Errorf("label %s=%q, want %q", labelRaftNamespace, v, namespace)
			}
			return nil
		},
	}
}

func consensusEra() *era {
	gv := consensusGV
	return &era{
		kind:            KindConsensus,
		gv:              gv,
		storeResource:   "consensusstores",
		storeKind:       "ConsensusStore",
		partitionKind:   "RaftGroup",
		memberKind:      "RaftMember",
		storeGVR:        gv.WithResource("consensusstores"),
		partitionGVR:    gv.WithResource("raftgroups"),
		memberGVR:       gv.WithResource("raftmembers"),
		podClusterLabel: labelConsensusStore,
		parseStore: func(u *unstructured.Unstructured) (storeInfo, error) {
			s := storeInfo{name: u.GetName(), cluster: u.GetName()}
			s.partitions = int(intField(u, "spec", "groups"))
			if s.partitions < 1 {
				s.partitions = 1
			}
			s.replicas = int(intField(u, "spec", "config", "raft", "quorumSize"))
			if s.replicas == 0 {
				s.replicas = int(intField(u, "spec", "replicas"))
			}
			if s.replicas == 0 {
				s.replicas = 1
			}
			return s, nil
		},
		parsePartition: func(s storeInfo, u *unstructured.Unstructured) (partitionState, bool) {
			ids, ok := numericSuffix(u.GetName(), s.name, 1)
			if !ok || ids[0] < 1 || ids[0] > uint64(s.partitions) || !ownedBy(u, "MultiRaftCluster", s.cluster) {
				return partitionState{}, false
			}
			p := partitionState{name: u.GetName(), id: int(ids[0])}
			readPartitionStatus(u, &p)
			return p, true
		},
		parseMember: func(s storeInfo, u *unstructured.Unstructured) (memberState, bool) {
			ids, ok := numericSuffix(u.GetName(), s.name, 2)
			if !ok || ids[0] < 1 || ids[0] > uint64(s.partitions) || ids[1] < 1 ||
				!ownedBy(u, "RaftGroup", fmt.Sprintf("%s-%d", s.name, ids[0])) {
				return memberState{}, false
			}
			m := memberState{name: u.GetName(), partition: int(ids[0]), id: ids[1]}
			m.pod, _, _ = unstructured.NestedString(u.Object, "spec", "pod", "name")
			t, _, _ := unstructured.NestedString(u.Object, "spec", "type")
			m.voting = t == "" || t == "Member"
			readMemberStatus(u, &m)
			return m, true
		},
		memberSelector: func(storeInfo) string { return "" },
		podSelector: func(s storeInfo) string {
			return labelConsensusApp + "=" + valueConsensusApp + "," + labelConsensusStore + "=" + s.cluster
		},
		podInCluster: func(s storeInfo, _ string, l map[string]string) error {
			if v, ok := l[labelConsensusStore]; !ok || v != s.cluster {
				return fmt.Errorf("label %s=%q, want %q", labelConsensusStore, v, s.cluster)
			}
			if v := l[labelConsensusApp]; v != valueConsensusApp {
				return fmt.Errorf("label %s=%q, want %q", labelConsensusApp, v, valueConsensusApp)
			}
			return nil
		},
	}
}

func readPartitionStatus(u *unstructured.Unstructured, p *partitionState) {
	p.term = uint64(intField(u, "status", "term"))
	p.leader, _, _ = unstructured.NestedString(u.Object, "status", "leader", "name")
	fs, _, _ := unstructured.NestedSlice(u.Object, "status", "followers")
	for _, f := range fs {
		if m, ok := f.(map[string]any); ok {
			if n, ok := m["name"].(string); ok && n != "" {
				p.followers = append(p.followers, n)
			}
		}
	}
}

func readMemberStatus(u *unstructured.Unstructured, m *memberState) {
	m.deleting = u.GetDeletionTimestamp() != nil
	m.report.state, _, _ = unstructured.NestedString(u.Object, "status", "state")
	m.report.role, _, _ = unstructured.NestedString(u.Object, "status", "role")
	m.report.leader, _, _ = unstructured.NestedString(u.Object, "status", "leader", "name")
	m.report.term = uint64(intField(u, "status", "term"))
	m.report.podUID, _, _ = unstructured.NestedString(u.Object, "status", "podRef", "uid")
}

// intField reads an integer field that JSON decoding may have made int64 or float64.
func intField(u *unstructured.Unstructured, path ...string) int64 {
	v, ok, err := unstructured.NestedFieldNoCopy(u.Object, path...)
	if !ok || err != nil {
		return 0
	}
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}

// numericSuffix parses name = prefix-N1[-N2…] with exactly n numeric parts.
func numericSuffix(name, prefix string, n int) ([]uint64, bool) {
	rest, ok := strings.CutPrefix(name, prefix+"-")
	if !ok {
		return nil, false
	}
	parts := strings.Split(rest, "-")
	if len(parts) != n {
		return nil, false
	}
	out := make([]uint64, n)
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

func ownedBy(u *unstructured.Unstructured, kind, name string) bool {
	for _, o := range u.GetOwnerReferences() {
		if o.Kind == kind && o.Name == name {
			return true
		}
	}
	return false
}
