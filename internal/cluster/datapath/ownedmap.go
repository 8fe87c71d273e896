package datapath

import (
	"context"
	"errors"
	"fmt"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// OwnedMap is a map opened over a client of its own: closing the map closes
// the client too.
type OwnedMap struct {
	cluster.Map
	// Name names the client in errors.
	Name string
	// Release takes the client out of its owner's registry and reports
	// whether it was still there (false once the owner closed it).
	Release func() bool
	// CloseClient closes the client; its error names the client.
	CloseClient func() error
}

// Close closes the map and its client; when the owner already closed the
// client, it only makes sure of that.
func (m *OwnedMap) Close(ctx context.Context) error {
	if !m.Release() {
		return m.CloseClient()
	}
	var errs []error
	if err := m.Map.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("%s: closing the map: %w", m.Name, err))
	}
	if err := m.CloseClient(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
