package embeddedtest

import (
	"context"
	"testing"
	"time"

	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes/fakecluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
)

const ns = "failover"

// publish writes the DataStore the raft controller would: here the
// partition's leader alone, so that only a config naming the current
// leader can carry a write.
func publish(f *fakecluster.Fake, leader string) {
	f.SetDataStore("s", fakecluster.RaftDriver, fakecluster.EncodeConfig(rsmapiv1.ProtocolConfig{
		Partitions: []rsmapiv1.PartitionConfig{{PartitionID: 1, Leader: leader}}}))
}

func startStore(ctx context.Context, t *testing.T, log *zap.Logger) *local.Store {
	t.Helper()
	cfg := local.DefaultConfig()
	cfg.Partitions = 1
	s, err := local.Start(ctx, cfg, log.Named("local"))
	if err != nil {
		t.Fatalf("starting the store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing the store: %v", err)
		}
	})
	return s
}

func openTarget(ctx context.Context, t *testing.T, f *fakecluster.Fake, log *zap.Logger) *kubernetes.Target {
	t.Helper()
	cfg := kubernetes.DefaultConfig()
	cfg.Namespace, cfg.Store, cfg.DataPath = ns, "s", kubernetes.DataPathEmbedded
	tgt, err := kubernetes.New(ctx, kubernetes.Clients{Kube: f.Kube, Dynamic: f.Dynamic}, cfg, log.Named("kubernetes"))
	if err != nil {
		t.Fatalf("opening the target: %v", err)
	}
	t.Cleanup(func() {
		if err := tgt.Close(); err != nil {
			t.Errorf("closing the target: %v", err)
		}
	})
	return tgt
}

func put(ctx context.Context, t *testing.T, m cluster.Map, key, value string) {
	t.Helper()
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := m.Put(pctx, key, value); err != nil {
		t.Fatalf("Put %s=%s: %v", key, value, err)
	}
}

func get(ctx context.Context, t *testing.T, m cluster.Map, key, want string) {
	t.Helper()
	gctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	e, err := m.Get(gctx, key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	if e.Value != want {
		t.Fatalf("Get %s = %q, want %q", key, e.Value, want)
	}
}

// TestEmbeddedFollowsDataStore writes through the embedded data path to a
// real store, kills the leader, brings it back as a follower (where a
// stale config would leave writes retrying forever), publishes the new
// leader in the DataStore and writes again through both clients.
func TestEmbeddedFollowsDataStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real store (-short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	store := startStore(ctx, t, log)
	first, err := store.Leader(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := fakecluster.New(ns, "raft")
	f.AddRaftStore("s", "c", 1, 3)
	publish(f, first.Leader.Address)
	tgt := openTarget(ctx, t, f, log)

	m, err := tgt.Map(ctx, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	put(ctx, t, m, "k", "v1")
	own, err := tgt.ClusterTarget().(cluster.Sessions).OpenClient(ctx, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = own.Close(context.WithoutCancel(ctx)) }()
	get(ctx, t, own, "k", "v1")

	k, err := store.KillLeader(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	next, err := store.WaitForLeader(ctx, 1, k.Term)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Restored(ctx, k); err != nil {
		t.Fatal(err)
	}
	if next.Leader.Address == first.Leader.Address {
		t.Fatalf("leader still %s after the kill", next.Leader.Address)
	}
	publish(f, next.Leader.Address)
	put(ctx, t, m, "k", "v2")
	put(ctx, t, own, "k", "v3")
	get(ctx, t, m, "k", "v3")
}
