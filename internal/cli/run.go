package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/experiment"
	"github.com/atomix-failover/atomix-failover/internal/results"
	"github.com/atomix-failover/atomix-failover/internal/workload"
)

// DefaultOut is the results log the campaign appends to by default.
const DefaultOut = "logs/enhanced-failover-test-results.log"

// openTarget starts or connects to the target; tests replace it.
var openTarget = func(ctx context.Context, tf *targetFlags, log *zap.Logger) (cluster.Target, error) {
	return tf.open(ctx, log)
}

func newRunCommand(s Streams, logger loggerFunc) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the failover campaign (the default command)",
		Args:  cobra.NoArgs,
	}
	tf := addTargetFlags(cmd.Flags())
	cfg := experiment.DefaultConfig()
	out := DefaultOut
	fs := cmd.Flags()
	fs.StringSliceVar(&cfg.Scenarios, "scenarios", cfg.Scenarios, "scenarios to run, in order: "+strings.Join(experiment.ScenarioNames(), ", "))
	fs.IntVar(&cfg.Repeat, "repeat", cfg.Repeat, "rounds of the scenarios")
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "seed fixing keys, trial order and partitions")
	fs.BoolVar(&cfg.Shuffle, "shuffle", cfg.Shuffle, "run each round's trials in an order drawn from the seed, not scenario by scenario (rapid-sequential stays together)")
	fs.StringVar(&out, "out", out, "results log (JSON lines, appended)")
	fs.StringVar(&cfg.Map, "map", cfg.Map, "name of the Atomix map written")
	fs.DurationVar(&cfg.VerifyTimeout, "verify-timeout", cfg.VerifyTimeout, "how long to wait for the election, recovery and (again) the read-back before a trial is inconclusive")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", cfg.WriteTimeout, "deadline of each trial's write (a write cut by it is indeterminate)")
	fs.DurationVar(&cfg.InFlightWriteTimeout, "in-flight-write-timeout", cfg.InFlightWriteTimeout, "deadline of the write of in-flight trials (0: --write-timeout); below the election time so that a cut write stays unacknowledged")
	fs.DurationVar(&cfg.SettleTimeout, "settle-timeout", cfg.SettleTimeout, "how long to wait before each trial for a healthy store (every member up, every member agreeing on every partition's leader and term)")
	fs.DurationVar(&cfg.MinLeaderAge, "min-leader-age", cfg.MinLeaderAge, "least time the leader to be killed must have led before a trial starts (back-to-back trials excepted)")
	fs.BoolVar(&cfg.RealtimeTimer, "realtime-timer", cfg.RealtimeTimer, "spin the last 2ms before each kill under SCHED_FIFO when permitted (Linux, CAP_SYS_NICE), for sub-millisecond kill timing on a busy machine")
	fs.DurationVar(&cfg.ProbeInterval, "probe-interval", cfg.ProbeInterval, "spacing of recovery probe writes")
	fs.DurationVar(&cfg.ProbeTimeout, "probe-timeout", cfg.ProbeTimeout, "deadline of each recovery probe write (at least 1s, so that overlapping probes never cut a slow success)")
	addLoadFlags(fs, &cfg)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg = cfg.WithWorkload()
		if experiment.NeedsIsolation(cfg.Scenarios) {
			tf.local.LinkProxies = true
		}
		if err := cfg.Validate(); err != nil {
			return usageError(err)
		}
		log, err := logger()
		if err != nil {
			return err
		}
		defer func() { _ = log.Sync() }()
		return runCampaign(cmd.Context(), tf, cfg, out, log)
	}
	return cmd
}

// targetConfig is what the run header records about the target's configuration.
func targetConfig(tf *targetFlags) any {
	kind, _ := tf.resolve()
	if kind != "local" {
		return map[string]any{"kind": kind, "namespace": tf.k8s.namespace, "store": tf.k8s.store,
			"store_kind": tf.k8s.storeKind, "grace_period_s": tf.k8s.gracePeriod}
	}
	l := tf.local
	return map[string]any{
		"kind": kind, "replicas": l.Replicas, "partitions": l.Partitions,
		"rtt": l.RTT.String(), "election_rtt": l.ElectionRTT, "heartbeat_rtt": l.HeartbeatRTT,
		"restart_policy": l.Restart.String(),
	}
}

func runCampaign(ctx context.Context, tf *targetFlags, cfg experiment.Config, out string, log *zap.Logger) (err error) {
	w, err := results.Create(out)
	if err != nil {
		return usageError(err)
	}
	defer func() {
		if cerr := w.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	cfg.Target = targetConfig(tf)
	cfg.HistoryDir, cfg.HistoryPrefix = filepath.Dir(w.Path()), strings.TrimSuffix(filepath.Base(w.Path()), filepath.Ext(w.Path()))
	return withTarget(ctx, tf, log, func(ctx context.Context, tgt cluster.Target) error {
		began := time.Now()
		r := &experiment.Runner{Target: tgt, Sink: w, Log: log.Named("campaign"), Config: cfg}
		res, err := r.Run(ctx)
		if err == nil {
			log.Info("results appended", zap.String("out", w.Path()), zap.String("run_id", res.RunID),
				zap.Duration("wall", time.Since(began)))
		}
		return campaignExit(res, err, w.Path())
	})
}

// campaignExit maps a campaign's result to the command's exit: a lost write
// (1) outranks every other failure, then a failed campaign (2 when the target
// failed), then an interruption (130).
func campaignExit(res experiment.Result, err error, out string) error {
	if res.Failed() {
		msg := violationMessage(res, out)
		if err != nil {
			return &ExitError{Code: ExitViolation, Err: fmt.Errorf("%s; then the campaign failed: %w", msg, err)}
		}
		return &ExitError{Code: ExitViolation, Err: errors.New(msg)}
	}
	if err != nil {
		if errors.Is(err, experiment.ErrTarget) || errors.Is(err, experiment.ErrUnsupported) {
			return usageError(err)
		}
		return err
	}
	if res.Interrupted {
		return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("interrupted after %d trial(s) (run %s)", res.Trials, res.RunID)}
	}
	return nil
}

// violationMessage says what a failed run recorded.
func violationMessage(res experiment.Result, out string) string {
	var parts []string
	if n := res.Lost(); n > 0 {
		parts = append(parts, fmt.Sprintf("durability violation: %d acknowledged write(s) lost", n))
	}
	if res.LostWrites > 0 {
		parts = append(parts, fmt.Sprintf("durability violation: %d acknowledged workload write(s) lost", res.LostWrites))
	}
	if res.Violations > 0 {
		parts = append(parts, fmt.Sprintf("linearizability violation in %d trial(s)", res.Violations))
	}
	if res.StaleReads > 0 {
		parts = append(parts, fmt.Sprintf("%d stale read(s)", res.StaleReads))
	}
	return fmt.Sprintf("%s (run %s, see %s)", strings.Join(parts, "; "), res.RunID, out)
}

// addLoadFlags adds the workload's and the timed faults' flags.
func addLoadFlags(fs *pflag.FlagSet, cfg *experiment.Config) {
	fs.BoolVar(&cfg.Workload, "workload", cfg.Workload, "run concurrent clients through every trial, record their history beside --out and check it (implied by "+strings.Join([]string{experiment.KillUnderLoad, experiment.PauseLeader, experiment.IsolateLeader}, ", ")+")")
	fs.IntVar(&cfg.Load.Clients, "clients", workload.DefaultClients, "workload: concurrent clients, each with its own Atomix client (0: 8)")
	fs.Float64Var(&cfg.Load.Rate, "rate", workload.DefaultRate, "workload: operations per second of all clients together")
	fs.DurationVar(&cfg.FaultDuration, "fault-duration", cfg.FaultDuration, "how long pause-leader pauses and isolate-leader cuts off the leader")
	fs.Var((*sideFlag)(&cfg.IsolateFrom), "isolate-from", "isolate-leader cuts the leader off from its peers (Raft links) or from its clients")
	fs.DurationVar(&cfg.Baseline, "baseline", cfg.Baseline, "workload: how long the clients run on the healthy store before each trial's write (the 'before' of the fault)")
	fs.DurationVar(&cfg.CheckTimeout, "check-timeout", cfg.CheckTimeout, "workload: time limit of each trial's linearizability check (undecided: unknown)")
}

// sideFlag is --isolate-from.
type sideFlag cluster.Side

func (s *sideFlag) String() string { return string(*s) }
func (s *sideFlag) Type() string   { return "peers|clients" }
func (s *sideFlag) Set(v string) error {
	switch cluster.Side(v) {
	case cluster.SidePeers, cluster.SideClients:
		*s = sideFlag(v)
		return nil
	}
	return fmt.Errorf("want %s or %s", cluster.SidePeers, cluster.SideClients)
}
