package cli

import (
	"context"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/kubernetes"
)

// kubernetesFlags configure the Kubernetes target.
type kubernetesFlags struct {
	namespace   string
	store       string
	kubeconfig  string
	gracePeriod int64
	storeKind   string
	dataPath    string
}

func (k *kubernetesFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&k.namespace, "namespace", "", "kubernetes: namespace of the store (default: the pod's own namespace in a cluster, else \"default\")")
	fs.StringVar(&k.store, "store", "", "kubernetes: name of the RaftStore or ConsensusStore (default: the only store in the namespace)")
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "kubernetes: kubeconfig path (default: in-cluster config, then $KUBECONFIG, then ~/.kube/config)")
	fs.Int64Var(&k.gracePeriod, "grace-period", 0, "kubernetes: grace period in seconds of the leader pod's deletion (0 = kill at once)")
	fs.StringVar(&k.storeKind, "store-kind", kubernetes.KindAuto, "kubernetes: Atomix era: auto (API discovery), raft (raft.atomix.io) or consensus (consensus.atomix.io)")
	fs.StringVar(&k.dataPath, "data-path", kubernetes.DataPathAuto, "kubernetes: how maps are opened: sidecar (the injected Atomix sidecar), embedded (this binary's own Atomix runtime, configured from the store's DataStore) or auto (sidecar when injected into this pod, else embedded)")
}

func (k *kubernetesFlags) config() kubernetes.Config {
	cfg := kubernetes.DefaultConfig()
	cfg.Namespace = k.namespace
	cfg.Store = k.store
	cfg.Kubeconfig = k.kubeconfig
	cfg.GracePeriod = k.gracePeriod
	cfg.StoreKind = k.storeKind
	cfg.DataPath = k.dataPath
	return cfg
}

func (k *kubernetesFlags) open(ctx context.Context, log *zap.Logger) (cluster.Target, error) {
	cfg := k.config()
	if err := cfg.Validate(); err != nil {
		return nil, usageError(err)
	}
	tgt, err := openKubernetes(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	return tgt, nil
}

// openKubernetes opens the Kubernetes target, with its data path's
// capabilities (cluster.Sessions when embedded); tests replace it to run
// on fake clients.
var openKubernetes = func(ctx context.Context, cfg kubernetes.Config, log *zap.Logger) (cluster.Target, error) {
	tgt, err := kubernetes.Open(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	return tgt.ClusterTarget(), nil
}
