package cli

import (
	"context"
	"errors"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// kubernetesFlags configure the Kubernetes target.
type kubernetesFlags struct {
	namespace  string
	store      string
	kubeconfig string
}

func (k *kubernetesFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&k.namespace, "namespace", "", "kubernetes: namespace of the store")
	fs.StringVar(&k.store, "store", "", "kubernetes: name of the RaftStore (or ConsensusStore)")
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "kubernetes: kubeconfig path (default: in-cluster config, then $KUBECONFIG)")
}

func (k *kubernetesFlags) open(ctx context.Context, log *zap.Logger) (cluster.Target, error) {
	return nil, errors.New("the kubernetes target is not implemented yet")
}
