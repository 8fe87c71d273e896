package kubernetes

import (
	"context"
	"errors"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// DataPath is the data path maps are opened through: sidecar or embedded.
func (t *Target) DataPath() string { return t.dataPath }

// Map opens the named map through the data path: the injected sidecar, or
// the embedded runtime's shared client.
func (t *Target) Map(ctx context.Context, name string) (cluster.Map, error) {
	if t.era.kind != KindRaft {
		return nil, errors.New("the data path needs a raft-era store: go-sdk v0.13.3 cannot talk to a consensus-era proxy, and the embedded data path follows the raft controller's DataStore")
	}
	if t.dataPath == DataPathSidecar {
		return t.sidecarPath().Map(ctx, name)
	}
	e, err := t.embeddedPath(ctx)
	if err != nil {
		return nil, err
	}
	return e.Map(ctx, name)
}

// sidecarPath returns the sidecar data path.
func (t *Target) sidecarPath() *sidecarPath {
	t.dpMu.Lock()
	defer t.dpMu.Unlock()
	if t.sidecar == nil {
		t.sidecar = &sidecarPath{}
	}
	return t.sidecar
}

// embeddedPath returns the embedded data path, started on first use; a
// failed start is retried by the next call.
func (t *Target) embeddedPath(ctx context.Context) (*embedded, error) {
	t.dpMu.Lock()
	defer t.dpMu.Unlock()
	if t.dpClosed {
		return nil, errDataPathClosed
	}
	if t.embedded == nil {
		e, err := startEmbedded(ctx, t)
		if err != nil {
			return nil, err
		}
		t.embedded = e
	}
	return t.embedded, nil
}

// closeDataPath closes the data path; no map opens after it.
func (t *Target) closeDataPath() error {
	t.dpMu.Lock()
	defer t.dpMu.Unlock()
	t.dpClosed = true
	var errs []error
	if t.sidecar != nil {
		errs = append(errs, t.sidecar.Close())
	}
	if t.embedded != nil {
		errs = append(errs, t.embedded.Close())
	}
	return errors.Join(errs...)
}
