package datapath

import (
	"context"
	"fmt"
	"sync"

	runtimeapiv1 "github.com/atomix/atomix/api/runtime/v1"
	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
	rsmclient "github.com/atomix/atomix/protocols/rsm/pkg/client"
	mapclientv1 "github.com/atomix/atomix/protocols/rsm/pkg/client/map/v1"
	"github.com/atomix/atomix/runtime/pkg/driver"
	"github.com/atomix/atomix/runtime/pkg/network"
	runtimemapv1 "github.com/atomix/atomix/runtime/pkg/runtime/map/v1"
	"google.golang.org/grpc"
)

// rsmDriver is an Atomix runtime driver for the rsm protocol over TCP.
type rsmDriver struct {
	conns *connSet
	opts  []grpc.DialOption
}

// Connect opens a protocol client for the given partitions.
func (d *rsmDriver) Connect(ctx context.Context, spec rsmapiv1.ProtocolConfig) (driver.Conn, error) {
	opts := append([]grpc.DialOption{
		grpc.WithChainUnaryInterceptor(d.conns.unary),
		grpc.WithChainStreamInterceptor(d.conns.stream),
	}, d.opts...)
	c := &rsmConn{ProtocolClient: rsmclient.NewClient(network.NewDefaultDriver(), rsmclient.WithGRPCDialOptions(opts...))}
	if err := c.ProtocolClient.Connect(ctx, spec); err != nil {
		return nil, err
	}
	// Open every partition's session now, as opening a primitive would: it
	// proves the data path and routes each partition's connection through
	// the interceptors, which is how the path learns of it to close it.
	for _, p := range c.Partitions() {
		if _, err := p.GetSession(ctx); err != nil {
			return nil, fmt.Errorf("opening a session on partition %d: %w", p.ID(), err)
		}
	}
	return c, nil
}

type rsmConn struct {
	*rsmclient.ProtocolClient
}

// Configure updates the partitions' leader and followers.
func (c *rsmConn) Configure(ctx context.Context, spec rsmapiv1.ProtocolConfig) error {
	return c.ProtocolClient.Configure(ctx, spec)
}

// NewMapV1 opens a map primitive on the store.
func (c *rsmConn) NewMapV1(ctx context.Context, id runtimeapiv1.PrimitiveID) (runtimemapv1.MapProxy, error) {
	proxy := mapclientv1.NewMap(c.Protocol, id)
	if err := proxy.Open(ctx); err != nil {
		return nil, err
	}
	return proxy, nil
}

var _ runtimemapv1.MapProvider = (*rsmConn)(nil)

// connSet records the gRPC connections the protocol client dials, which its
// Close leaves open, so that they can be closed with the path.
type connSet struct {
	mu    sync.Mutex
	conns map[*grpc.ClientConn]struct{}
}

func (s *connSet) add(cc *grpc.ClientConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = make(map[*grpc.ClientConn]struct{})
	}
	s.conns[cc] = struct{}{}
}

func (s *connSet) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	s.add(cc)
	return invoker(ctx, method, req, reply, cc, opts...)
}

func (s *connSet) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s.add(cc)
	return streamer(ctx, desc, cc, method, opts...)
}

func (s *connSet) list() []*grpc.ClientConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*grpc.ClientConn, 0, len(s.conns))
	for cc := range s.conns {
		out = append(out, cc)
	}
	return out
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for cc := range s.conns {
		_ = cc.Close()
	}
	s.conns = nil
}
