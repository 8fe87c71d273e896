package kubernetes

import (
	"context"
	"fmt"
	"sync"
	"time"

	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/datapath"
)

// dataClient is one client of the embedded data path: an Atomix runtime and
// rsm protocol client of its own (datapath.Client; tests substitute it).
type dataClient interface {
	// Configure points the client at config's leaders; false when unchanged.
	Configure(ctx context.Context, config rsmapiv1.ProtocolConfig) (bool, error)
	// Map opens the named map over the client.
	Map(ctx context.Context, name string) (cluster.Map, error)
	// Close releases the client; calls after the first are harmless.
	Close() error
}

// startClientFunc starts a data client connected as config says.
type startClientFunc func(ctx context.Context, config rsmapiv1.ProtocolConfig) (dataClient, error)

// startDataClient starts a datapath.Client on a free loopback port.
func startDataClient(ctx context.Context, config rsmapiv1.ProtocolConfig) (dataClient, error) {
	return datapath.StartClient(ctx, config)
}

// embedded is the data path that needs no sidecar: in-process Atomix
// runtimes, one per client, configured from the store's DataStore and
// reconfigured on every update of it, as the Atomix controllers
// reconfigure a pod's sidecar.
type embedded struct {
	log     *zap.Logger
	ref     string // namespace/name of the DataStore
	name    string
	parts   int
	start   startClientFunc
	timeout time.Duration

	ctx     context.Context
	cancel  context.CancelFunc
	factory dynamicinformer.DynamicSharedInformerFactory
	kick    chan struct{}
	done    chan struct{}

	// mu guards config, clients and closed.
	mu      sync.Mutex
	config  rsmapiv1.ProtocolConfig
	clients map[*embeddedClient]struct{}
	next    int
	closed  bool
	// applyMu orders reconfigurations: each applies the config current when it runs.
	applyMu sync.Mutex
	// sharedMu guards shared, the client of Target.Map.
	sharedMu sync.Mutex
	shared   *embeddedClient
}

// startEmbedded reads the store's DataStore and starts following it.
func startEmbedded(ctx context.Context, t *Target) (*embedded, error) {
	ns, name := t.cfg.Namespace, t.store.name
	e := &embedded{
		log: t.log.With(zap.String("data_path", DataPathEmbedded)), ref: ns + "/" + name, name: name,
		parts: t.store.partitions, start: t.startClient, timeout: t.cfg.CallTimeout,
		kick: make(chan struct{}, 1), done: make(chan struct{}), clients: map[*embeddedClient]struct{}{},
	}
	if err := e.readDataStore(ctx, t); err != nil {
		return nil, err
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if err := e.watch(t.dyn, ns, t.listTimeout); err != nil {
		e.cancel()
		return nil, err
	}
	go e.loop()
	e.log.Info("embedded data path following the DataStore", zap.String("datastore", e.ref), zap.Int("partitions", e.parts))
	return e, nil
}

// readDataStore lists the DataStore once, for a clear error when it is
// missing or unusable; the watch then follows it.
func (e *embedded) readDataStore(ctx context.Context, t *Target) error {
	cctx, cancel := t.call(ctx)
	defer cancel()
	list, err := t.dyn.Resource(dataStoreGVR).Namespace(t.cfg.Namespace).List(cctx,
		metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", e.name).String()})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("reading DataStore %s: %s is not served (the Atomix controller's CRDs are not installed): %w", e.ref, dataStoreGVR.GroupVersion(), err)
	}
	if err != nil {
		return fmt.Errorf("reading DataStore %s: %w", e.ref, err)
	}
	for i := range list.Items {
		if list.Items[i].GetName() != e.name {
			continue
		}
		config, err := decodeDataStore(&list.Items[i], e.parts)
		if err == nil {
			err = addressed(config)
		}
		if err != nil {
			return fmt.Errorf("DataStore %s: %w", e.ref, err)
		}
		e.config = config
		return nil
	}
	return fmt.Errorf("DataStore %s not found: the raft controller publishes it, named after the RaftStore, once the store's partitions exist; without it the embedded data path knows no member address (with an Atomix sidecar injected, use --data-path sidecar)", e.ref)
}

// watch follows the DataStore with an informer (list and watch, no polling).
func (e *embedded) watch(dyn dynamic.Interface, ns string, listTimeout func(*metav1.ListOptions)) error {
	e.factory = dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, ns, func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", e.name).String()
		listTimeout(o)
	})
	inf := e.factory.ForResource(dataStoreGVR).Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { e.onDataStore(obj, false) },
		UpdateFunc: func(_, obj any) { e.onDataStore(obj, false) },
		DeleteFunc: func(obj any) { e.onDataStore(obj, true) },
	}); err != nil {
		return fmt.Errorf("registering the DataStore watch handler: %w", err)
	}
	e.factory.Start(e.ctx.Done())
	return nil
}

// onDataStore takes a new config from the DataStore and wakes the
// reconfigure loop; an unusable update is logged and the last config kept.
func (e *embedded) onDataStore(obj any, deleted bool) {
	u := unstructuredOf(obj)
	if u == nil || u.GetName() != e.name {
		return
	}
	if deleted {
		e.log.Warn("the DataStore was deleted; keeping its last config", zap.String("datastore", e.ref))
		return
	}
	config, err := decodeDataStore(u, e.parts)
	if err != nil {
		e.log.Warn("ignoring an unusable DataStore update", zap.String("datastore", e.ref), zap.Error(err))
		return
	}
	e.mu.Lock()
	e.config = config
	e.mu.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// current is the config taken last from the DataStore.
func (e *embedded) current() rsmapiv1.ProtocolConfig {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.config
}

// loop reconfigures every client after each DataStore update.
func (e *embedded) loop() {
	defer close(e.done)
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-e.kick:
		}
		for _, c := range e.registered() {
			if err := e.apply(c); err != nil && e.ctx.Err() == nil {
				e.log.Warn("reconfiguring a client", zap.String("client", c.name), zap.Error(err))
			}
		}
	}
}

// apply points c at the current config.
func (e *embedded) apply(c *embeddedClient) error {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	ctx, cancel := context.WithTimeout(e.ctx, e.timeout)
	defer cancel()
	applied, err := c.dc.Configure(ctx, e.current())
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if applied {
		e.log.Debug("client reconfigured from the DataStore", zap.String("client", c.name))
	}
	return nil
}
