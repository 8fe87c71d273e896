package kubernetes

import (
	"context"
	"fmt"
	"sync"

	"go.uber.org/zap"
	"k8s.io/client-go/dynamic"
	k8s "k8s.io/client-go/kubernetes"

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

	// mu guards the informer cache below; changed is closed (and replaced) on every event.
	mu         sync.Mutex
	changed    chan struct{}
	partitions map[int]*observedPartition
	members    map[string]memberState
	pods       map[string]podState
	storeGone  bool

	// dataPath is the resolved Config.DataPath: sidecar or embedded.
	dataPath string
	// startClient starts the embedded data path's clients (a test seam).
	startClient startClientFunc
	// dpMu guards the data path, opened on first use, and dpClosed.
	dpMu     sync.Mutex
	sidecar  *sidecarPath
	embedded *embedded
	dpClosed bool
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
	return New(ctx, Clients{Kube: kube, Dynamic: dyn}, cfg.withSelf(), log)
}

// New opens the store with the given clients: it finds the Atomix era and the
// store, then starts watching the store's partitions, members and pods.
func New(ctx context.Context, c Clients, cfg Config, log *zap.Logger) (*Target, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	t := &Target{
		cfg:         cfg,
		log:         log.With(zap.String("namespace", cfg.Namespace)),
		kube:        c.Kube,
		dyn:         c.Dynamic,
		stop:        make(chan struct{}),
		changed:     make(chan struct{}),
		partitions:  map[int]*observedPartition{},
		members:     map[string]memberState{},
		pods:        map[string]podState{},
		startClient: startDataClient,
	}
	if err := t.resolveStore(ctx); err != nil {
		return nil, err
	}
	path, err := t.chooseDataPath(ctx)
	if err != nil {
		return nil, err
	}
	t.dataPath = path
	t.log = t.log.With(zap.String("store", t.store.name), zap.String("kind", t.era.storeKind))
	if err := t.startWatches(ctx); err != nil {
		_ = t.Close()
		return nil, err
	}
	t.log.Info("watching store",
		zap.String("api", t.era.gv.String()), zap.String("cluster", t.store.cluster),
		zap.Int("partitions", t.store.partitions), zap.Int("replicas", t.store.replicas),
		zap.String("data_path", t.dataPath))
	return t, nil
}

// call bounds one API call.
func (t *Target) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, t.cfg.CallTimeout)
}

// Info describes the store.
func (t *Target) Info() cluster.Info {
	return cluster.Info{
		Target:     "kubernetes",
		Store:      t.store.name,
		Partitions: t.store.partitions,
		Replicas:   t.store.replicas,
		Versions:   map[string]string{"api": t.era.gv.String(), "store-kind": t.era.storeKind, "data-path": t.dataPath},
		// The pod's controller recreates a deleted pod; the tool does not choose when.
		RestartPolicy: "statefulset",
	}
}

func (t *Target) checkPartition(partition int) error {
	if partition < 1 || partition > t.store.partitions {
		return fmt.Errorf("partition %d: the store has partitions 1..%d", partition, t.store.partitions)
	}
	return nil
}

// Close stops the watches and closes the data path.
func (t *Target) Close() error {
	var err error
	t.closeOnce.Do(func() {
		close(t.stop)
		for _, f := range t.factories {
			f.Shutdown()
		}
		err = t.closeDataPath()
	})
	return err
}
