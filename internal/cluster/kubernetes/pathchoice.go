package kubernetes

import (
	"context"
	"fmt"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Data paths accepted by Config.DataPath.
const (
	// DataPathAuto uses the injected sidecar when the pod has one, else the embedded data path.
	DataPathAuto = "auto"
	// DataPathSidecar opens maps through the Atomix sidecar injected into the pod.
	DataPathSidecar = "sidecar"
	// DataPathEmbedded opens maps through the binary's own Atomix runtime,
	// configured from the store's DataStore.
	DataPathEmbedded = "embedded"
)

// How the Atomix controller's injector (atomix.io v3beta4 SidecarInjector)
// marks a pod it injected: an annotation and the container it adds.
const (
	sidecarStatusAnnotation = "sidecar.atomix.io/status"
	sidecarInjected         = "injected"
	sidecarContainer        = "atomix-sidecar"
)

// chooseDataPath resolves Config.DataPath: auto reads this process's own
// pod and takes the sidecar if the injector added one. The pod spec is the
// injector's own record, so the choice is fixed before any container
// starts; probing the sidecar's port instead would race its start and
// could not tell a slow sidecar from a missing one.
func (t *Target) chooseDataPath(ctx context.Context) (string, error) {
	if t.cfg.DataPath != DataPathAuto {
		return t.cfg.DataPath, nil
	}
	if t.cfg.PodName == "" {
		t.log.Info("data path chosen", zap.String("data_path", DataPathEmbedded), zap.String("reason", "not running in a pod"))
		return DataPathEmbedded, nil
	}
	cctx, cancel := t.call(ctx)
	defer cancel()
	pod, err := t.kube.CoreV1().Pods(t.cfg.PodNamespace).Get(cctx, t.cfg.PodName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", fmt.Errorf("--data-path auto: this process's pod %s/%s was not found, so whether a sidecar was injected is unknown: choose --data-path sidecar or embedded", t.cfg.PodNamespace, t.cfg.PodName)
	}
	if err != nil {
		return "", fmt.Errorf("--data-path auto: reading this process's pod %s/%s: %w", t.cfg.PodNamespace, t.cfg.PodName, err)
	}
	injected := pod.Annotations[sidecarStatusAnnotation] == sidecarInjected
	for _, c := range pod.Spec.Containers {
		injected = injected || c.Name == sidecarContainer
	}
	path, reason := DataPathEmbedded, "no Atomix sidecar injected into pod "+pod.Name
	if injected {
		path, reason = DataPathSidecar, "Atomix sidecar injected into pod "+pod.Name
	}
	t.log.Info("data path chosen", zap.String("data_path", path), zap.String("reason", reason))
	return path, nil
}
