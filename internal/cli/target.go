package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
)

// targetFlags are the flags that choose and configure the target store.
type targetFlags struct {
	target string
	local  local.Config
	k8s    kubernetesFlags
}

func addTargetFlags(fs *pflag.FlagSet) *targetFlags {
	t := &targetFlags{local: local.DefaultConfig()}
	fs.StringVar(&t.target, "target", "auto", "target store: local, kubernetes, or auto (kubernetes inside a pod, else local)")
	l := &t.local
	fs.IntVar(&l.Replicas, "replicas", l.Replicas, "local: Raft node processes (members of every partition)")
	fs.IntVar(&l.Partitions, "partitions", l.Partitions, "local: Raft groups (partitions)")
	fs.StringVar(&l.DataDir, "data-dir", "", "local: directory for Raft data (default: a fresh temp dir removed at exit)")
	fs.BoolVar(&l.KeepData, "keep-data", false, "local: keep the data directory at exit")
	fs.DurationVar(&l.RestartDelay, "restart-delay", l.RestartDelay, "local: wait before restarting a killed node on its data dir")
	fs.DurationVar(&l.RTT, "rtt", l.RTT, "local: Raft round-trip time unit")
	fs.Uint64Var(&l.ElectionRTT, "election-rtt", l.ElectionRTT, "local: election timeout, in RTTs")
	fs.Uint64Var(&l.HeartbeatRTT, "heartbeat-rtt", l.HeartbeatRTT, "local: heartbeat interval, in RTTs")
	fs.IntVar(&l.BasePort, "base-port", 0, "local: first of 2×replicas consecutive ports on 127.0.0.1 (default: free ports picked at start)")
	fs.DurationVar(&l.StartTimeout, "start-timeout", l.StartTimeout, "local: how long to wait for the nodes to start and every partition to elect a leader")
	t.k8s.add(fs)
	return t
}

func (t *targetFlags) resolve() (string, error) {
	switch t.target {
	case "local", "kubernetes":
		return t.target, nil
	case "auto", "":
		if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
			return "kubernetes", nil
		}
		return "local", nil
	default:
		return "", usageError(fmt.Errorf("--target %q: want local, kubernetes or auto", t.target))
	}
}

// open starts or connects to the target; failures are exit-2 errors.
func (t *targetFlags) open(ctx context.Context, log *zap.Logger) (cluster.Target, error) {
	kind, err := t.resolve()
	if err != nil {
		return nil, err
	}
	var tgt cluster.Target
	switch kind {
	case "local":
		tgt, err = local.Start(ctx, t.local, log.Named("local"))
	default:
		tgt, err = t.k8s.open(ctx, log.Named("kubernetes"))
	}
	if err != nil {
		return nil, usageError(fmt.Errorf("starting %s target: %w", kind, err))
	}
	return tgt, nil
}

// callTimeout bounds one remote call made by a command.
const callTimeout = 30 * time.Second
