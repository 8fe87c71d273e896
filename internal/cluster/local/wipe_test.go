package local

import (
	"context"
	"errors"
	"testing"
	"time"

	atomixerrors "github.com/atomix/atomix/api/errors"
	"go.uber.org/zap/zaptest"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// TestStoreControls checks on a real store the node status service (a
// follower denies leading; the leader confirms its term), the health wait's
// leadership spreading (after every group is handed to one node), that a
// Put's request is seen leaving for the partition's leader before the Put
// returns, and that WipeAll (the positive control) really loses an
// acknowledged write while leaving a working store behind.
func TestStoreControls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, DefaultConfig(), zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = s.Close() }()
	m, err := s.Map(ctx, "wipe")
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	const p = 2
	key := keyFor(t, "acked", p, 3)
	leader, err := s.Leader(ctx, p)
	if err != nil {
		t.Fatalf("Leader: %v", err)
	}
	checkConfirmLeader(ctx, t, s, leader)
	checkSpread(ctx, t, s)
	if leader, err = s.Leader(ctx, p); err != nil {
		t.Fatalf("Leader: %v", err)
	}
	sends, stop := s.ObserveWrites(p)
	began := time.Now()
	if _, err := m.Put(ctx, key, "v1"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	acked := time.Now()
	stop()
	select {
	case snd := <-sends:
		if snd.To != leader.Leader.Address || snd.At.Before(began) || snd.At.After(acked) {
			t.Errorf("send to %s at %s (ack at %s), want to the leader %s between write start and ack",
				snd.To, snd.At.Sub(began), acked.Sub(began), leader.Leader.Address)
		}
	default:
		t.Fatal("no write request observed")
	}

	k, err := s.WipeAll(ctx, p)
	if err != nil {
		t.Fatalf("WipeAll: %v", err)
	}
	if k.Victim.ID != leader.Leader.ID || k.DoneAt.Before(k.SentAt) {
		t.Errorf("wipe kill %+v, want victim %d", k, leader.Leader.ID)
	}
	hctx, hcancel := context.WithTimeout(ctx, time.Minute)
	defer hcancel()
	if _, err := s.WaitHealthy(hctx, cluster.HealthSpec{}); err != nil {
		t.Fatalf("after the wipe: %v", err)
	}
	m2, err := s.Map(ctx, "wipe")
	if err != nil {
		t.Fatalf("Map after the wipe: %v", err)
	}
	gctx, gcancel := context.WithTimeout(ctx, 10*time.Second)
	defer gcancel()
	_, err = m2.Get(gctx, key)
	var typed *atomixerrors.TypedError
	if !errors.As(err, &typed) || typed.Type != atomixerrors.NotFound {
		t.Fatalf("Get after the wipe: %v, want NotFound (the acknowledged write is gone)", err)
	}
	if _, err := m2.Put(gctx, key, "v2"); err != nil {
		t.Errorf("Put after the wipe: %v", err)
	}
}

func checkConfirmLeader(ctx context.Context, t *testing.T, s *Store, leader cluster.Leadership) {
	t.Helper()
	term, err := s.confirmLeader(ctx, leader)
	if err != nil || term != leader.Term {
		t.Errorf("the leader confirms term %d (%v), want %d", term, err, leader.Term)
	}
	impostor := leader
	impostor.Leader = leader.Followers[0]
	if _, err := s.confirmLeader(ctx, impostor); !errors.Is(err, cluster.ErrNotLeader) {
		t.Errorf("a follower asked whether it leads: %v, want ErrNotLeader", err)
	}
}

// checkSpread hands every group to one node, then expects the health wait
// to hand one back so that two nodes lead.
func checkSpread(ctx context.Context, t *testing.T, s *Store) {
	t.Helper()
	const to = 1
	for g := 1; g <= 3; g++ {
		l, err := s.Leader(ctx, g)
		if err != nil {
			t.Fatalf("Leader(%d): %v", g, err)
		}
		if l.Leader.ID == to {
			continue
		}
		if err := s.nodes[l.Leader.ID-1].transferLeadership(ctx, g, to); err != nil {
			t.Fatalf("transfer: %v", err)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = s.tracker.waitFor(wctx, func(v map[int]groupState) bool { return v[g].Leader == to })
		cancel()
		if err != nil {
			t.Fatalf("group %d never moved to member %d: %v", g, to, err)
		}
	}
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := s.WaitHealthy(hctx, cluster.HealthSpec{})
	if err != nil {
		t.Fatalf("WaitHealthy: %v", err)
	}
	distinct := map[uint64]bool{}
	for _, l := range h.Leaders {
		distinct[l.Leader.ID] = true
	}
	if len(distinct) < 2 {
		t.Errorf("healthy with leaders %v: leadership not spread", distinct)
	}
}
