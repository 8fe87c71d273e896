package kubernetes_test

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
	_map "github.com/atomix/go-sdk/pkg/primitive/map"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes/fakecluster"
)

// fakeClients stands in for the embedded data path's Atomix runtimes: every
// client started and every config applied to one is recorded.
type fakeClients struct {
	mu      sync.Mutex
	started []*fakeClient
	// applied receives every config a client applied, started or reconfigured.
	applied chan appliedConfig
}

type appliedConfig struct {
	client int
	config rsmapiv1.ProtocolConfig
}

func newFakeClients() *fakeClients { return &fakeClients{applied: make(chan appliedConfig, 64)} }

func (fc *fakeClients) start(_ context.Context, config rsmapiv1.ProtocolConfig) (kubernetes.DataClient, error) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	c := &fakeClient{id: len(fc.started) + 1, fc: fc, last: config}
	fc.started = append(fc.started, c)
	fc.applied <- appliedConfig{c.id, config}
	return c, nil
}

func (fc *fakeClients) clients() []*fakeClient {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return append([]*fakeClient(nil), fc.started...)
}

// next waits for the next applied config.
func (fc *fakeClients) next(t *testing.T) appliedConfig {
	t.Helper()
	select {
	case a := <-fc.applied:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no config applied within 10s")
		return appliedConfig{}
	}
}

type fakeClient struct {
	id     int
	fc     *fakeClients
	mu     sync.Mutex
	last   rsmapiv1.ProtocolConfig
	closed int
}

func (c *fakeClient) Configure(_ context.Context, config rsmapiv1.ProtocolConfig) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if reflect.DeepEqual(config, c.last) {
		return false, nil
	}
	c.last = config
	c.fc.applied <- appliedConfig{c.id, config}
	return true, nil
}

func (c *fakeClient) Map(context.Context, string) (cluster.Map, error) { return nopMap{}, nil }

func (c *fakeClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed++
	return nil
}

func (c *fakeClient) closes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

type nopMap struct{}

func (nopMap) Put(context.Context, string, string, ..._map.PutOption) (*_map.Entry[string, string], error) {
	return nil, nil
}
func (nopMap) Get(context.Context, string, ..._map.GetOption) (*_map.Entry[string, string], error) {
	return nil, nil
}
func (nopMap) Update(context.Context, string, string, ..._map.UpdateOption) (*_map.Entry[string, string], error) {
	return nil, nil
}
func (nopMap) Close(context.Context) error { return nil }

func withDataPath(path string) func(*kubernetes.Config) {
	return func(c *kubernetes.Config) { c.DataPath = path }
}

func withPod(name string) func(*kubernetes.Config) {
	return func(c *kubernetes.Config) { c.PodName = name }
}

// openEmbedded opens the raft store s on the embedded data path with fake clients.
func openEmbedded(t *testing.T, f *fakecluster.Fake) (*kubernetes.Target, *fakeClients) {
	t.Helper()
	tgt := open(t, f, withDataPath(kubernetes.DataPathEmbedded))
	fc := newFakeClients()
	kubernetes.SetStartClient(tgt, fc.start)
	return tgt, fc
}

func leaderAddress(f *fakecluster.Fake, pod string) string { return f.PodAddress("c", pod) }

// TestEmbeddedDecodesDataStore opens the embedded data path from the
// DataStore the raft controller publishes, whose partition IDs are the
// partitions' Raft group IDs in partition order: 1..n only on a cluster
// whose group counter had no gaps (seen on a real cluster: groups 1, 3, 4).
func TestEmbeddedDecodesDataStore(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(f *fakecluster.Fake)
		wantGroup []int
	}{
		{name: "groups are partitions", setup: func(*fakecluster.Fake) {}, wantGroup: []int{1, 2, 3}},
		{name: "groups skipped", setup: func(f *fakecluster.Fake) { f.SkipGroupIDs("c", 4) }, wantGroup: []int{5, 6, 7}},
		{name: "one group skipped", setup: func(f *fakecluster.Fake) { f.SkipGroupIDs("c", 1) }, wantGroup: []int{2, 3, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakecluster.New(ns, "raft")
			tc.setup(f)
			f.AddRaftStore("s", "c", 3, 3)
			want := f.PublishDataStore("s")
			var groups []int
			for _, p := range want.Partitions {
				groups = append(groups, int(p.PartitionID))
			}
			if !reflect.DeepEqual(groups, tc.wantGroup) || want.Partitions[0].Leader != leaderAddress(f, "c-0") || len(want.Partitions[0].Followers) != 2 {
				t.Fatalf("fixture published %+v", want)
			}
			tgt, fc := openEmbedded(t, f)
			if got := tgt.Info().Versions["data-path"]; got != kubernetes.DataPathEmbedded {
				t.Fatalf("info data-path %q", got)
			}
			if _, err := tgt.Map(ctxT(t), "m"); err != nil {
				t.Fatal(err)
			}
			if a := fc.next(t); a.client != 1 || !reflect.DeepEqual(a.config, want) {
				t.Fatalf("client started with %+v, want %+v", a, want)
			}
			if _, err := tgt.Map(ctxT(t), "other"); err != nil {
				t.Fatal(err)
			}
			if n := len(fc.clients()); n != 1 {
				t.Fatalf("Map started %d clients, want one shared", n)
			}
		})
	}
}

func TestEmbeddedConfigAsString(t *testing.T) {
	f := fakecluster.New(ns, "raft")
	f.AddRaftStore("s", "c", 1, 3)
	f.SetDataStore("s", fakecluster.RaftDriver, `{"partitions":[{"partitionId":1,"leader":"a:5678","followers":["b:5678"]}]}`)
	tgt, fc := openEmbedded(t, f)
	if _, err := tgt.Map(ctxT(t), "m"); err != nil {
		t.Fatal(err)
	}
	want := rsmapiv1.ProtocolConfig{Partitions: []rsmapiv1.PartitionConfig{{PartitionID: 1, Leader: "a:5678", Followers: []string{"b:5678"}}}}
	if a := fc.next(t); !reflect.DeepEqual(a.config, want) {
		t.Fatalf("config %+v, want %+v", a.config, want)
	}
}

func TestEmbeddedReconfiguresOnUpdate(t *testing.T) {
	f := fakecluster.New(ns, "raft")
	f.AddRaftStore("s", "c", 3, 3)
	f.PublishDataStore("s")
	tgt, fc := openEmbedded(t, f)
	if _, err := tgt.Map(ctxT(t), "m"); err != nil {
		t.Fatal(err)
	}
	fc.next(t)
	sessions, ok := tgt.ClusterTarget().(cluster.Sessions)
	if !ok {
		t.Fatal("the embedded data path does not offer cluster.Sessions")
	}
	own, err := sessions.OpenClient(ctxT(t), "m")
	if err != nil {
		t.Fatal(err)
	}
	fc.next(t)

	// An unusable update is ignored; the next good one reaches every client.
	f.SetDataStore("s", fakecluster.RaftDriver, fakecluster.EncodeConfig(rsmapiv1.ProtocolConfig{
		Partitions: []rsmapiv1.PartitionConfig{{PartitionID: 7, Leader: "x:1"}}}))
	f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 2, "s-1-2")
	want := f.PublishDataStore("s")
	if want.Partitions[0].Leader != leaderAddress(f, fakecluster.RaftPodName("c", 3, 3, 1, 2)) {
		t.Fatalf("fixture: partition 1 leader %s", want.Partitions[0].Leader)
	}
	seen := map[int]bool{}
	for len(seen) < 2 {
		a := fc.next(t)
		if !reflect.DeepEqual(a.config, want) {
			t.Fatalf("client %d applied %+v, want %+v", a.client, a.config, want)
		}
		seen[a.client] = true
	}

	if err := own.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	cs := fc.clients()
	if cs[1].closes() != 1 || cs[0].closes() != 0 {
		t.Fatalf("after closing the client's map: closes %d (shared) %d (own)", cs[0].closes(), cs[1].closes())
	}
	f.SetPartitionStatus(fakecluster.RaftPartitions, "s-1", 3, "s-1-3")
	f.PublishDataStore("s")
	if a := fc.next(t); a.client != 1 {
		t.Fatalf("closed client %d reconfigured", a.client)
	}
	if err := tgt.Close(); err != nil {
		t.Fatal(err)
	}
	if cs[0].closes() != 1 {
		t.Fatalf("shared client closed %d times by the target's Close", cs[0].closes())
	}
}

func TestEmbeddedDataStoreErrors(t *testing.T) {
	good := rsmapiv1.ProtocolConfig{Partitions: []rsmapiv1.PartitionConfig{
		{PartitionID: 1, Leader: "a:1"}, {PartitionID: 2, Leader: "b:1"}}}
	tests := []struct {
		name    string
		setup   func(f *fakecluster.Fake)
		wantErr string
	}{
		{name: "missing", setup: func(f *fakecluster.Fake) {
			f.SetDataStore("other", fakecluster.RaftDriver, fakecluster.EncodeConfig(good))
		},
			wantErr: "DataStore failover/s not found"},
		{name: "not served", setup: func(f *fakecluster.Fake) {
			f.Dynamic.PrependReactor("list", "datastores", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewNotFound(fakecluster.DataStores.GroupResource(), "")
			})
		}, wantErr: "reading DataStore failover/s: atomix.io/v3beta4 is not served"},
		{name: "other driver", setup: func(f *fakecluster.Fake) { f.SetDataStore("s", "atomix.io/etcd", fakecluster.EncodeConfig(good)) },
			wantErr: `DataStore failover/s: spec.driver.name is "atomix.io/etcd"`},
		{name: "no config", setup: func(f *fakecluster.Fake) { f.SetDataStore("s", fakecluster.RaftDriver, nil) },
			wantErr: "DataStore failover/s: spec.config is not set"},
		{name: "not JSON", setup: func(f *fakecluster.Fake) { f.SetDataStore("s", fakecluster.RaftDriver, "{") },
			wantErr: "DataStore failover/s: spec.config: decoding protocol config"},
		{name: "wrong partitions", setup: func(f *fakecluster.Fake) {
			f.SetDataStore("s", fakecluster.RaftDriver, fakecluster.EncodeConfig(rsmapiv1.ProtocolConfig{Partitions: good.Partitions[:1]}))
		}, wantErr: "1 partitions (IDs [1]), want 2"},
		{name: "duplicate partition", setup: func(f *fakecluster.Fake) {
			f.SetDataStore("s", fakecluster.RaftDriver, fakecluster.EncodeConfig(rsmapiv1.ProtocolConfig{Partitions: []rsmapiv1.PartitionConfig{
				{PartitionID: 3, Leader: "a:1"}, {PartitionID: 3, Leader: "b:1"}}}))
		}, wantErr: "partition IDs [3 3]: each must be a distinct Raft group ID"},
		{name: "partition 0", setup: func(f *fakecluster.Fake) {
			f.SetDataStore("s", fakecluster.RaftDriver, fakecluster.EncodeConfig(rsmapiv1.ProtocolConfig{Partitions: []rsmapiv1.PartitionConfig{
				{PartitionID: 0, Leader: "a:1"}, {PartitionID: 3, Leader: "b:1"}}}))
		}, wantErr: "partition IDs [0 3]"},
		{name: "partition without address", setup: func(f *fakecluster.Fake) {
			f.SetDataStore("s", fakecluster.RaftDriver, fakecluster.EncodeConfig(rsmapiv1.ProtocolConfig{Partitions: []rsmapiv1.PartitionConfig{
				{PartitionID: 1, Leader: "a:1"}, {PartitionID: 2}}}))
		}, wantErr: "partition ID 2 has no leader and no followers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakecluster.New(ns, "raft")
			f.AddRaftStore("s", "c", 2, 3)
			tc.setup(f)
			tgt, fc := openEmbedded(t, f)
			_, err := tgt.Map(ctxT(t), "m")
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Map error = %v, want one containing %q", err, tc.wantErr)
			}
			if n := len(fc.clients()); n != 0 {
				t.Fatalf("%d clients started", n)
			}
		})
	}
}

func TestEmbeddedRetriesAfterDataStoreAppears(t *testing.T) {
	f := fakecluster.New(ns, "raft")
	f.AddRaftStore("s", "c", 3, 3)
	tgt, fc := openEmbedded(t, f)
	if _, err := tgt.Map(ctxT(t), "m"); err == nil {
		t.Fatal("Map without a DataStore succeeded")
	}
	want := f.PublishDataStore("s")
	if _, err := tgt.Map(ctxT(t), "m"); err != nil {
		t.Fatal(err)
	}
	if a := fc.next(t); !reflect.DeepEqual(a.config, want) {
		t.Fatalf("config %+v", a.config)
	}
}

func TestDataPathChoice(t *testing.T) {
	injected := func(p *corev1.Pod) { p.Annotations = map[string]string{"sidecar.atomix.io/status": "injected"} }
	withContainer := func(p *corev1.Pod) {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "atomix-sidecar"})
	}
	labelOnly := func(p *corev1.Pod) { p.Labels["sidecar.atomix.io/inject"] = "true" }
	tests := []struct {
		name    string
		path    string
		pod     func(*corev1.Pod) // nil: no pod
		named   bool              // the config names pod "experiment"
		want    string
		wantErr string
	}{
		{name: "auto, not in a pod", path: kubernetes.DataPathAuto, want: kubernetes.DataPathEmbedded},
		{name: "auto, sidecar annotation", path: kubernetes.DataPathAuto, pod: injected, named: true, want: kubernetes.DataPathSidecar},
		{name: "auto, sidecar container", path: kubernetes.DataPathAuto, pod: withContainer, named: true, want: kubernetes.DataPathSidecar},
		{name: "auto, injection asked but not done", path: kubernetes.DataPathAuto, pod: labelOnly, named: true, want: kubernetes.DataPathEmbedded},
		{name: "auto, own pod not found", path: kubernetes.DataPathAuto, named: true, wantErr: "pod failover/experiment was not found"},
		{name: "sidecar forced", path: kubernetes.DataPathSidecar, want: kubernetes.DataPathSidecar},
		{name: "embedded forced despite a sidecar", path: kubernetes.DataPathEmbedded, pod: injected, named: true, want: kubernetes.DataPathEmbedded},
		{name: "bad value", path: "direct", wantErr: "want auto, sidecar or embedded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fakecluster.New(ns, "raft")
			f.AddRaftStore("s", "c", 1, 3)
			mut := []func(*kubernetes.Config){withDataPath(tc.path)}
			if tc.pod != nil {
				f.AddPod("experiment", map[string]string{"app": "experiment"})
				f.UpdatePod("experiment", tc.pod)
			}
			if tc.named {
				mut = append(mut, withPod("experiment"))
			}
			tgt, err := tryOpen(t, f, mut...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tgt.DataPath() != tc.want || tgt.Info().Versions["data-path"] != tc.want {
				t.Fatalf("data path %s (info %v), want %s", tgt.DataPath(), tgt.Info().Versions, tc.want)
			}
			_, sessions := tgt.ClusterTarget().(cluster.Sessions)
			if sessions != (tc.want == kubernetes.DataPathEmbedded) {
				t.Fatalf("cluster.Sessions = %v on the %s data path", sessions, tc.want)
			}
		})
	}
}

func TestEmbeddedRefusedForConsensusEra(t *testing.T) {
	f := fakecluster.New(ns, "consensus")
	f.AddConsensusStore("s", 1, 3)
	tgt := open(t, f, withDataPath(kubernetes.DataPathEmbedded))
	if _, ok := tgt.ClusterTarget().(cluster.Sessions); ok {
		t.Fatal("consensus era offers cluster.Sessions")
	}
	if _, err := tgt.Map(ctxT(t), "m"); err == nil || !strings.Contains(err.Error(), "raft-era store") {
		t.Fatalf("err = %v", err)
	}
}

func TestEmbeddedMapAfterClose(t *testing.T) {
	f := fakecluster.New(ns, "raft")
	f.AddRaftStore("s", "c", 1, 3)
	f.PublishDataStore("s")
	tgt, fc := openEmbedded(t, f)
	if err := tgt.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tgt.Map(ctxT(t), "m"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Map after Close: %v", err)
	}
	if n := len(fc.clients()); n != 0 {
		t.Fatalf("%d clients started after Close", n)
	}
}
