package kubernetes

import (
	"context"

	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
)

// DataClient is the embedded data path's client, for test doubles.
type DataClient = dataClient

// SetStartClient makes the embedded data path start its clients with start
// instead of in-process Atomix runtimes; call it before the first Map.
func SetStartClient(t *Target, start func(ctx context.Context, config rsmapiv1.ProtocolConfig) (DataClient, error)) {
	t.startClient = start
}
