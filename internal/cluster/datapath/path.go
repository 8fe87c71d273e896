// Package datapath is the in-process Atomix data path that both targets use
// where no sidecar serves them: an Atomix runtime with an rsm protocol
// driver, behind a sidecar gRPC service on loopback that go-sdk clients talk
// to. It is configured with an rsm ProtocolConfig (each partition's leader
// and followers) and must be reconfigured whenever a partition's leader
// changes, as the Atomix controllers reconfigure a pod's sidecar.
package datapath

import (
	"context"
	"fmt"
	"sync"
	"time"

	runtimeapiv1 "github.com/atomix/atomix/api/runtime/v1"
	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
	"github.com/atomix/atomix/runtime/pkg/logging"
	"github.com/atomix/atomix/runtime/pkg/network"
	runtimev1 "github.com/atomix/atomix/runtime/pkg/runtime/v1"
	"github.com/atomix/atomix/sidecar/pkg/sidecar"
	"github.com/gogo/protobuf/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

var (
	storeID  = runtimeapiv1.StoreID{Name: "embedded-raft"}
	driverID = runtimeapiv1.DriverID{Name: "atomix-failover-raft", APIVersion: "v1"}
)

// quietAtomix sets the Atomix runtime's log level once, before any of its
// goroutines (some outlive a data path, see Path.Close) read it.
var quietAtomix sync.Once

// Path is one in-process Atomix runtime and sidecar service, whose rsm
// protocol client talks to the store's members as a pod's sidecar does.
type Path struct {
	runtime *runtimev1.Runtime
	sidecar *sidecar.Service
	driver  *rsmDriver
	port    int
	// mu guards applied and closed; a closed path is not reconfigured.
	mu      sync.Mutex
	applied string
	closed  bool
}

// Start starts a data path whose sidecar listens on 127.0.0.1:port (0: a
// free port) and connects it to the store described by config. The dial
// options are added to the protocol client's connections to the members.
func Start(ctx context.Context, port int, config rsmapiv1.ProtocolConfig, opts ...grpc.DialOption) (*Path, error) {
	quietAtomix.Do(func() { logging.SetLevel(logging.ErrorLevel) })
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	d := &rsmDriver{conns: &connSet{}, opts: opts}
	rt := runtimev1.New(runtimev1.WithDriver(driverID, d))
	if err := rt.Program(ctx, runtimeapiv1.Route{StoreID: storeID, Rules: []runtimeapiv1.RoutingRule{{Names: []string{"*"}}}}); err != nil {
		return nil, fmt.Errorf("programming runtime routes: %w", err)
	}
	svc := sidecar.NewService(rt, sidecar.WithNetwork(network.NewDefaultDriver()),
		sidecar.WithHost("127.0.0.1"), sidecar.WithPort(port)).(*sidecar.Service)
	if err := svc.Start(); err != nil {
		return nil, fmt.Errorf("starting sidecar on 127.0.0.1:%d: %w", port, err)
	}
	p := &Path{runtime: rt, sidecar: svc, driver: d, port: port}
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
		_ = p.Close()
		return nil, fmt.Errorf("connecting runtime to the store: %w", err)
	}
	p.applied = raw
	return p, nil
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

// Port is the sidecar's port on 127.0.0.1.
func (p *Path) Port() int { return p.port }

// Configure points the protocol client at config's leaders and followers;
// it reports false, doing nothing, when config is the one applied last or
// the path is closed.
func (p *Path) Configure(ctx context.Context, config rsmapiv1.ProtocolConfig) (bool, error) {
	raw, err := marshalConfig(config)
	if err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || raw == p.applied {
		return false, nil
	}
	if err := p.runtime.Configure(ctx, storeID, &types.Any{Value: []byte(raw)}); err != nil {
		return false, fmt.Errorf("reconfiguring runtime: %w", err)
	}
	p.applied = raw
	return true, nil
}

// Conns returns the protocol client's open gRPC connections to the members.
func (p *Path) Conns() []*grpc.ClientConn { return p.driver.conns.list() }

// Close stops the sidecar and closes every connection to the members. It
// does not close the protocol client's sessions: in protocols/rsm v1.1.1 a
// closed session leaves its event goroutine spinning on the closed channel
// (a `break` inside `select`), while an open one leaves it blocked; the
// members expire sessions that are no longer kept alive.
func (p *Path) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.sidecar.Stop()
	p.driver.conns.closeAll()
	return err
}
