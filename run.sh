#!/usr/bin/env bash
# Deploys the failover experiment on Kubernetes: Atomix (Helm, pinned chart
# versions), the Raft store, the storage profile and the experiment Deployment,
# then prints how to follow it and fetch the results. Safe to re-run: every
# step converges (helm upgrade --install, kubectl apply) and a re-run restarts
# the experiment pod with the freshly built image.
#
# By default it works on minikube: starts it if needed, builds the image with
# docker and loads it into minikube, installs Atomix with Helm. On any other
# cluster, skip what is not wanted (a flag, or its environment variable = 1):
#
# Usage: ./run.sh [options]
#   --skip-minikube       SKIP_MINIKUBE=1  do not start minikube or load the image
#                                          into it (the cluster is another one)
#   --skip-build          SKIP_BUILD=1     do not build the image: IMAGE is
#                                          already on the cluster's nodes
#                                          (deployment.yaml: imagePullPolicy Never)
#   --skip-helm           SKIP_HELM=1      do not install Atomix with Helm: it is
#                                          installed (its CRDs are checked)
#   --kube-context CTX    KUBE_CONTEXT     kubectl and helm context; empty means
#                                          the current context (default: minikube,
#                                          or the current context with --skip-minikube)
#   --image IMAGE         IMAGE            the experiment image (default
#                                          atomix-failover:local, deployment.yaml's)
#   --timeout DURATION    TIMEOUT          for each wait (default 600s)
#   -h, --help                             print this help and exit
#
# Tools needed: kubectl always; minikube unless --skip-minikube; docker unless
# --skip-build; helm unless --skip-helm. Without minikube and with a build, the
# image is built into the local docker engine only: make it reach the nodes.
# More environment: NAMESPACE (atomix-failover; the manifests name it too),
# ATOMIX_NAMESPACE (kube-system), ATOMIX_HELM_REPO, ATOMIX_CHART_VERSION,
# RAFT_CHART_VERSION, SIDECAR_CHART_VERSION. Flags win over the environment.
# Exit status: 0 deployed, 1 failed, 2 usage error.
set -euo pipefail

script="${BASH_SOURCE[0]}"
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$script"; }
usage_error() {
  printf 'run.sh: %s\n' "$*" >&2
  printf "run './run.sh --help' for the options\n" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --skip-minikube) SKIP_MINIKUBE=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    --skip-helm) SKIP_HELM=1 ;;
    --kube-context | --image | --timeout)
      [ $# -ge 2 ] || usage_error "$1 needs a value"
      case "$2" in -*) usage_error "$1 needs a value, not $2" ;; esac
      case "$1" in
        --kube-context) KUBE_CONTEXT="$2" ;;
        --image) IMAGE="$2" ;;
        --timeout) TIMEOUT="$2" ;;
      esac
      shift
      ;;
    --kube-context=*) KUBE_CONTEXT="${1#*=}" ;;
    --image=*) IMAGE="${1#*=}" ;;
    --timeout=*) TIMEOUT="${1#*=}" ;;
    -*) usage_error "unknown option: $1" ;;
    *) usage_error "unexpected argument: $1 (run.sh takes options only)" ;;
  esac
  shift
done

# is_yes NAME VALUE: whether VALUE, environment variable NAME's, says yes.
is_yes() {
  case "$2" in
    1 | true | yes) return 0 ;;
    0 | false | no | "") return 1 ;;
    *) usage_error "$1=$2: want 1 (or true, yes) or 0 (or false, no, empty)" ;;
  esac
}
use_minikube=1 build=1 helm_install=1
if is_yes SKIP_MINIKUBE "${SKIP_MINIKUBE:-}"; then use_minikube=0; fi
if is_yes SKIP_BUILD "${SKIP_BUILD:-}"; then build=0; fi
if is_yes SKIP_HELM "${SKIP_HELM:-}"; then helm_install=0; fi
if [ -z "${KUBE_CONTEXT+set}" ]; then
  if [ "$use_minikube" -eq 1 ]; then KUBE_CONTEXT=minikube; else KUBE_CONTEXT=""; fi
fi
[ -n "${IMAGE:-}" ] || IMAGE=atomix-failover:local
[ -n "${TIMEOUT:-}" ] || TIMEOUT=600s

NAMESPACE="${NAMESPACE:-atomix-failover}"
ATOMIX_NAMESPACE="${ATOMIX_NAMESPACE:-kube-system}"
DEPLOYMENT=enhanced-failover-experiment
CONTAINER=experiment
STORE=consensus-store
RAFT_CLUSTER=consensus-cluster
RESULTS=/app/logs/enhanced-failover-test-results.log
ATOMIX_CRDS=(crd/raftclusters.raft.atomix.io crd/raftstores.raft.atomix.io crd/storageprofiles.atomix.io)

# Atomix Helm charts (GitHub releases of atomix/atomix, published with chart-releaser).
ATOMIX_HELM_REPO="${ATOMIX_HELM_REPO:-https://atomix.github.io/atomix}"
ATOMIX_CHART_VERSION="${ATOMIX_CHART_VERSION:-1.1.2}"
RAFT_CHART_VERSION="${RAFT_CHART_VERSION:-0.7.0}"
SIDECAR_CHART_VERSION="${SIDECAR_CHART_VERSION:-1.1.3}"

cd "$(dirname "$script")"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

missing=0
require() {
  if ! command -v "$1" >/dev/null 2>&1; then
    printf 'run.sh: %s is not installed (needed %s); see %s\n' "$1" "$2" "$3" >&2
    missing=1
  fi
}
require kubectl "always" https://kubernetes.io/docs/tasks/tools/
if [ "$use_minikube" -eq 1 ]; then
  require minikube "unless --skip-minikube" https://minikube.sigs.k8s.io/docs/start/
fi
if [ "$helm_install" -eq 1 ]; then
  require helm "unless --skip-helm" https://helm.sh/docs/intro/install/
fi
if [ "$build" -eq 1 ]; then
  require docker "unless --skip-build" https://docs.docker.com/engine/install/
fi
if [ "$missing" -ne 0 ]; then
  die "install the missing tools above (or skip their steps: ./run.sh --help) and run ./run.sh again"
fi
if [ "$build" -eq 1 ]; then
  docker info >/dev/null 2>&1 || die "docker is installed but its engine is not reachable (is the Docker daemon running?)"
fi

# An empty KUBE_CONTEXT passes no --context: kubectl and helm use the current one.
kube_args=()
helm_args=()
if [ -n "$KUBE_CONTEXT" ]; then
  kube_args=(--context "$KUBE_CONTEXT")
  helm_args=(--kube-context "$KUBE_CONTEXT")
fi
# ${a[@]+"${a[@]}"}: an empty array under set -u on bash 3.2 (macOS).
kc() { kubectl ${kube_args[@]+"${kube_args[@]}"} "$@"; }
hc() { helm ${helm_args[@]+"${helm_args[@]}"} "$@"; }

if [ "$use_minikube" -eq 1 ]; then
  if ! minikube status >/dev/null 2>&1; then
    log "starting minikube"
    minikube start
  else
    log "minikube is running"
  fi
fi

current_context="$(kubectl config current-context 2>/dev/null || true)"
context_name="${KUBE_CONTEXT:-$current_context}"
[ -n "$context_name" ] || die "no current kubectl context: set one (kubectl config use-context) or pass --kube-context"
kc get --raw=/version >/dev/null 2>&1 || die "cannot reach the cluster of context ${context_name} (kubectl --context ${context_name} get --raw=/version)"
log "using context ${context_name}"

if [ "$helm_install" -eq 1 ]; then
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
else
  log "not installing Atomix (--skip-helm): checking that its CRDs are there"
  for crd in "${ATOMIX_CRDS[@]}"; do
    kc get "$crd" >/dev/null 2>&1 ||
      die "Atomix is not installed in context ${context_name}: ${crd#crd/} is missing; run without --skip-helm to install it"
  done
  case "$(kc get mutatingwebhookconfigurations -o name 2>/dev/null || true)" in
    *sidecar*) ;;
    *) log "note: no Atomix sidecar injector webhook found; the experiment pod gets no sidecar" ;;
  esac
fi
kc wait --for=condition=Established --timeout="$TIMEOUT" "${ATOMIX_CRDS[@]}"

log "creating the Raft store ${STORE} in ${NAMESPACE}"
kc create namespace "$NAMESPACE" --dry-run=client -o yaml | kc apply -f -
kc apply -f consensus-store.yaml
# Not the RaftStore's state: raft controller v0.7.0 can leave it NotReady for good
# once a raft pod was replaced (a re-run after a campaign), while raft is fine.
log "waiting for RaftCluster ${RAFT_CLUSTER} to be Ready and every partition of RaftStore ${STORE} to have a leader"
kc -n "$NAMESPACE" wait --for=jsonpath='{.status.state}'=Ready --timeout="$TIMEOUT" "raftcluster/${RAFT_CLUSTER}"
kc -n "$NAMESPACE" wait --for=jsonpath='{.status.leader.name}' --timeout="$TIMEOUT" raftpartitions -l "atomix.io/store=${STORE}"
kc apply -f storage-profile.yaml

if [ "$build" -eq 1 ]; then
  log "building ${IMAGE}"
  docker build -t "$IMAGE" .
  if [ "$use_minikube" -eq 1 ]; then
    log "loading ${IMAGE} into minikube"
    minikube image load "$IMAGE"
  else
    log "note: ${IMAGE} is in the local docker engine only; the nodes of ${context_name} must have it (imagePullPolicy: Never): load or push it"
  fi
else
  log "not building (--skip-build): ${IMAGE} must already be on the nodes of ${context_name}"
fi

log "deploying ${DEPLOYMENT}"
existed=0
if kc -n "$NAMESPACE" get "deployment/${DEPLOYMENT}" -o name >/dev/null 2>&1; then
  existed=1
fi
kc apply -f deployment.yaml
deployed_image="$(kc -n "$NAMESPACE" get "deployment/${DEPLOYMENT}" \
  -o jsonpath="{.spec.template.spec.containers[?(@.name==\"${CONTAINER}\")].image}")"
if [ "$deployed_image" != "$IMAGE" ]; then
  log "setting the image of container ${CONTAINER} to ${IMAGE} (deployment.yaml says ${deployed_image})"
  kc -n "$NAMESPACE" set image "deployment/${DEPLOYMENT}" "${CONTAINER}=${IMAGE}"
fi
# A first apply starts the pod; restarting it then would kill it mid-start.
if [ "$existed" -eq 1 ]; then
  kc -n "$NAMESPACE" rollout restart "deployment/${DEPLOYMENT}"
fi
if ! kc -n "$NAMESPACE" rollout status "deployment/${DEPLOYMENT}" --timeout="$TIMEOUT"; then
  kc -n "$NAMESPACE" get pods -l "app.kubernetes.io/name=${DEPLOYMENT}" -o wide >&2 || true
  kc -n "$NAMESPACE" describe pods -l "app.kubernetes.io/name=${DEPLOYMENT}" >&2 || true
  die "deployment ${DEPLOYMENT} did not become ready within ${TIMEOUT} (see the pods above; ErrImageNeverPull: ${IMAGE} is not on the node)"
fi
pod="$(kc -n "$NAMESPACE" get pods -l "app.kubernetes.io/name=${DEPLOYMENT}" \
  --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')"
[ -n "$pod" ] || die "no running pod of deployment ${DEPLOYMENT}"

# The commands below name the context unless it is the current one.
kubectl_cmd=kubectl
if [ -n "$KUBE_CONTEXT" ] && [ "$KUBE_CONTEXT" != "$current_context" ]; then
  kubectl_cmd="kubectl --context ${KUBE_CONTEXT}"
fi

cat <<NEXT

The experiment runs in pod ${pod} (namespace ${NAMESPACE}).

Follow it:
  ${kubectl_cmd} logs -f deployment/${DEPLOYMENT} -n ${NAMESPACE}

Inspect or drive the store by hand:
  ${kubectl_cmd} exec -n ${NAMESPACE} ${pod} -- atomix-failover leaders --target kubernetes --store ${STORE}
  ${kubectl_cmd} exec -n ${NAMESPACE} ${pod} -- atomix-failover kill-leader --target kubernetes --store ${STORE} --partition 1 --dry-run

When it has finished, copy the results and analyze them:
  ${kubectl_cmd} cp ${NAMESPACE}/${pod}:${RESULTS} ./results.log -c ${CONTAINER}
  go run analyze-results.go results.log

Re-running ./run.sh restarts the pod: copy the results first.
NEXT
