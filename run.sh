#!/usr/bin/env bash
# Deploys the failover experiment on minikube: Atomix (Helm, pinned chart
# versions), the Raft store, the storage profile and the experiment Deployment,
# then prints how to follow it and fetch the results. Safe to re-run: every
# step converges (helm upgrade --install, kubectl apply) and a re-run restarts
# the experiment pod with the freshly built image.
set -euo pipefail

NAMESPACE="${NAMESPACE:-atomix-failover}"
ATOMIX_NAMESPACE="${ATOMIX_NAMESPACE:-kube-system}"
KUBE_CONTEXT="${KUBE_CONTEXT:-minikube}"
IMAGE="${IMAGE:-atomix-failover:local}"
TIMEOUT="${TIMEOUT:-600s}"
DEPLOYMENT=enhanced-failover-experiment
STORE=consensus-store
RESULTS=/app/logs/enhanced-failover-test-results.log

# Atomix Helm charts (GitHub releases of atomix/atomix, published with chart-releaser).
ATOMIX_HELM_REPO="${ATOMIX_HELM_REPO:-https://atomix.github.io/atomix}"
ATOMIX_CHART_VERSION="${ATOMIX_CHART_VERSION:-1.1.2}"
RAFT_CHART_VERSION="${RAFT_CHART_VERSION:-0.7.0}"
SIDECAR_CHART_VERSION="${SIDECAR_CHART_VERSION:-1.1.3}"

cd "$(dirname "${BASH_SOURCE[0]}")"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

missing=0
require() {
  if ! command -v "$1" >/dev/null 2>&1; then
    printf 'run.sh: %s is not installed; see %s\n' "$1" "$2" >&2
    missing=1
  fi
}
require minikube https://minikube.sigs.k8s.io/docs/start/
require kubectl https://kubernetes.io/docs/tasks/tools/
require helm https://helm.sh/docs/intro/install/
require docker https://docs.docker.com/engine/install/
if [ "$missing" -ne 0 ]; then
  die "install the missing tools above and run ./run.sh again"
fi
docker info >/dev/null 2>&1 || die "docker is installed but its engine is not reachable (is the Docker daemon running?)"

kc() { kubectl --context "$KUBE_CONTEXT" "$@"; }
hc() { helm --kube-context "$KUBE_CONTEXT" "$@"; }

if ! minikube status >/dev/null 2>&1; then
  log "starting minikube"
  minikube start
else
  log "minikube is running"
fi

log "installing Atomix (chart atomix ${ATOMIX_CHART_VERSION}) into ${ATOMIX_NAMESPACE}"
hc repo add atomix "$ATOMIX_HELM_REPO" --force-update >/dev/null
hc repo update atomix >/dev/null
hc upgrade --install atomix atomix/atomix --version "$ATOMIX_CHART_VERSION" \
  --namespace "$ATOMIX_NAMESPACE" --wait --timeout "$TIMEOUT"
if ! kc get crd raftstores.raft.atomix.io >/dev/null 2>&1; then
  log "installing the Raft controller (chart atomix-raft-controller ${RAFT_CHART_VERSION})"
  hc upgrade --install atomix-raft-controller atomix/atomix-raft-controller --version "$RAFT_CHART_VERSION" \
    --namespace "$ATOMIX_NAMESPACE" --wait --timeout "$TIMEOUT"
fi
webhooks="$(kc get mutatingwebhookconfigurations -o name)"
case "$webhooks" in
  *sidecar*) ;;
  *)
    log "installing the sidecar injector (chart atomix-sidecar-controller ${SIDECAR_CHART_VERSION})"
    hc upgrade --install atomix-sidecar-controller atomix/atomix-sidecar-controller --version "$SIDECAR_CHART_VERSION" \
      --namespace "$ATOMIX_NAMESPACE" --wait --timeout "$TIMEOUT"
    ;;
esac
kc wait --for=condition=Established --timeout="$TIMEOUT" \
  crd/raftclusters.raft.atomix.io crd/raftstores.raft.atomix.io crd/storageprofiles.atomix.io

log "creating the Raft store ${STORE} in ${NAMESPACE}"
kc create namespace "$NAMESPACE" --dry-run=client -o yaml | kc apply -f -
kc apply -f consensus-store.yaml
log "waiting for RaftStore ${STORE} to be Ready"
kc -n "$NAMESPACE" wait --for=jsonpath='{.status.state}'=Ready --timeout="$TIMEOUT" "raftstore/${STORE}"
kc apply -f storage-profile.yaml

log "building ${IMAGE} and loading it into minikube"
docker build -t "$IMAGE" .
minikube image load "$IMAGE"

log "deploying ${DEPLOYMENT}"
kc apply -f deployment.yaml
kc -n "$NAMESPACE" rollout restart "deployment/${DEPLOYMENT}"
kc -n "$NAMESPACE" rollout status "deployment/${DEPLOYMENT}" --timeout="$TIMEOUT"
pod="$(kc -n "$NAMESPACE" get pods -l "app.kubernetes.io/name=${DEPLOYMENT}" \
  --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')"
[ -n "$pod" ] || die "no running pod of deployment ${DEPLOYMENT}"

cat <<NEXT

The experiment runs in pod ${pod} (namespace ${NAMESPACE}).

Follow it:
  kubectl logs -f deployment/${DEPLOYMENT} -n ${NAMESPACE}

Inspect or drive the store by hand:
  kubectl exec -n ${NAMESPACE} ${pod} -- atomix-failover leaders --target kubernetes --store ${STORE}
  kubectl exec -n ${NAMESPACE} ${pod} -- atomix-failover kill-leader --target kubernetes --store ${STORE} --partition 1 --dry-run

When it has finished, copy the results and analyze them:
  kubectl cp ${NAMESPACE}/${pod}:${RESULTS} ./results.log -c experiment
  go run analyze-results.go results.log

Re-running ./run.sh restarts the pod: copy the results first.
NEXT
