package local

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/datapath"
)

var _ cluster.Sessions = (*Store)(nil)

// errStoreClosed is returned by OpenClient once Close has begun.
var errStoreClosed = errors.New("the store is closed")

// clientPath is one client's own data path (runtime, sidecar and rsm
// protocol client, hence its own session on every partition) and the go-sdk
// client that talks to its sidecar, named for logs.
type clientPath struct {
	name string
	*datapath.Client
}

// close closes the client once (datapath.Client.Close): like the store's
// own data path, it leaves the rsm sessions open for the nodes to expire.
func (c *clientPath) close() error {
	if err := c.Close(); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}

// namedPath is a data path with a name for logs.
type namedPath struct {
	name string
	data *dataPath
}

// dataPaths returns the store's data path (when up) and every open client's.
func (s *Store) dataPaths() []namedPath {
	s.mu.Lock()
	defer s.mu.Unlock()
	paths := make([]namedPath, 0, len(s.clients)+1)
	if s.data != nil {
		paths = append(paths, namedPath{name: "store", data: s.data})
	}
	for c := range s.clients {
		paths = append(paths, namedPath{name: c.name, data: c.Path()})
	}
	return paths
}

// OpenClient opens the named map over a client of its own, as an
// independent application process would: a new in-process runtime and
// sidecar on a free port, whose rsm protocol client opens its own session on
// every partition. Every leadership change reconfigures it like the store's
// own data path, and its write requests are seen by ObserveWrites. Closing
// the map closes that client. OpenClient fails after Close and while a
// failed wipe has left the data path down; WipeAll closes every client, so
// maps opened before a wipe are unusable afterwards: open new ones.
func (s *Store) OpenClient(ctx context.Context, name string) (cluster.Map, error) {
	// A wipe waits until this client is registered, then detaches it before
	// killing the nodes: its sessions never reach the wiped store.
	s.restartMu.RLock()
	defer s.restartMu.RUnlock()
	if err := s.clientsOpen(); err != nil {
		return nil, fmt.Errorf("opening a client for map %q: %w", name, err)
	}
	c, err := s.startClient(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("opening a client for map %q: %w", name, err)
	}
	m, err := c.Map(ctx, name)
	if err != nil {
		s.unregisterClient(c)
		return nil, errors.Join(fmt.Errorf("%s: %w", c.name, err), c.close())
	}
	s.log.Debug("client opened", zap.String("client", c.name), zap.Int("sidecar_port", c.Port()))
	return &clientMap{client: c, OwnedMap: &datapath.OwnedMap{
		Map: m, Name: c.name, Release: func() bool { return s.unregisterClient(c) }, CloseClient: c.close,
	}}, nil
}

// clientsOpen says why no client may be opened now, if so.
func (s *Store) clientsOpen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.clientsClosed || s.ctx.Err() != nil:
		return errStoreClosed
	case s.data == nil:
		return errors.New("the data path is down (a wipe did not finish)")
	}
	return nil
}

// startClient starts a data path on a free port, registers it and points it
// at the current leaders.
func (s *Store) startClient(ctx context.Context, name string) (*clientPath, error) {
	dc, err := datapath.StartClient(ctx, s.protocolConfig(), sendOptions(s.sends)...)
	if err != nil {
		return nil, err
	}
	c := &clientPath{name: fmt.Sprintf("client (map %s)", name), Client: dc}
	if err := s.registerClient(c, name); err != nil {
		return nil, errors.Join(err, c.close())
	}
	// The leaders may have changed since the config above, before the
	// reconfigure loop could see this client.
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Configure(cctx, s.protocolConfig()); err != nil {
		s.unregisterClient(c)
		return nil, errors.Join(err, c.close())
	}
	return c, nil
}

// registerClient names c and adds it to the data paths the reconfigure loop
// keeps current, unless Close has begun.
func (s *Store) registerClient(c *clientPath, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clientsClosed || s.ctx.Err() != nil {
		return errStoreClosed
	}
	if s.clients == nil {
		s.clients = map[*clientPath]struct{}{}
	}
	s.nextClient++
	c.name = fmt.Sprintf("client-%d (map %s)", s.nextClient, name)
	s.clients[c] = struct{}{}
	return nil
}

// unregisterClient removes c from the registry and reports whether it was
// there (false once WipeAll or Close has released it).
func (s *Store) unregisterClient(c *clientPath) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.clients[c]
	delete(s.clients, c)
	return ok
}

// releaseClients closes every open client and empties the registry; final
// (Close) also keeps any client from registering afterwards.
func (s *Store) releaseClients(final bool) error {
	s.mu.Lock()
	clients := s.clients
	s.clients = nil
	if final {
		s.clientsClosed = true
	}
	s.mu.Unlock()
	errs := make([]error, 0, len(clients))
	for c := range clients {
		errs = append(errs, c.close())
	}
	if len(clients) > 0 {
		s.log.Debug("clients released", zap.Int("clients", len(clients)), zap.Bool("store_closing", final))
	}
	return errors.Join(errs...)
}

// clientMap is a map opened by OpenClient; closing it closes its client.
type clientMap struct {
	*datapath.OwnedMap
	client *clientPath
}
