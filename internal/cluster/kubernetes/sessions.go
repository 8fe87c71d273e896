package kubernetes

import (
	"context"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// sessionsTarget is a target on the embedded data path, which can give
// every client a runtime and rsm sessions of its own (cluster.Sessions).
type sessionsTarget struct {
	*Target
}

var _ cluster.Sessions = sessionsTarget{}

// OpenClient opens the named map over an embedded client of its own;
// closing the map closes the client.
func (s sessionsTarget) OpenClient(ctx context.Context, name string) (cluster.Map, error) {
	e, err := s.embeddedPath(ctx)
	if err != nil {
		return nil, err
	}
	return e.OpenClient(ctx, name)
}

// ClusterTarget returns t with the capabilities of its data path: on the
// embedded data path of a raft-era store it also implements
// cluster.Sessions; through a sidecar, which holds one session per
// partition for the whole pod, it does not.
func (t *Target) ClusterTarget() cluster.Target {
	if t.dataPath == DataPathEmbedded && t.era.kind == KindRaft {
		return sessionsTarget{t}
	}
	return t
}
