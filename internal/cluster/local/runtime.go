package local

import (
	"context"
	"fmt"
	"sync"
	"time"

	runtimeapiv1 "github.com/atomix/atomix/api/runtime/v1"
	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
	rsmclient "github.com/atomix/atomix/protocols/rsm/pkg/client"
	mapclientv1 "github.com/atomix/atomix/protocols/rsm/pkg/client/map/v1"
	"github.com/atomix/atomix/runtime/pkg/driver"
	"github.com/atomix/atomix/runtime/pkg/network"
	runtimemapv1 "github.com/atomix/atomix/runtime/pkg/runtime/map/v1"
	runtimev1 "github.com/atomix/atomix/runtime/pkg/runtime/v1"
	"github.com/atomix/atomix/sidecar/pkg/sidecar"
	"github.com/gogo/protobuf/jsonpb"
	"github.com/gogo/protobuf/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

var (
	storeID  = runtimeapiv1.StoreID{Name: "embedded-raft"}
	driverID = runtimeapiv1.DriverID{Name: "atomix-failover-raft", APIVersion: "v1"}
)

// dataPath is the in-process Atomix runtime and sidecar, whose rsm protocol
// client talks to the node processes, as a sidecar does in a pod.
type dataPath struct {
	runtime *runtimev1.Runtime
	sidecar *sidecar.Service
	driver  *rsmDriver
	port    int
	// mu guards applied and closed; a closed data path is not reconfigured.
	mu      sync.Mutex
	applied string
	closed  bool
}

func startDataPath(ctx context.Context, port int, config rsmapiv1.ProtocolConfig, sends *sendHub) (*dataPath, error) {
	d := &rsmDriver{conns: &connSet{}, sends: sends}
	rt := runtimev1.New(runtimev1.WithDriver(driverID, d))
	if err := rt.Program(ctx, runtimeapiv1.Route{StoreID: storeID, Rules: []runtimeapiv1.RoutingRule{{Names: []string{"*"}}}}); err != nil {
		return nil, fmt.Errorf("programming runtime routes: %w", err)
	}
	svc := sidecar.NewService(rt, sidecar.WithNetwork(network.NewDefaultDriver()),
		sidecar.WithHost("127.0.0.1"), sidecar.WithPort(port)).(*sidecar.Service)
	if err := svc.Start(); err != nil {
		return nil, fmt.Errorf("starting sidecar on 127.0.0.1:%d: %w", port, err)
	}
	dp := &dataPath{runtime: rt, sidecar: svc, driver: d, port: port}
	// The sidecar serves from a goroutine that exits the process if the
	// server is stopped before it serves: wait until it accepts a connection.
	if err := waitServing(ctx, fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		_ = svc.Stop()
		return nil, err
	}
	raw, err := marshalConfig(config)
	if err != nil {
		_ = svc.Stop()
		return nil, err
	}
	if err := rt.Connect(ctx, storeID, driverID, &types.Any{Value: []byte(raw)}); err != nil {
		_ = dp.close()
		return nil, fmt.Errorf("connecting runtime to the store: %w", err)
	}
	dp.applied = raw
	return dp, nil
}

func waitServing(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithBlock())
	if err != nil {
		return fmt.Errorf("waiting for the sidecar on %s: %w", addr, err)
	}
	return conn.Close()
}

func marshalConfig(config rsmapiv1.ProtocolConfig) (string, error) {
	raw, err := (&jsonpb.Marshaler{}).MarshalToString(&config)
	if err != nil {
		return "", fmt.Errorf("encoding protocol config: %w", err)
	}
	return raw, nil
}

// configure points the protocol client at the current leaders, as the Atomix
// controllers do in Kubernetes; an unchanged config is not reapplied.
func (dp *dataPath) configure(ctx context.Context, config rsmapiv1.ProtocolConfig) (bool, error) {
	raw, err := marshalConfig(config)
	if err != nil {
		return false, err
	}
	dp.mu.Lock()
	defer dp.mu.Unlock()
	if dp.closed || raw == dp.applied {
		return false, nil
	}
	if err := dp.runtime.Configure(ctx, storeID, &types.Any{Value: []byte(raw)}); err != nil {
		return false, fmt.Errorf("reconfiguring runtime: %w", err)
	}
	dp.applied = raw
	return true, nil
}

// close stops the sidecar and closes every connection to the nodes. It does
// not close the protocol client's sessions: in protocols/rsm v1.1.1 a closed
// session leaves its event goroutine spinning on the closed channel (a
// `break` inside `select`), while an open one leaves it blocked; the nodes
// are killed right after, so their sessions die with them.
func (dp *dataPath) close() error {
	dp.mu.Lock()
	dp.closed = true
	dp.mu.Unlock()
	err := dp.sidecar.Stop()
	dp.driver.conns.closeAll()
	return err
}

// rsmDriver is an Atomix runtime driver for the rsm protocol over TCP.
type rsmDriver struct {
	conns *connSet
	sends *sendHub
}

// Connect opens a protocol client for the given partitions.
func (d *rsmDriver) Connect(ctx context.Context, spec rsmapiv1.ProtocolConfig) (driver.Conn, error) {
	c := &rsmConn{ProtocolClient: rsmclient.NewClient(network.NewDefaultDriver(),
		rsmclient.WithGRPCDialOptions(
			grpc.WithChainUnaryInterceptor(d.conns.unary, d.sends.unary),
			grpc.WithChainStreamInterceptor(d.conns.stream),
			grpc.WithStatsHandler(d.sends)))}
	if err := c.ProtocolClient.Connect(ctx, spec); err != nil {
		return nil, err
	}
	// Open every partition's session now, as opening a primitive would: it
	// proves the data path and routes each partition's connection through
	// the interceptors, which is how the store learns of it to close it.
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
// Close leaves open, so that they can be closed with the store.
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

func (s *connSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for cc := range s.conns {
		_ = cc.Close()
	}
	s.conns = nil
}
