#!/usr/bin/env bash
# cluster.sh — a one-node Kubernetes v1.34 cluster on this machine, for the
# end-to-end test of the Kubernetes target (issue 10). Everything runs inside
# a network namespace of its own that has no link to the host's network.
#
#   hack/cluster/cluster.sh build    build (once) and cache every binary, install apt packages
#   hack/cluster/cluster.sh up       bring the cluster up (builds first if needed)
#   hack/cluster/cluster.sh down     tear everything down; idempotent, also after a killed `up`
#   hack/cluster/cluster.sh status   what is running
#   hack/cluster/cluster.sh kubectl ARGS...   kubectl inside the namespace, as admin
#   hack/cluster/cluster.sh logs [COMPONENT]  tails of the component logs
#   hack/cluster/cluster.sh load-image TAR    import a docker-archive image into the node
#   hack/cluster/cluster.sh env      the cluster's paths and names as KEY=VALUE lines
#
# Environment:
#   CLUSTER_DIR     the cluster's own directory (default /tmp/atomix-failover-cluster):
#                   config, certificates, data, logs (logs/), PIDs (pids/), records/
#   CLUSTER_NETNS   the network namespace's name (default atomix-failover)
#   CLUSTER_CACHE   binaries cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/atomix-failover-cluster)
#   UP_TIMEOUT      seconds each wait of `up` may take (default 120)
#
# Needs root. Builds run under `nice -n 10`.
set -euo pipefail

# ---- pinned versions --------------------------------------------------------
readonly K8S_VERSION=v1.34.4
readonly ETCD_VERSION=v3.6.16
readonly COREDNS_VERSION=v1.12.1
readonly RAFT_VERSION=v0.7.0 # github.com/atomix/atomix/stores/raft, see go.mod
readonly APT_PACKAGES=(containerd runc containernetworking-plugins iptables conntrack socat)

# ---- layout -------------------------------------------------------------------
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
REPO=$(cd "$HERE/../.." && pwd)
readonly REPO
readonly CLUSTER_DIR=${CLUSTER_DIR:-/tmp/atomix-failover-cluster}
readonly NETNS=${CLUSTER_NETNS:-atomix-failover}
readonly NETNS_PATH=/run/netns/$NETNS
readonly CACHE_ROOT=${CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/atomix-failover-cluster}
GO_VERSION=$(go env GOVERSION 2>/dev/null || echo nogo)
readonly GO_VERSION
readonly VERSIONS_KEY=k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_coredns-${COREDNS_VERSION}_raft-${RAFT_VERSION}_${GO_VERSION}
readonly BIN=$CACHE_ROOT/$VERSIONS_KEY/bin
readonly UP_TIMEOUT=${UP_TIMEOUT:-120}

# Network: one veth pair, both ends inside the namespace. The default route
# points at an address nobody holds, so nothing is routed anywhere.
readonly NODE_IP=10.250.0.1
readonly NODE_CIDR=10.250.0.1/24
readonly DEAD_GATEWAY=10.250.0.254
readonly VETH_NODE=afc-node
readonly VETH_PEER=afc-peer
readonly POD_CIDR=10.244.0.0/24
readonly SERVICE_CIDR=10.96.0.0/12
readonly SERVICE_IP=10.96.0.1
readonly DNS_IP=10.96.0.10
readonly NODE_NAME=atomix-failover-node
readonly CNI_NETWORK=atomix-failover-bridge
readonly CNI_BRIDGE=afc-cni0
readonly CGROUP_NAME=atomix-failover-cluster
readonly SANDBOX_IMAGE=localhost/atomix-failover/pause:v1
readonly CONTROLLER_IMAGE=localhost/atomix/raft-controller:$RAFT_VERSION
readonly NODE_IMAGE=localhost/atomix/raft-node:$RAFT_VERSION

readonly K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
readonly OUR_BINS=(atomix-raft-controller atomix-raft-node pause)
# The image writer: the main module's hack/image/main.go, in its -generic mode.
readonly IMAGE_BIN=image

# The paths outside CLUSTER_DIR that kubelet, containerd and CNI use whatever
# they are told (REAL-CLUSTER.md, gotcha 7), and the pod log links of kubelet.
readonly DEVICE_PLUGIN_SOCK=/var/lib/kubelet/device-plugins/kubelet.sock
readonly SHIM_SOCKET_DIR=/run/containerd/s
readonly CNI_RESULTS_DIR=/var/lib/cni/results
readonly CONTAINER_LOG_LINKS=/var/log/containers

log() { printf '%s cluster: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

need_root() { [[ $(id -u) == 0 ]] || die "must run as root"; }

# The cluster dir is matched against command lines and removed whole by
# `down`: it must be a dedicated directory, at least two levels deep.
readonly MARKER=$CLUSTER_DIR/.atomix-failover-cluster
[[ $CLUSTER_DIR =~ ^/[A-Za-z0-9._-]+/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$ && $CLUSTER_DIR != *..* ]] ||
	die "CLUSTER_DIR must be an absolute path at least two levels deep, without spaces or ..: $CLUSTER_DIR"

# ---- build ------------------------------------------------------------------

# ensure_packages installs the Debian packages the node needs when missing.
ensure_packages() {
	local missing=() p
	for p in "${APT_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		log "apt: cached (${APT_PACKAGES[*]})"
		return
	fi
	log "apt: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# inputs_key NAME FILES... prints a key for the inputs that made bin/NAME.
inputs_key() {
	local name=$1
	shift
	{
		echo "$name $VERSIONS_KEY"
		cat "$@"
	} | sha256sum | cut -c1-16
}

# fresh NAME KEY succeeds when bin/NAME was built from inputs with KEY.
fresh() { [[ -x $BIN/$1 && -f $BIN/.$1.key && $(cat "$BIN/.$1.key") == "$2" ]]; }

stamp() { echo "$2" >"$BIN/.$1.key"; }

gobuild() { nice -n 10 env CGO_ENABLED=0 go build -trimpath "$@"; }

build_kubernetes() {
	local mod=$HERE/build/kubernetes key missing=() pkgs=() n p ldx=()
	key=$(inputs_key kubernetes "$mod/go.mod" "$mod/go.sum")
	for n in "${K8S_BINS[@]}"; do
		if fresh "$n" "$key"; then log "cached: $n"; else missing+=("$n"); fi
	done
	((${#missing[@]})) || return 0
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldx+=("-X $p.gitVersion=$K8S_VERSION" "-X $p.gitMajor=1" "-X $p.gitMinor=34"
			"-X $p.gitTreeState=clean" "-X $p.gitCommit=0000000000000000000000000000000000000000"
			"-X $p.buildDate=1970-01-01T00:00:00Z")
	done
	for n in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$n"); done
	log "building ${missing[*]} ($K8S_VERSION; cold: about 10-15 min on 2 cores)"
	build_into_bin "$mod" "$key" "-s -w ${ldx[*]}" "${missing[*]}" "${pkgs[@]}"
}

# build_into_bin DIR KEY LDFLAGS "NAMES" PKG... builds the packages in DIR
# and moves each named binary into BIN, stamped with KEY.
build_into_bin() {
	local dir=$1 key=$2 ldflags=$3 n names
	read -ra names <<<"$4"
	shift 4
	local tmp=$BIN/.tmp-build out
	rm -rf "$tmp" && mkdir -p "$tmp"
	# One binary is named by -o (a package path's last element, or a file's
	# name, may not be its name); several land in the directory by package.
	out=$tmp/
	((${#names[@]} == 1)) && out=$tmp/${names[0]}
	(cd "$dir" && gobuild -ldflags "$ldflags" -o "$out" "$@")
	for n in "${names[@]}"; do
		mv -f "$tmp/$n" "$BIN/$n"
		stamp "$n" "$key"
		log "built: $n"
	done
	rmdir "$tmp"
}

# build_one NAME KEY DIR PKG builds one binary in DIR unless the cached one
# was built from KEY.
build_one() {
	local n=$1 key=$2 dir=$3 pkg=$4
	if fresh "$n" "$key"; then
		log "cached: $n"
		return
	fi
	log "building $n"
	build_into_bin "$dir" "$key" "-s -w" "$n" "$pkg"
}

build_etcd() {
	local mod=$HERE/build/etcd
	build_one etcd "$(inputs_key etcd "$mod/go.mod" "$mod/go.sum")" "$mod" go.etcd.io/etcd/server/v3
}

build_coredns() {
	local key
	key=$(inputs_key coredns /dev/null)
	if fresh coredns "$key"; then
		log "cached: coredns"
		return
	fi
	log "building coredns $COREDNS_VERSION"
	local tmp=$BIN/.tmp-coredns
	rm -rf "$tmp" && mkdir -p "$tmp"
	# go install pkg@version: CoreDNS's own go.mod and go.sum pin its dependencies.
	(cd / && GOBIN=$tmp GOFLAGS=-mod=mod nice -n 10 env CGO_ENABLED=0 \
		go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION")
	mv -f "$tmp/coredns" "$BIN/coredns"
	rmdir "$tmp"
	stamp coredns "$key"
	log "built: coredns"
}

build_ours() {
	local key missing=() n pkgs=()
	key=$(inputs_key ours "$HERE/go.mod" "$HERE/go.sum" "$HERE"/cmd/*/*.go)
	for n in "${OUR_BINS[@]}"; do
		if fresh "$n" "$key"; then log "cached: $n"; else missing+=("$n"); fi
	done
	((${#missing[@]})) || return 0
	for n in "${missing[@]}"; do
		case $n in
		atomix-raft-node) pkgs+=(github.com/atomix/atomix/stores/raft/cmd/atomix-raft-node) ;;
		*) pkgs+=("./cmd/$n") ;;
		esac
	done
	log "building ${missing[*]}"
	build_into_bin "$HERE" "$key" "-s -w" "${missing[*]}" "${pkgs[@]}"
}

# build_image builds hack/image/main.go (the main module's, standard library
# only; a file named on the command line ignores its build tag).
build_image() {
	build_one "$IMAGE_BIN" "$(inputs_key "$IMAGE_BIN" "$REPO/hack/image/main.go")" "$REPO" hack/image/main.go
}

cmd_build() {
	need_root
	command -v go >/dev/null || die "go is not installed"
	local start=$SECONDS
	ensure_packages
	mkdir -p "$BIN"
	log "cache: $BIN"
	build_ours
	build_image
	build_etcd
	build_coredns
	build_kubernetes
	log "build done in $((SECONDS - start)) s"
}

all_built() {
	local n
	for n in "${K8S_BINS[@]}" "${OUR_BINS[@]}" "$IMAGE_BIN" etcd coredns; do
		[[ -x $BIN/$n ]] || return 1
	done
}

# ---- helpers for up/down ------------------------------------------------------

in_ns() { nsenter --net="$NETNS_PATH" -- "$@"; }

kubectl_ns() { in_ns "$BIN/kubectl" --kubeconfig "$CLUSTER_DIR/pki/admin.kubeconfig" "$@"; }

# record KIND VALUE notes something `down` must undo.
record() { echo "$2" >>"$CLUSTER_DIR/records/$1"; }

# start NAME BINARY ARGS... starts a component inside the namespace, detached
# from this shell (own session), its output in logs/NAME.log, its PID in
# pids/NAME.pid. nsenter and setsid exec: the PID is the component's.
start() {
	local name=$1 bin=$2
	shift 2
	log "starting $name"
	(exec setsid nsenter --net="$NETNS_PATH" -- "$bin" "$@" \
		>>"$CLUSTER_DIR/logs/$name.log" 2>&1 </dev/null) &
	echo $! >"$CLUSTER_DIR/pids/$name.pid"
}

# wait_for WHAT CMD... polls CMD every 0.2 s until it succeeds, for at most
# UP_TIMEOUT seconds, and fails with the component logs otherwise. It also
# fails as soon as a started component has exited.
wait_for() {
	local what=$1 deadline=$((SECONDS + UP_TIMEOUT)) start=$SECONDS
	shift
	until "$@" >/dev/null 2>&1; do
		check_alive
		if ((SECONDS >= deadline)); then
			log "timed out after ${UP_TIMEOUT}s waiting for $what"
			show_logs
			exit 1
		fi
		sleep 0.2
	done
	log "ready: $what ($((SECONDS - start)) s)"
}

check_alive() {
	local f name pid
	for f in "$CLUSTER_DIR"/pids/*.pid; do
		[[ -e $f ]] || continue
		name=$(basename "$f" .pid)
		pid=$(cat "$f")
		if ! kill -0 "$pid" 2>/dev/null; then
			log "$name (pid $pid) has exited"
			show_logs
			exit 1
		fi
	done
}

show_logs() {
	local f
	for f in "$CLUSTER_DIR"/logs/*.log; do
		[[ -e $f ]] || continue
		printf '\n===== %s (last 40 lines) =====\n' "$f" >&2
		tail -n 40 "$f" >&2
	done
}

# ---- up -----------------------------------------------------------------------

make_netns() {
	[[ -e $NETNS_PATH ]] && die "namespace $NETNS exists: run down first"
	ip netns add "$NETNS"
	record netns "$NETNS"
	ip -n "$NETNS" link set lo up
	# Both ends are created inside the namespace: the host never sees them.
	ip -n "$NETNS" link add "$VETH_NODE" type veth peer name "$VETH_PEER"
	ip -n "$NETNS" addr add "$NODE_CIDR" dev "$VETH_NODE"
	ip -n "$NETNS" link set "$VETH_NODE" up
	ip -n "$NETNS" link set "$VETH_PEER" up
	ip -n "$NETNS" route add default via "$DEAD_GATEWAY" dev "$VETH_NODE"
	in_ns sysctl -qw net.ipv4.ip_forward=1
	# The namespace must have no other interface than lo and the pair.
	local links
	links=$(ip -n "$NETNS" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' ')
	[[ $links == "$VETH_NODE $VETH_PEER lo " ]] || die "unexpected links in $NETNS: $links"
}

make_cgroups() {
	local c
	for c in /sys/fs/cgroup/*/; do
		c=${c%/}
		[[ -d $c/$CGROUP_NAME ]] && continue
		# Only hierarchies (cgroup.procs exists), not the plain files of the tmpfs.
		[[ -e $c/cgroup.procs ]] || continue
		mkdir "$c/$CGROUP_NAME"
		record cgroups "$c/$CGROUP_NAME"
	done
}

make_pki() {
	local d=$CLUSTER_DIR/pki
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=atomix-failover-cluster-ca" \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
	cat >"$d/apiserver.ext" <<EOF
subjectAltName = IP:127.0.0.1, IP:$NODE_IP, IP:$SERVICE_IP, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, DNS:localhost
extendedKeyUsage = serverAuth
EOF
	openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
		-keyout "$d/apiserver.key" -out "$d/apiserver.csr" 2>/dev/null
	openssl x509 -req -in "$d/apiserver.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 30 -extfile "$d/apiserver.ext" -out "$d/apiserver.crt" 2>/dev/null
	openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
	openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
	local token
	token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	echo "$token,admin,admin,system:masters" >"$d/tokens.csv"
	chmod 600 "$d/tokens.csv" "$d"/*.key
	cat >"$d/admin.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://$NODE_IP:6443
    certificate-authority: $d/ca.crt
users:
- name: admin
  user:
    token: $token
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
EOF
	chmod 600 "$d/admin.kubeconfig"
}

write_configs() {
	local d=$CLUSTER_DIR
	mkdir -p "$d/containerd" "$d/cni/net.d" "$d/kubelet" "$d/pod-logs" "$d/coredns"
	cat >"$d/containerd/config.toml" <<EOF
version = 2
root = "$d/containerd/root"
state = "$d/containerd/state"
oom_score = 0
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$d/containerd/containerd.sock"
[ttrpc]
  address = "$d/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$SANDBOX_IMAGE"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$d/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni/net.d"
EOF
	cat >"$d/cni/net.d/10-bridge.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$d/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
	: >"$d/kubelet/resolv.conf"
	cat >"$d/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_NAME
cgroupsPerQOS: true
containerRuntimeEndpoint: unix://$d/containerd/containerd.sock
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
resolvConf: $d/kubelet/resolv.conf
podLogsDir: $d/pod-logs
failSwapOn: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 50Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1%}
serializeImagePulls: false
registerNode: true
EOF
	cat >"$d/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $d/pki/admin.kubeconfig}
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
	# No forward plugin: names outside the cluster are not resolved at all.
	cat >"$d/coredns/Corefile" <<EOF
.:53 {
    errors
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $d/pki/admin.kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
    loop
    loadbalance
}
EOF
}

ctr_ns() { ctr -a "$CLUSTER_DIR/containerd/containerd.sock" -n k8s.io "$@"; }

# make_images writes the pause, raft controller and raft node images as
# one-layer docker archives (no registry, no base image; hack/image -generic)
# and imports them.
make_images() {
	local d=$CLUSTER_DIR/images
	mkdir -p "$d"
	local write_image=("$BIN/$IMAGE_BIN" -generic)
	"${write_image[@]}" -o "$d/pause.tar" -tag "$SANDBOX_IMAGE" -entrypoint '["/pause"]' \
		-file "$BIN/pause:/pause"
	"${write_image[@]}" -o "$d/raft-controller.tar" -tag "$CONTROLLER_IMAGE" \
		-entrypoint '["/usr/local/bin/atomix-raft-controller"]' \
		-file "$BIN/atomix-raft-controller:/usr/local/bin/atomix-raft-controller" \
		-file /usr/bin/stat -ldd -dir /tmp:1777 -env PATH=/usr/local/bin:/usr/bin:/bin
	# The controller runs `bash -c '[[ $(hostname) =~ -([0-9]+)$ ]] ...'` in it.
	"${write_image[@]}" -o "$d/raft-node.tar" -tag "$NODE_IMAGE" \
		-entrypoint '["/usr/local/bin/atomix-raft-node"]' \
		-file "$BIN/atomix-raft-node:/usr/local/bin/atomix-raft-node" \
		-file /bin/bash -file /bin/hostname -file /bin/tar -file /bin/sleep -ldd -dir /tmp:1777 \
		-env PATH=/usr/local/bin:/usr/bin:/bin
	local t
	for t in "$d"/*.tar; do
		ctr_ns image import "$t" >/dev/null
	done
}

cmd_up() {
	need_root
	local start=$SECONDS
	if ! all_built; then
		log "binaries missing in $BIN: building"
		cmd_build
	else
		local n
		for n in "${APT_PACKAGES[@]}"; do
			dpkg-query -W -f='${Status}' "$n" 2>/dev/null | grep -q 'install ok installed' ||
				die "package $n missing: run build"
		done
	fi
	[[ -e $CLUSTER_DIR/records ]] && die "$CLUSTER_DIR holds a cluster: run down first"
	if [[ -e $CLUSTER_DIR && -n $(ls -A "$CLUSTER_DIR") ]]; then
		die "$CLUSTER_DIR exists and is not empty: run down, or choose another CLUSTER_DIR"
	fi
	mkdir -p "$CLUSTER_DIR"
	: >"$MARKER"
	mkdir -p "$CLUSTER_DIR"/{records,pids,logs}
	trap 'up_failed' EXIT
	echo "$BIN" >"$CLUSTER_DIR/records/bin"
	# Fixed paths outside the cluster dir: note which existed before.
	local p
	for p in /var/lib/kubelet /var/lib/kubelet/device-plugins /run/containerd /run/containerd/s \
		/var/lib/cni /var/lib/cni/results "$CONTAINER_LOG_LINKS" /run/netns; do
		if [[ -e $p ]]; then record preexisting "$p"; fi
	done
	# `ip netns add` makes /run/netns a mount point of its own when it is not.
	if mountpoint -q /run/netns; then record preexisting mount:/run/netns; fi
	make_netns
	make_cgroups
	make_pki
	write_configs
	local d=$CLUSTER_DIR

	start containerd containerd --config "$d/containerd/config.toml"
	wait_for containerd ctr_ns version
	make_images

	start etcd "$BIN/etcd" --name node --data-dir "$d/etcd" \
		--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster node=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
		--unsafe-no-fsync --log-level warn
	wait_for etcd in_ns curl -fsS http://127.0.0.1:2381/health

	start kube-apiserver "$BIN/kube-apiserver" \
		--etcd-servers=http://127.0.0.1:2379 \
		--bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port=6443 \
		--tls-cert-file="$d/pki/apiserver.crt" --tls-private-key-file="$d/pki/apiserver.key" \
		--client-ca-file="$d/pki/ca.crt" --token-auth-file="$d/pki/tokens.csv" \
		--authorization-mode=RBAC --service-cluster-ip-range="$SERVICE_CIDR" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$d/pki/sa.pub" --service-account-signing-key-file="$d/pki/sa.key" \
		--kubelet-preferred-address-types=InternalIP --allow-privileged=true --profiling=false
	wait_for kube-apiserver kubectl_ns get --raw /readyz

	start kube-controller-manager "$BIN/kube-controller-manager" \
		--kubeconfig="$d/pki/admin.kubeconfig" --authentication-kubeconfig="$d/pki/admin.kubeconfig" \
		--authorization-kubeconfig="$d/pki/admin.kubeconfig" \
		--service-account-private-key-file="$d/pki/sa.key" --root-ca-file="$d/pki/ca.crt" \
		--use-service-account-credentials=true --leader-elect=false --bind-address=127.0.0.1 \
		--allocate-node-cidrs=false --cluster-signing-cert-file="$d/pki/ca.crt" \
		--cluster-signing-key-file="$d/pki/ca.key" --profiling=false
	start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$d/pki/admin.kubeconfig" \
		--authentication-kubeconfig="$d/pki/admin.kubeconfig" \
		--authorization-kubeconfig="$d/pki/admin.kubeconfig" \
		--leader-elect=false --bind-address=127.0.0.1 --profiling=false
	start kubelet "$BIN/kubelet" --config="$d/kubelet/config.yaml" \
		--kubeconfig="$d/pki/admin.kubeconfig" --root-dir="$d/kubelet/root" \
		--cert-dir="$d/kubelet/pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP"
	start kube-proxy "$BIN/kube-proxy" --config="$d/kube-proxy.yaml"
	start coredns "$BIN/coredns" -conf "$d/coredns/Corefile" -dns.port 53

	wait_for "node $NODE_NAME Ready" kubectl_ns wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
	wait_for "default service account" kubectl_ns -n default get serviceaccount default
	# CoreDNS runs as a process of the node (in the namespace): a Service
	# without selector points cluster DNS at it.
	kubectl_ns apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: $DNS_IP
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-node
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: atomix-failover-cluster}
addressType: IPv4
endpoints:
- addresses: [$NODE_IP]
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
EOF
	wait_for coredns in_ns curl -fsS http://127.0.0.1:8181/ready
	[[ ${CLUSTER_ATOMIX:-1} == 0 ]] || install_atomix
	log "cluster up in $((SECONDS - start)) s: $CLUSTER_DIR/pki/admin.kubeconfig (inside namespace $NETNS)"
	log "try: $0 kubectl get nodes"
	trap - EXIT
}

# up_failed prints the component logs when `up` stops before the end; the
# cluster is left as it is for inspection: `down` removes it.
up_failed() {
	local rc=$?
	((rc == 0)) && return
	show_logs
	log "up failed (exit $rc); inspect $CLUSTER_DIR, then run: $0 down"
}

# ---- Atomix ----------------------------------------------------------------------

readonly ATOMIX_NAMESPACE=kube-system
readonly PV_COUNT=${CLUSTER_PVS:-9}
readonly STORAGE_CLASS=atomix-failover-local

# crd_without_webhook FILE prints the CRD with its conversion set to
# strategy None: nothing serves the conversion webhooks here, and only the
# storage versions are used.
crd_without_webhook() {
	awk '
		/^  conversion:/ { print "  conversion:"; print "    strategy: None"; skip = 1; next }
		skip && /^(  [^ ]|[^ ])/ { skip = 0 }
		!skip { print }
	' "$1"
}

# install_atomix installs the Atomix CRDs (raft.atomix.io from stores/raft,
# atomix.io DataStore and StorageProfile from controller v0.2.1), the raft
# controller and PersistentVolumes for RaftCluster persistence, and waits
# for the controller to be Ready.
install_atomix() {
	local d=$CLUSTER_DIR/atomix raft ctrl f i start=$SECONDS
	mkdir -p "$d/crds" "$CLUSTER_DIR/pv"
	(cd "$HERE" && go mod download github.com/atomix/atomix/stores/raft github.com/atomix/atomix/controller)
	raft=$(cd "$HERE" && go list -m -f '{{.Dir}}' github.com/atomix/atomix/stores/raft)
	ctrl=$(cd "$HERE" && go list -m -f '{{with .Replace}}{{.Dir}}{{end}}' github.com/atomix/atomix/controller)
	for f in "$raft"/chart/crds/raft.atomix.io/*.yaml "$ctrl"/chart/crds/atomix.io/{datastores,storageprofiles}.yaml; do
		crd_without_webhook "$f" >"$d/crds/$(basename "$f")"
	done
	if grep -q 'strategy: Webhook' "$d"/crds/*.yaml; then die "a CRD still has a conversion webhook"; fi
	kubectl_ns apply -f "$d/crds" >/dev/null
	for f in "$d"/crds/*.yaml; do
		wait_for "CRD $(basename "$f" .yaml)" kubectl_ns wait --for=condition=Established \
			"crd/$(awk '/^  name:/ {print $2; exit}' "$f")" --timeout=2s
	done
	{
		sed -n '/^apiVersion/,$p' "$raft/chart/templates/clusterrole.yaml" |
			sed 's/{{ template "atomix-raft-controller.fullname" . }}/atomix-raft-controller/'
		echo # the chart's file has no final newline
		cat <<EOF
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: atomix-raft-controller, namespace: $ATOMIX_NAMESPACE}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: atomix-raft-controller}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: atomix-raft-controller}
subjects:
- {kind: ServiceAccount, name: atomix-raft-controller, namespace: $ATOMIX_NAMESPACE}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: atomix-raft-controller, namespace: $ATOMIX_NAMESPACE}
spec:
  replicas: 1
  selector: {matchLabels: {name: atomix-raft-controller}}
  template:
    metadata: {labels: {name: atomix-raft-controller}}
    spec:
      serviceAccountName: atomix-raft-controller
      containers:
      - name: atomix-raft-controller
        image: $CONTROLLER_IMAGE
        imagePullPolicy: Never
        readinessProbe:
          exec: {command: [stat, /tmp/atomix-controller-ready]}
          periodSeconds: 1
          failureThreshold: 1
        env:
        - {name: CONTROLLER_NAME, value: atomix-raft-controller}
        - {name: CONTROLLER_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
        - {name: DEFAULT_NODE_IMAGE, value: $NODE_IMAGE}
        - {name: CLUSTER_DOMAIN, value: cluster.local}
EOF
		# hostPath volumes under the cluster dir: no provisioner is needed
		# for the RaftClusters' 8Gi claims (persistence defaults to on).
		# Their class is the default one and binds when a pod is scheduled
		# (WaitForFirstConsumer): with immediate binding, a raft pod created
		# before the controller bound its claim was marked unschedulable and
		# waited for the scheduler's 5-minute retry (seen).
		cat <<EOF
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $STORAGE_CLASS
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
EOF
		for ((i = 0; i < PV_COUNT; i++)); do
			cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: local-pv-$i, labels: {atomix-failover-cluster: local-pv}}
spec:
  storageClassName: $STORAGE_CLASS
  capacity: {storage: 8Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $CLUSTER_DIR/pv/pv-$i, type: DirectoryOrCreate}
EOF
		done
	} >"$d/install.yaml"
	kubectl_ns apply -f "$d/install.yaml" >/dev/null
	wait_for "raft controller Ready" kubectl_ns -n "$ATOMIX_NAMESPACE" rollout status \
		deployment/atomix-raft-controller --timeout=2s
	log "atomix: CRDs, raft controller, $PV_COUNT PVs ($((SECONDS - start)) s)"
}

# ---- down ---------------------------------------------------------------------

# ours PID succeeds for a process of the cluster: its program is one of the
# cluster's (a binary of the cache, containerd, its shim or runc) and its
# command line names the cluster dir or the cache; or it is in the cluster's
# cgroup, where only the cluster's kubelet and runc put processes.
ours() {
	local pid=$1 cmdline exe
	[[ -r /proc/$pid/cmdline ]] || return 1
	if grep -q ":/$CGROUP_NAME/" "/proc/$pid/cgroup" 2>/dev/null; then return 0; fi
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	case $exe in
	"$BIN"/* | */containerd | */containerd-shim-runc-v2 | */runc) ;;
	*) return 1 ;;
	esac
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmdline == *"$CLUSTER_DIR"* || $cmdline == *"$BIN/"* ]]
}

# kill_verified SIGNAL PIDS... sends SIGNAL to each PID that is ours.
kill_verified() {
	local sig=$1 pid
	shift
	for pid in "$@"; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		if ours "$pid"; then kill "-$sig" "$pid" 2>/dev/null || true; fi
	done
}

# our_pids lists every live process of the cluster: the recorded components,
# containerd's shims (their pid files are in its state dir), and every
# process whose command line names the cluster dir or whose cgroup is the
# cluster's — each checked with `ours`.
our_pids() {
	local f pid c
	{
		cat "$CLUSTER_DIR"/pids/*.pid 2>/dev/null || true
		find "$CLUSTER_DIR/containerd/state" -name '*.pid' -exec cat {} + 2>/dev/null || true
		for c in /sys/fs/cgroup/*/"$CGROUP_NAME"; do
			[[ -d $c ]] && find "$c" -name cgroup.procs -exec cat {} + 2>/dev/null
		done
		for f in /proc/[0-9]*/cmdline; do
			pid=${f#/proc/}
			pid=${pid%/cmdline}
			grep -qF -- "$CLUSTER_DIR" "$f" 2>/dev/null && echo "$pid"
		done
	} | sort -un | while read -r pid; do
		[[ $pid != "$$" && $pid != "$BASHPID" ]] && ours "$pid" && echo "$pid"
	done
	return 0
}

describe() {
	local pid
	for pid in "$@"; do
		printf '%s(%s) ' "$pid" "$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null || echo gone)")"
	done
}

stop_processes() {
	local pids deadline
	mapfile -t pids < <(our_pids)
	((${#pids[@]})) || return 0
	log "stopping ${#pids[@]} processes"
	kill_verified TERM "${pids[@]}"
	deadline=$((SECONDS + 3))
	while ((SECONDS < deadline)); do
		mapfile -t pids < <(our_pids)
		((${#pids[@]})) || return 0
		sleep 0.2
	done
	log "killing ${#pids[@]} processes left: $(describe "${pids[@]}")"
	kill_verified KILL "${pids[@]}"
	deadline=$((SECONDS + 10))
	while ((SECONDS < deadline)); do
		mapfile -t pids < <(our_pids)
		((${#pids[@]})) || return 0
		sleep 0.2
	done
	die "processes left after SIGKILL: ${pids[*]}"
}

# unmount_all unmounts every mount under the cluster dir, deepest first.
unmount_all() {
	local m n=0
	while :; do
		mapfile -t mounts < <(awk -v d="$CLUSTER_DIR" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo |
			awk '{print length, $0}' | sort -rn | cut -d' ' -f2-)
		((${#mounts[@]})) || break
		for m in "${mounts[@]}"; do
			# mountinfo escapes spaces as \040; the cluster's paths have none.
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		done
		n=$((n + 1))
		((n < 10)) || die "mounts left under $CLUSTER_DIR: ${mounts[*]}"
	done
}

remove_cgroups() {
	local c dirs d
	for c in /sys/fs/cgroup/*/"$CGROUP_NAME"; do
		[[ -d $c ]] || continue
		mapfile -t dirs < <(find "$c" -depth -type d)
		for d in "${dirs[@]}"; do rmdir "$d" 2>/dev/null || true; done
		[[ -d $c ]] && die "cgroup $c left (busy?)"
	done
	return 0
}

preexisting() { grep -qxF -- "$1" "$CLUSTER_DIR/records/preexisting" 2>/dev/null; }

# remove_fixed_paths removes what the cluster created outside its dir.
remove_fixed_paths() {
	local f target
	# Shim sockets: each task's bundle has an `address` file naming its socket.
	if [[ -d $CLUSTER_DIR/containerd/state ]]; then
		while read -r f; do
			target=$(sed 's|^unix://||' "$f")
			[[ $target == "$SHIM_SOCKET_DIR"/* ]] && rm -f "$target" "$target.debug"
		done < <(find "$CLUSTER_DIR/containerd/state" -name address -type f 2>/dev/null)
	fi
	# CNI results of the cluster's network and of its sandboxes' loopbacks.
	rm -f "$CNI_RESULTS_DIR/$CNI_NETWORK"-* 2>/dev/null || true
	local id
	for f in "$CLUSTER_DIR"/containerd/state/io.containerd.grpc.v1.cri/sandboxes/*/; do
		[[ -d $f ]] || continue
		id=$(basename "$f")
		[[ $id =~ ^[0-9a-f]{64}$ ]] && rm -f "$CNI_RESULTS_DIR"/*-"$id"-*
	done
	# Pod log links that point into the cluster dir.
	if [[ -d $CONTAINER_LOG_LINKS ]]; then
		for f in "$CONTAINER_LOG_LINKS"/*; do
			[[ -L $f && $(readlink "$f") == "$CLUSTER_DIR"/* ]] && rm -f "$f"
		done
	fi
	if [[ -S $DEVICE_PLUGIN_SOCK ]] || [[ -e $DEVICE_PLUGIN_SOCK ]]; then rm -f "$DEVICE_PLUGIN_SOCK"; fi
	# Directories the cluster created, when it created them and they are empty.
	for f in "$SHIM_SOCKET_DIR" /run/containerd /var/lib/kubelet/device-plugins /var/lib/kubelet \
		"$CNI_RESULTS_DIR" /var/lib/cni "$CONTAINER_LOG_LINKS"; do
		if [[ -d $f ]] && ! preexisting "$f"; then rmdir "$f" 2>/dev/null || true; fi
	done
}

cmd_down() {
	need_root
	local start=$SECONDS
	stop_processes
	unmount_all
	remove_cgroups
	remove_fixed_paths
	if [[ -e $NETNS_PATH ]]; then
		ip netns delete "$NETNS"
	fi
	if [[ -d $CLUSTER_DIR/records ]] && ! preexisting mount:/run/netns && mountpoint -q /run/netns &&
		[[ -z $(ls -A /run/netns) ]]; then
		umount /run/netns
	fi
	if [[ -d $CLUSTER_DIR/records ]] && ! preexisting /run/netns; then rmdir /run/netns 2>/dev/null || true; fi
	if [[ -e $MARKER ]]; then
		rm -rf "$CLUSTER_DIR"
	elif [[ -d $CLUSTER_DIR ]]; then
		rmdir "$CLUSTER_DIR" 2>/dev/null || log "left $CLUSTER_DIR: it is not a cluster dir (no $MARKER)"
	fi
	log "down in $((SECONDS - start)) s"
}

# ---- status, kubectl, logs ------------------------------------------------------

cmd_status() {
	local f name pid state
	[[ -d $CLUSTER_DIR/records ]] || {
		echo "no cluster in $CLUSTER_DIR"
		return 0
	}
	for f in "$CLUSTER_DIR"/pids/*.pid; do
		[[ -e $f ]] || continue
		name=$(basename "$f" .pid)
		pid=$(cat "$f")
		state=exited
		ours "$pid" && state=running
		printf '%-24s %-8s %s\n' "$name" "$pid" "$state"
	done
	[[ -e $NETNS_PATH ]] && echo "namespace $NETNS: present"
}

# cmd_env prints what tools (the end-to-end test) need to reach the cluster
# and to check that `down` removed everything: one KEY=VALUE per line.
cmd_env() {
	cat <<EOF
CLUSTER_DIR=$CLUSTER_DIR
CLUSTER_NETNS=$NETNS
NETNS_PATH=$NETNS_PATH
BIN=$BIN
KUBECONFIG=$CLUSTER_DIR/pki/admin.kubeconfig
CONTAINERD_SOCK=$CLUSTER_DIR/containerd/containerd.sock
CGROUP_NAME=$CGROUP_NAME
CNI_NETWORK=$CNI_NETWORK
CNI_RESULTS_DIR=$CNI_RESULTS_DIR
DEVICE_PLUGIN_SOCK=$DEVICE_PLUGIN_SOCK
CONTAINER_LOG_LINKS=$CONTAINER_LOG_LINKS
EOF
}

# cmd_load_image imports docker-archive tars into the node's containerd.
cmd_load_image() {
	need_root
	(($#)) || die "load-image: name a docker-archive tar"
	[[ -S $CLUSTER_DIR/containerd/containerd.sock ]] || die "load-image: no cluster is up in $CLUSTER_DIR"
	local t
	for t in "$@"; do
		[[ -f $t ]] || die "load-image: $t: no such file"
		ctr_ns image import "$t"
	done
}

cmd_logs() {
	if (($#)); then tail -n 100 "$CLUSTER_DIR/logs/$1.log"; else show_logs; fi
}

# cmd_smoke runs a pod from the raft node image and checks logs, exec, and
# the kubernetes Service by its DNS name from inside the pod.
cmd_smoke() {
	local start=$SECONDS
	kubectl_ns delete pod smoke --ignore-not-found --grace-period=1 --wait=true >/dev/null
	kubectl_ns run smoke --image="$NODE_IMAGE" --image-pull-policy=Never --restart=Never \
		--command -- bash -c 'echo smoke-started; exec sleep 3600' >/dev/null
	kubectl_ns wait --for=condition=Ready pod/smoke --timeout="${UP_TIMEOUT}s" >/dev/null
	kubectl_ns logs smoke | grep -q smoke-started || die "smoke: no log"
	kubectl_ns exec smoke -- bash -c 'exec 3<>/dev/tcp/kubernetes.default.svc.cluster.local/443' ||
		die "smoke: pod cannot reach the kubernetes Service by name"
	kubectl_ns delete pod smoke --grace-period=1 --wait=true >/dev/null
	log "smoke: pod ran, logs, exec, DNS, service: ok ($((SECONDS - start)) s)"
}

main() {
	local cmd=${1:-}
	(($#)) && shift
	case $cmd in
	build) cmd_build ;;
	up) cmd_up ;;
	down) cmd_down ;;
	status) cmd_status ;;
	kubectl) kubectl_ns "$@" ;;
	smoke) cmd_smoke ;;
	atomix) install_atomix ;;
	logs) cmd_logs "$@" ;;
	bin) echo "$BIN" ;;
	env) cmd_env ;;
	load-image) cmd_load_image "$@" ;;
	*)
		sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
		[[ $cmd == -h || $cmd == --help || $cmd == help ]] || exit 2
		;;
	esac
}

main "$@"
