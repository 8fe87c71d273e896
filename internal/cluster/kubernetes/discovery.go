package kubernetes

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

type discoveryWithContext interface {
	ServerResourcesForGroupVersionWithContext(ctx context.Context, groupVersion string) (*metav1.APIResourceList, error)
}

// serves reports whether the API server serves every resource of the era.
func (t *Target) serves(ctx context.Context, e *era) (bool, error) {
	cctx, cancel := t.call(ctx)
	defer cancel()
	var list *metav1.APIResourceList
	var err error
	if d, ok := t.kube.Discovery().(discoveryWithContext); ok {
		list, err = d.ServerResourcesForGroupVersionWithContext(cctx, e.gv.String())
	} else {
		list, err = t.kube.Discovery().ServerResourcesForGroupVersion(e.gv.String())
	}
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("discovering %s: %w", e.gv, err)
	}
	want := map[string]bool{e.storeGVR.Resource: false, e.partitionGVR.Resource: false, e.memberGVR.Resource: false}
	for _, r := range list.APIResources {
		if _, ok := want[r.Name]; ok {
			want[r.Name] = true
		}
	}
	for _, ok := range want {
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// foundStore is a store object and the era that serves it.
type foundStore struct {
	era *era
	obj *unstructured.Unstructured
}

// resolveStore picks the era (API discovery or Config.StoreKind) and reads the store.
func (t *Target) resolveStore(ctx context.Context) error {
	served, err := t.servedEras(ctx)
	if err != nil {
		return err
	}
	var stores []foundStore
	for _, e := range served {
		found, err := t.findStores(ctx, e)
		if err != nil {
			return err
		}
		stores = append(stores, found...)
		if t.cfg.Store != "" && len(found) > 0 {
			break
		}
	}
	s, err := t.onlyStore(stores)
	if err != nil {
		return err
	}
	info, err := s.era.parseStore(s.obj)
	if err != nil {
		return err
	}
	t.era, t.store = s.era, info
	return nil
}

// servedEras returns the eras to look in: every era the API server serves, or the configured one.
func (t *Target) servedEras(ctx context.Context) ([]*era, error) {
	kinds := []string{KindRaft, KindConsensus}
	if t.cfg.StoreKind != KindAuto {
		kinds = []string{t.cfg.StoreKind}
	}
	var served []*era
	for _, k := range kinds {
		e := newEra(k)
		ok, err := t.serves(ctx, e)
		if err != nil {
			return nil, err
		}
		if ok {
			served = append(served, e)
		}
	}
	if len(served) == 0 {
		if t.cfg.StoreKind == KindAuto {
			return nil, fmt.Errorf("neither %s nor %s is served: is Atomix installed?", raftGV, consensusGV)
		}
		return nil, fmt.Errorf("%s is not served: is that Atomix era installed?", newEra(kinds[0]).gv)
	}
	return served, nil
}

// findStores reads the configured store of era e, or lists all of its stores when none is configured.
func (t *Target) findStores(ctx context.Context, e *era) ([]foundStore, error) {
	res := t.dyn.Resource(e.storeGVR).Namespace(t.cfg.Namespace)
	cctx, cancel := t.call(ctx)
	defer cancel()
	if t.cfg.Store != "" {
		u, err := res.Get(cctx, t.cfg.Store, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s %s/%s: %w", e.storeKind, t.cfg.Namespace, t.cfg.Store, err)
		}
		return []foundStore{{e, u}}, nil
	}
	list, err := res.List(cctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing %s in %s: %w", e.storeResource, t.cfg.Namespace, err)
	}
	out := make([]foundStore, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, foundStore{e, &list.Items[i]})
	}
	return out, nil
}

// onlyStore insists on exactly one store.
func (t *Target) onlyStore(stores []foundStore) (foundStore, error) {
	switch {
	case len(stores) == 0 && t.cfg.Store != "":
		return foundStore{}, fmt.Errorf("store %q not found in namespace %s", t.cfg.Store, t.cfg.Namespace)
	case len(stores) == 0:
		return foundStore{}, fmt.Errorf("no Atomix store in namespace %s", t.cfg.Namespace)
	case len(stores) > 1:
		names := make([]string, len(stores))
		for i, s := range stores {
			names[i] = s.era.storeKind + "/" + s.obj.GetName()
		}
		return foundStore{}, fmt.Errorf("namespace %s holds several stores (%v): choose one with --store", t.cfg.Namespace, names)
	}
	return stores[0], nil
}
