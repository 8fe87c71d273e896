package experiment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// Injection is the result of firing a failpoint.
type Injection struct {
	// Kill is the kill: victim, its term, sent and (when confirmed) done
	// moments, and why it was not confirmed when it was not.
	Kill cluster.Kill
	// Before is the leadership seen before the write.
	Before cluster.Leadership
	// Reread is the partition's leadership read just before the kill.
	Reread cluster.Leadership
	// Retargeted is true when the victim is not the leader (or term) seen
	// before the write, or when a member refused to be killed because it no
	// longer led; RetargetReason says which.
	Retargeted     bool
	RetargetReason string
	// Attempts counts the kill attempts (more than one when the leader moved under us).
	Attempts int
	// Heal is the running timed fault (pause, isolation); nil for a kill.
	Heal *Heal
}

// Failpoint is the fault a trial injects.
type Failpoint interface {
	// Name names the failpoint in logs.
	Name() string
	// Inject fires the fault on partition; before is the leadership seen before the write.
	Inject(ctx context.Context, partition int, before cluster.Leadership) (Injection, error)
}

// LeaderKill kills the verified current leader of the partition, re-reading
// leader and term just before the kill and re-targeting when they moved or
// when the member itself denies leading.
type LeaderKill struct {
	// Target is the store whose leaders are killed.
	Target cluster.Target
	// Attempts bounds the kills tried when the target refuses because the leader moved (default 5).
	Attempts int
}

// retryPause spaces kill attempts refused because the leader moved, so that
// the target's view can catch up with the member's own.
const retryPause = 10 * time.Millisecond

// Name implements Failpoint.
func (LeaderKill) Name() string { return "kill-leader" }

// Inject implements Failpoint.
func (f LeaderKill) Inject(ctx context.Context, partition int, before cluster.Leadership) (Injection, error) {
	return retryOnLeader(ctx, f.Target, partition, before, f.Attempts, func(ctx context.Context) (Injection, error) {
		k, err := f.Target.KillLeader(ctx, partition)
		return Injection{Kill: k}, err
	})
}

// retryOnLeader fires act at the partition's current leader, re-reading
// leader and term before each attempt and trying again (at most attempts
// times, default 5) while the target refuses because the leader moved.
func retryOnLeader(ctx context.Context, tgt cluster.Target, partition int, before cluster.Leadership, attempts int,
	act func(context.Context) (Injection, error)) (Injection, error) {
	if attempts < 1 {
		attempts = 5
	}
	inj := Injection{Before: before}
	var refusals []string
	var lastErr error
	for n := 1; n <= attempts; n++ {
		cur, err := reread(ctx, tgt, partition)
		if err != nil {
			inj.Attempts = n
			return inj, err
		}
		got, err := act(ctx)
		if err == nil {
			got.Before, got.Reread, got.Attempts = before, cur, n
			got.retarget(refusals)
			return got, nil
		}
		inj.Reread, inj.Attempts, lastErr = cur, n, err
		if !errors.Is(err, cluster.ErrNotLeader) && !errors.Is(err, cluster.ErrNoLeader) {
			break
		}
		refusals = append(refusals, err.Error())
		if err := pause(ctx, retryPause); err != nil {
			break
		}
	}
	return inj, fmt.Errorf("failing the leader of partition %d (%d attempts): %w", partition, inj.Attempts, lastErr)
}

// reread reads the partition's leader, waiting for one while an election runs.
func reread(ctx context.Context, tgt cluster.Target, partition int) (cluster.Leadership, error) {
	cur, err := tgt.Leader(ctx, partition)
	if errors.Is(err, cluster.ErrNoLeader) {
		after := uint64(0)
		if cur.Term > 0 {
			after = cur.Term - 1
		}
		cur, err = tgt.WaitForLeader(ctx, partition, after)
	}
	if err != nil {
		return cur, fmt.Errorf("re-reading the leader of partition %d: %w", partition, err)
	}
	return cur, nil
}

// retarget says whether and why the kill went elsewhere than the leader
// seen before the write.
func (inj *Injection) retarget(refusals []string) {
	var why []string
	b, k := inj.Before, inj.Kill
	if b.Leader.ID != 0 && (k.Victim.ID != b.Leader.ID || k.Term != b.Term) {
		why = append(why, fmt.Sprintf("leader moved between the write and the kill (member %d term %d → member %d term %d)",
			b.Leader.ID, b.Term, k.Victim.ID, k.Term))
	}
	for _, r := range refusals {
		why = append(why, "refused: "+r)
	}
	inj.Retargeted = len(why) > 0
	inj.RetargetReason = strings.Join(why, "; ")
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// DataWipe is the positive control's fault: every member killed and
// restarted on empty data (cluster.Wiper), so that acknowledged writes are
// lost by construction.
type DataWipe struct {
	// Target is the store wiped; it must implement cluster.Wiper.
	Target cluster.Target
}

// Name implements Failpoint.
func (DataWipe) Name() string { return "wipe-all" }

// Inject implements Failpoint.
func (f DataWipe) Inject(ctx context.Context, partition int, before cluster.Leadership) (Injection, error) {
	w, ok := f.Target.(cluster.Wiper)
	if !ok {
		return Injection{Before: before}, fmt.Errorf("the %s target cannot wipe its data: the control needs the local target", f.Target.Info().Target)
	}
	k, err := w.WipeAll(ctx, partition)
	inj := Injection{Kill: k, Before: before, Reread: before, Attempts: 1}
	if err != nil {
		return inj, fmt.Errorf("wiping the store: %w", err)
	}
	return inj, nil
}
