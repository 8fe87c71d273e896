package local

import (
	"google.golang.org/grpc"

	"github.com/atomix-failover/atomix-failover/internal/cluster/datapath"
)

// dataPath is an in-process Atomix runtime and sidecar (internal/cluster/datapath),
// whose rsm protocol client talks to the node processes, as a sidecar does in a pod.
type dataPath = datapath.Path

// sendOptions routes the protocol client's calls through the store's
// write-request observer (sends.go).
func sendOptions(h *sendHub) []grpc.DialOption {
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(h.unary), grpc.WithStatsHandler(h)}
}
