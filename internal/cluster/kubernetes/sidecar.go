package kubernetes

import (
	"context"
	"fmt"
	"sync"

	sdkclient "github.com/atomix/go-sdk/pkg/client"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/datapath"
)

// sidecarPath opens maps through the Atomix sidecar injected into the pod,
// at go-sdk's default host and port ($ATOMIX_RUNTIME_HOST, $ATOMIX_RUNTIME_PORT).
type sidecarPath struct {
	mu  sync.Mutex
	sdk *sdkclient.Client
}

// Map opens the named map through the sidecar.
func (s *sidecarPath) Map(ctx context.Context, name string) (cluster.Map, error) {
	s.mu.Lock()
	if s.sdk == nil {
		s.sdk = sdkclient.NewClient()
	}
	c := s.sdk
	s.mu.Unlock()
	m, err := datapath.OpenMap(ctx, c, name)
	if err != nil {
		return nil, fmt.Errorf("through the sidecar at %s:%d: %w", c.Host, c.Port, err)
	}
	return m, nil
}

// Close closes the connection to the sidecar.
func (s *sidecarPath) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sdk == nil {
		return nil
	}
	if err := s.sdk.Close(); err != nil {
		return fmt.Errorf("closing the sidecar connection: %w", err)
	}
	return nil
}
