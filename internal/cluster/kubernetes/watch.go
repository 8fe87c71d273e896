package kubernetes

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// watchHandle is a watch and the context that bounds it.
type watchHandle struct {
	w      watch.Interface
	cancel context.CancelFunc
}

// Stop ends the watch; calling it more than once is harmless.
func (h watchHandle) Stop() {
	if h.w != nil {
		h.w.Stop()
	}
	if h.cancel != nil {
		h.cancel()
	}
}

func typesUID(uid string) *types.UID {
	u := types.UID(uid)
	return &u
}
