package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

type loggerFunc func() (*zap.Logger, error)

func newLeadersCommand(s Streams, logger loggerFunc) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "leaders",
		Short: "Print the leader of every partition: member, pod or process, term, followers",
		Args:  cobra.NoArgs,
	}
	tf := addTargetFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		log, err := logger()
		if err != nil {
			return err
		}
		defer func() { _ = log.Sync() }()
		return withTarget(cmd.Context(), tf, log, func(ctx context.Context, tgt cluster.Target) error {
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			ls, err := tgt.Leaders(cctx)
			if err != nil {
				return usageError(fmt.Errorf("reading leaders: %w", err))
			}
			return printLeaders(s.Stdout, tgt.Info(), ls)
		})
	}
	return cmd
}

// withTarget opens the target, runs f, and always closes the target.
func withTarget(ctx context.Context, tf *targetFlags, log *zap.Logger, f func(context.Context, cluster.Target) error) (err error) {
	defer func() { err = interrupted(ctx, err) }()
	tgt, err := openTarget(ctx, tf, log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := tgt.Close(); cerr != nil {
			log.Error("closing target", zap.Error(cerr))
			if err == nil {
				err = usageError(fmt.Errorf("closing target: %w", cerr))
			}
		}
	}()
	return f(ctx, tgt)
}

func printLeaders(w io.Writer, info cluster.Info, ls []cluster.Leadership) error {
	_, _ = fmt.Fprintf(w, "store %s (%s target): %d partitions × %d replicas\n", info.Store, info.Target, info.Partitions, info.Replicas)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "PARTITION\tLEADER\tPOD/PROCESS\tPID\tADDRESS\tTERM\tFOLLOWERS")
	for _, l := range ls {
		leader, pod, pid, addr := "(election)", "-", "-", "-"
		if l.HasLeader() {
			leader = fmt.Sprintf("%d", l.Leader.ID)
			if l.Leader.Name != "" && l.Leader.Name != l.Leader.Pod {
				leader = fmt.Sprintf("%d %s", l.Leader.ID, l.Leader.Name)
			}
			pod = orDash(l.Leader.Pod)
			if l.Leader.PID > 0 {
				pid = fmt.Sprintf("%d", l.Leader.PID)
			}
			addr = orDash(l.Leader.Address)
		}
		fs := make([]string, 0, len(l.Followers))
		for _, f := range l.Followers {
			fs = append(fs, fmt.Sprintf("%d:%s", f.ID, orDash(f.Pod)))
		}
		_, _ = fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", l.Partition, leader, pod, pid, addr, l.Term, strings.Join(fs, ","))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newKillLeaderCommand(s Streams, logger loggerFunc) *cobra.Command {
	var partition int
	var dryRun bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "kill-leader --partition P",
		Short: "Kill exactly the current leader of one partition and report the election that follows",
		Args:  cobra.NoArgs,
	}
	tf := addTargetFlags(cmd.Flags())
	cmd.Flags().IntVar(&partition, "partition", 0, "partition ID (1-based) whose leader to kill")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "name the member that would be killed, kill nothing")
	cmd.Flags().DurationVar(&wait, "wait", 60*time.Second, "how long to wait for the new leader")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if partition < 1 {
			return usageError(errors.New("--partition is required (1-based partition ID)"))
		}
		log, err := logger()
		if err != nil {
			return err
		}
		defer func() { _ = log.Sync() }()
		return withTarget(cmd.Context(), tf, log, func(ctx context.Context, tgt cluster.Target) error {
			if n := tgt.Info().Partitions; partition > n {
				return usageError(fmt.Errorf("--partition %d: the store has partitions 1..%d", partition, n))
			}
			return killLeader(ctx, s.Stdout, tgt, partition, dryRun, wait)
		})
	}
	return cmd
}

func killLeader(ctx context.Context, w io.Writer, tgt cluster.Target, partition int, dryRun bool, wait time.Duration) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if dryRun {
		l, err := tgt.PlanKill(cctx, partition)
		if err != nil {
			return usageError(fmt.Errorf("verifying the leader of partition %d: %w", partition, err))
		}
		_, _ = fmt.Fprintf(w, "dry run: would kill %s, leader of partition %d in term %d\n", l.Leader, partition, l.Term)
		return nil
	}
	k, err := tgt.KillLeader(cctx, partition)
	switch {
	case err != nil:
		return usageError(fmt.Errorf("killing the leader of partition %d: %w", partition, err))
	case k.Unconfirmed != nil:
		_, _ = fmt.Fprintf(w, "killed     %s, leader of partition %d in term %d (kill sent, not confirmed: %v)\n",
			k.Victim, partition, k.Term, k.Unconfirmed)
	default:
		_, _ = fmt.Fprintf(w, "killed     %s, leader of partition %d in term %d (kill confirmed after %s)\n",
			k.Victim, partition, k.Term, k.DoneAt.Sub(k.SentAt).Round(time.Microsecond))
	}
	wctx, wcancel := context.WithTimeout(ctx, wait)
	defer wcancel()
	nl, err := tgt.WaitForLeader(wctx, partition, k.Term)
	if err != nil {
		return usageError(fmt.Errorf("waiting for a new leader of partition %d after term %d: %w", partition, k.Term, err))
	}
	_, _ = fmt.Fprintf(w, "new leader %s in term %d\n", nl.Leader, nl.Term)
	_, _ = fmt.Fprintf(w, "election   %s (kill sent → new leader observed)\n", nl.ObservedAt.Sub(k.SentAt).Round(time.Microsecond))
	return nil
}
