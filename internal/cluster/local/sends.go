package local

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// mapPutMethod is the rsm protocol client's call that carries a map Put to a node.
const mapPutMethod = "/atomix.protocols.rsm.map.v1.Map/Put"

// partitionTargetPrefix starts the target of every partition connection of
// the rsm protocol client ("atomix:///<partition ID>").
const partitionTargetPrefix = "atomix:///"

// sendHub sees the protocol client's map Put requests leave for the nodes:
// an interceptor tags each call with its partition, and a gRPC stats
// handler reports the moment the request message was written to the
// connection, with the address it went to.
type sendHub struct {
	cluster.SendHub
}

type sendTagKey struct{}

// sendTag follows one tagged call through the stats handler.
type sendTag struct {
	partition int
	mu        sync.Mutex
	to        string
}

func newSendHub() *sendHub { return &sendHub{} }

// unary tags map Put calls with their partition for the stats handler.
func (h *sendHub) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if method == mapPutMethod && strings.HasPrefix(cc.Target(), partitionTargetPrefix) {
		if p, err := strconv.Atoi(strings.TrimPrefix(cc.Target(), partitionTargetPrefix)); err == nil {
			ctx = context.WithValue(ctx, sendTagKey{}, &sendTag{partition: p})
		}
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// TagRPC implements stats.Handler.
func (h *sendHub) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

// HandleRPC implements stats.Handler: the outgoing header names the address,
// the outgoing payload is the request leaving.
func (h *sendHub) HandleRPC(ctx context.Context, s stats.RPCStats) {
	tag, ok := ctx.Value(sendTagKey{}).(*sendTag)
	if !ok {
		return
	}
	switch s := s.(type) {
	case *stats.OutHeader:
		if s.RemoteAddr != nil {
			tag.mu.Lock()
			tag.to = s.RemoteAddr.String()
			tag.mu.Unlock()
		}
	case *stats.OutPayload:
		at := s.SentTime
		if at.IsZero() {
			at = time.Now()
		}
		tag.mu.Lock()
		to := tag.to
		tag.mu.Unlock()
		h.Publish(tag.partition, cluster.Send{At: at, To: to})
	}
}

// TagConn implements stats.Handler.
func (h *sendHub) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

// HandleConn implements stats.Handler.
func (h *sendHub) HandleConn(context.Context, stats.ConnStats) {}

// ObserveWrites reports the data path's map Put requests to the partition's
// nodes, each when its message was written to the connection.
func (s *Store) ObserveWrites(partition int) (<-chan cluster.Send, func()) {
	return s.sends.Observe(partition)
}

var _ cluster.SendObserver = (*Store)(nil)
