// Package kubernetes is the Kubernetes target: it finds the Raft leaders of an
// Atomix store from the store's custom resources (raft.atomix.io or the older
// consensus.atomix.io), kills a verified leader by deleting its pod, and opens
// go-sdk maps through the injected Atomix sidecar or through an Atomix
// runtime of its own configured from the store's DataStore (the data path).
package kubernetes

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Store kinds accepted by Config.StoreKind.
const (
	KindAuto      = "auto"
	KindRaft      = "raft"
	KindConsensus = "consensus"
)

// serviceAccountNamespaceFile holds the pod's namespace when running in a cluster.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// Config configures the Kubernetes target.
type Config struct {
	// Namespace holds the store, its pods and custom resources ("" = DefaultNamespace()).
	Namespace string
	// Store names the RaftStore or ConsensusStore ("" = the only store in Namespace).
	Store string
	// Kubeconfig is an explicit kubeconfig path; "" tries in-cluster config, then $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// GracePeriod is the pod deletion grace period in seconds (0 = immediate).
	GracePeriod int64
	// StoreKind selects the Atomix era: auto (API discovery), raft or consensus.
	StoreKind string
	// CallTimeout bounds every single API call.
	CallTimeout time.Duration
	// SyncTimeout bounds the initial listing of the store's resources.
	SyncTimeout time.Duration
	// DataPath selects how maps are opened: auto, sidecar or embedded ("" = auto).
	DataPath string
	// PodName names the pod this process runs in, which DataPath auto reads
	// to see whether a sidecar was injected ("" = not in a pod; Open sets it
	// to the hostname inside a cluster).
	PodName string
	// PodNamespace is PodName's namespace ("" = Namespace).
	PodNamespace string
}

// DefaultConfig returns the defaults: grace period 0, era by discovery, data
// path by sidecar detection, 10 s per call.
func DefaultConfig() Config {
	return Config{StoreKind: KindAuto, DataPath: DataPathAuto, CallTimeout: 10 * time.Second, SyncTimeout: 30 * time.Second}
}

// Validate checks the configuration values that do not need the cluster.
func (c Config) Validate() error {
	switch c.StoreKind {
	case KindAuto, KindRaft, KindConsensus, "":
	default:
		return fmt.Errorf("store kind %q: want auto, raft or consensus", c.StoreKind)
	}
	switch c.DataPath {
	case DataPathAuto, DataPathSidecar, DataPathEmbedded, "":
	default:
		return fmt.Errorf("data path %q: want auto, sidecar or embedded", c.DataPath)
	}
	if c.GracePeriod < 0 {
		return fmt.Errorf("grace period %d: must be 0 or more seconds", c.GracePeriod)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.StoreKind == "" {
		c.StoreKind = d.StoreKind
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = d.CallTimeout
	}
	if c.SyncTimeout <= 0 {
		c.SyncTimeout = d.SyncTimeout
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace()
	}
	if c.DataPath == "" {
		c.DataPath = d.DataPath
	}
	if c.PodNamespace == "" {
		c.PodNamespace = c.Namespace
	}
	return c
}

// withSelf names the pod this process runs in, when it runs in one and
// c names none: the hostname, which Kubernetes sets to the pod's name.
func (c Config) withSelf() Config {
	if c.PodName != "" || os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		return c
	}
	if h, err := os.Hostname(); err == nil {
		c.PodName = h
		if c.PodNamespace == "" {
			c.PodNamespace = DefaultNamespace()
		}
	}
	return c
}

// DefaultNamespace is the pod's own namespace when running in a cluster, else "default".
func DefaultNamespace() string {
	return namespaceFromFile(serviceAccountNamespaceFile)
}

func namespaceFromFile(path string) string {
	b, err := os.ReadFile(path)
	if err == nil {
		if ns := strings.TrimSpace(string(b)); ns != "" {
			return ns
		}
	}
	return "default"
}

// RESTConfig loads the client configuration: the explicit kubeconfig when given,
// else the in-cluster config, else $KUBECONFIG, else ~/.kube/config.
func RESTConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		cfg, err := rest.InClusterConfig()
		if err == nil {
			return cfg, nil
		}
		if !errors.Is(err, rest.ErrNotInCluster) {
			return nil, fmt.Errorf("loading in-cluster config: %w", err)
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return cfg, nil
}
