package local

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// keyFor returns a key that Atomix routes to partition (1-based) of n.
func keyFor(t *testing.T, prefix string, partition, n int) string {
	t.Helper()
	for i := 0; i < 10000; i++ {
		k := fmt.Sprintf("%s-%d", prefix, i)
		h := fnv.New32a()
		_, _ = h.Write([]byte(k))
		if int(h.Sum32()%uint32(n)) == partition-1 {
			return k
		}
	}
	t.Fatalf("no key for partition %d", partition)
	return ""
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// TestStoreFailover starts a real 3×3 store, kills the leader of each
// partition in turn, and checks that a new leader with a higher term is
// observed and that a value written before each kill is read back.
func TestStoreFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := Start(ctx, DefaultConfig(), zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	pids := map[int]bool{}
	for _, pid := range s.PIDs() {
		pids[pid] = true
	}
	dir := s.DataDir()
	closed := false
	defer func() {
		if !closed {
			_ = s.Close()
		}
	}()
	if got := len(pids); got != 3 {
		t.Fatalf("node processes = %d, want 3", got)
	}
	m, err := s.Map(ctx, "integration")
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	for p := 1; p <= 3; p++ {
		key := keyFor(t, "before-kill", p, 3)
		value := fmt.Sprintf("value-%d", p)
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		if _, err := m.Put(wctx, key, value); err != nil {
			wcancel()
			t.Fatalf("partition %d: Put: %v", p, err)
		}
		wcancel()
		before, err := s.Leader(ctx, p)
		if err != nil {
			t.Fatalf("partition %d: Leader: %v", p, err)
		}
		k, err := s.KillLeader(ctx, p)
		if err != nil {
			t.Fatalf("partition %d: KillLeader: %v", p, err)
		}
		if k.Victim.ID != before.Leader.ID || k.Term != before.Term {
			t.Errorf("partition %d: killed member %d term %d, leader was %d term %d", p, k.Victim.ID, k.Term, before.Leader.ID, before.Term)
		}
		if !processGone(k.Victim.PID) {
			t.Errorf("partition %d: killed pid %d still exists", p, k.Victim.PID)
		}
		if !k.DoneAt.After(k.SentAt) {
			t.Errorf("partition %d: kill done %v not after sent %v", p, k.DoneAt, k.SentAt)
		}
		lctx, lcancel := context.WithTimeout(ctx, 60*time.Second)
		after, err := s.WaitForLeader(lctx, p, k.Term)
		lcancel()
		if err != nil {
			t.Fatalf("partition %d: WaitForLeader: %v", p, err)
		}
		if after.Term <= k.Term {
			t.Errorf("partition %d: new term %d not above %d", p, after.Term, k.Term)
		}
		if after.ObservedAt.Before(k.SentAt) {
			t.Errorf("partition %d: new leader observed before the kill", p)
		}
		t.Logf("partition %d: killed %s term %d → leader %s term %d after %s", p, k.Victim, k.Term, after.Leader, after.Term, after.ObservedAt.Sub(k.SentAt))
		got := readBack(ctx, t, m, key)
		if got != value {
			t.Errorf("partition %d: read %q after failover, want %q", p, got, value)
		}
		rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
		back, err := s.Restored(rctx, k)
		rcancel()
		if err != nil {
			t.Fatalf("partition %d: Restored: %v", p, err)
		}
		if !back.Began.After(after.ObservedAt) || back.Back.Before(back.Began) {
			t.Errorf("partition %d: victim restart began %v, back %v; want after the new leader (%v)", p,
				back.Began.Sub(k.SentAt), back.Back.Sub(k.SentAt), after.ObservedAt.Sub(k.SentAt))
		}
		hctx, hcancel := context.WithTimeout(ctx, 60*time.Second)
		h, err := s.WaitHealthy(hctx, cluster.HealthSpec{Partition: p, MinLeaderAge: 300 * time.Millisecond})
		hcancel()
		if err != nil {
			t.Fatalf("partition %d: %v", p, err)
		}
		if h.LeaderAge < 300*time.Millisecond || len(h.Leaders) != 3 {
			t.Errorf("partition %d: healthy with leader age %s and %d partitions", p, h.LeaderAge, len(h.Leaders))
		}
		for _, pid := range s.PIDs() {
			pids[pid] = true
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	closed = true
	for pid := range pids {
		if !processGone(pid) {
			t.Errorf("node pid %d survived Close", pid)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("data dir %s left behind: %v", dir, err)
	}
}

func readBack(ctx context.Context, t *testing.T, m cluster.Map, key string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		e, err := m.Get(gctx, key)
		cancel()
		if err == nil {
			return e.Value
		}
		if time.Now().After(deadline) {
			t.Fatalf("Get(%s): %v", key, err)
		}
	}
}
