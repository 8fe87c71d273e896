package kubernetes

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/datapath"
)

// errDataPathClosed is returned once the target is closing.
var errDataPathClosed = errors.New("the embedded data path is closed")

// embeddedClient is a registered data client and its name for logs.
type embeddedClient struct {
	name string
	dc   dataClient
}

// newClient starts a client on the current config, registers it with the
// reconfigure loop and catches it up with any update since it started.
func (e *embedded) newClient(ctx context.Context, label string) (*embeddedClient, error) {
	dc, err := e.start(ctx, e.current())
	if err != nil {
		return nil, fmt.Errorf("starting an embedded Atomix client on DataStore %s: %w", e.ref, err)
	}
	c := &embeddedClient{dc: dc}
	if err := e.register(c, label); err != nil {
		return nil, errors.Join(err, dc.Close())
	}
	if err := e.apply(c); err != nil {
		e.unregister(c)
		return nil, errors.Join(err, dc.Close())
	}
	return c, nil
}

// close closes the client; the error names it.
func (c *embeddedClient) close() error {
	if err := c.dc.Close(); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}

// register names c and adds it to the clients the loop reconfigures.
func (e *embedded) register(c *embeddedClient, label string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errDataPathClosed
	}
	e.next++
	c.name = fmt.Sprintf("client-%d (%s)", e.next, label)
	e.clients[c] = struct{}{}
	return nil
}

// unregister removes c and reports whether it was registered.
func (e *embedded) unregister(c *embeddedClient) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.clients[c]
	delete(e.clients, c)
	return ok
}

// registered returns every registered client.
func (e *embedded) registered() []*embeddedClient {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*embeddedClient, 0, len(e.clients))
	for c := range e.clients {
		out = append(out, c)
	}
	return out
}

// Map opens the named map over the shared client, started on first use.
func (e *embedded) Map(ctx context.Context, name string) (cluster.Map, error) {
	e.sharedMu.Lock()
	defer e.sharedMu.Unlock()
	if e.shared == nil {
		c, err := e.newClient(ctx, "shared")
		if err != nil {
			return nil, err
		}
		e.shared = c
	}
	m, err := e.shared.dc.Map(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.shared.name, err)
	}
	return m, nil
}

// OpenClient opens the named map over a client of its own: its own runtime
// and rsm sessions, reconfigured like every other; closing the map closes it.
func (e *embedded) OpenClient(ctx context.Context, name string) (cluster.Map, error) {
	c, err := e.newClient(ctx, "map "+name)
	if err != nil {
		return nil, err
	}
	m, err := c.dc.Map(ctx, name)
	if err != nil {
		e.unregister(c)
		return nil, errors.Join(fmt.Errorf("%s: %w", c.name, err), c.dc.Close())
	}
	e.log.Debug("client opened", zap.String("client", c.name))
	return &datapath.OwnedMap{Map: m, Name: c.name, Release: func() bool { return e.unregister(c) }, CloseClient: c.close}, nil
}

// Close stops following the DataStore and closes every client.
func (e *embedded) Close() error {
	e.mu.Lock()
	e.closed = true
	clients := e.clients
	e.clients = map[*embeddedClient]struct{}{}
	e.mu.Unlock()
	e.cancel()
	e.factory.Shutdown()
	<-e.done
	errs := make([]error, 0, len(clients))
	for c := range clients {
		if err := c.dc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}
