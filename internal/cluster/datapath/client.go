package datapath

import (
	"context"
	"errors"
	"fmt"
	"sync"

	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
	sdkclient "github.com/atomix/go-sdk/pkg/client"
	"github.com/atomix/go-sdk/pkg/types"
	"google.golang.org/grpc"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// Client is one data path and the go-sdk client that talks to its sidecar:
// an independent Atomix client, with a session of its own on every partition.
type Client struct {
	path *Path
	sdk  *sdkclient.Client

	once sync.Once
	err  error
}

// StartClient starts a data path on a free loopback port, connected to the
// store described by config, and a go-sdk client on it; see Start.
func StartClient(ctx context.Context, config rsmapiv1.ProtocolConfig, opts ...grpc.DialOption) (*Client, error) {
	p, err := Start(ctx, 0, config, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{path: p, sdk: NewSDKClient(p)}, nil
}

// NewSDKClient returns a go-sdk client of the path's sidecar.
func NewSDKClient(p *Path) *sdkclient.Client {
	return sdkclient.NewClient(sdkclient.WithHost("127.0.0.1"), sdkclient.WithPort(p.Port()))
}

// Path is the client's data path.
func (c *Client) Path() *Path { return c.path }

// Port is the client's sidecar port on 127.0.0.1.
func (c *Client) Port() int { return c.path.Port() }

// Configure reconfigures the client's data path; see Path.Configure.
func (c *Client) Configure(ctx context.Context, config rsmapiv1.ProtocolConfig) (bool, error) {
	return c.path.Configure(ctx, config)
}

// Map opens the named map (string keys and values) over the client.
func (c *Client) Map(ctx context.Context, name string) (cluster.Map, error) {
	return OpenMap(ctx, c.sdk, name)
}

// Close closes the go-sdk client, stops the sidecar and closes the protocol
// client's connections, once; later calls return the first one's error.
// Like Path.Close, it leaves the rsm sessions to expire.
func (c *Client) Close() error {
	c.once.Do(func() {
		var errs []error
		if err := c.sdk.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing go-sdk client: %w", err))
		}
		if err := c.path.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stopping the sidecar: %w", err))
		}
		c.err = errors.Join(errs...)
	})
	return c.err
}

// OpenMap opens the named map with string keys and values over a go-sdk client.
func OpenMap(ctx context.Context, c *sdkclient.Client, name string) (cluster.Map, error) {
	m, err := sdkclient.Map[string, string](c)(name).Codec(types.Scalar[string]()).Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening map %q: %w", name, err)
	}
	return m, nil
}
