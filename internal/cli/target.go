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
	fs.Var(&restartDelay{&l.Restart}, "restart-delay", "local: when to restart a killed node on its data dir: after-new-leader (once every partition it led has a new leader, plus --restart-margin, at most --restart-timeout after the kill) or a fixed delay such as 3s")
	fs.DurationVar(&l.Restart.Margin, "restart-margin", l.Restart.Margin, "local: with --restart-delay after-new-leader, wait this long after the last new leader")
	fs.DurationVar(&l.Restart.Timeout, "restart-timeout", l.Restart.Timeout, "local: with --restart-delay after-new-leader, restart at the latest this long after the kill")
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

// restartDelay is the --restart-delay flag: after-new-leader or a duration.
type restartDelay struct{ p *local.RestartPolicy }

// afterNewLeader is the --restart-delay value of the default policy.
const afterNewLeader = "after-new-leader"

func (r *restartDelay) String() string {
	if r.p == nil || !r.p.Fixed {
		return afterNewLeader
	}
	return r.p.Delay.String()
}

func (r *restartDelay) Set(v string) error {
	if v == afterNewLeader {
		r.p.Fixed, r.p.Delay = false, 0
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want %s or a duration such as 3s: %w", afterNewLeader, err)
	}
	r.p.Fixed, r.p.Delay = true, d
	return nil
}

func (r *restartDelay) Type() string { return "after-new-leader|duration" }

// callTimeout bounds one remote call made by a command.
const callTimeout = 30 * time.Second
