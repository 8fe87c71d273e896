package faketarget

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestKillElectRestart(t *testing.T) {
	tgt := New(DefaultConfig())
	defer func() { _ = tgt.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	before, err := tgt.Leader(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	k, err := tgt.KillLeader(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if k.Victim.ID != before.Leader.ID || k.Term != before.Term || k.DoneAt.Before(k.SentAt) {
		t.Fatalf("kill %+v, leader was %+v", k, before)
	}
	if _, err := tgt.Leader(ctx, 2); !errors.Is(err, cluster.ErrNoLeader) {
		t.Fatalf("Leader right after the kill: %v, want ErrNoLeader", err)
	}
	if _, err := tgt.KillLeader(ctx, 2); !errors.Is(err, cluster.ErrNoLeader) {
		t.Fatalf("second kill during the election: %v, want ErrNoLeader", err)
	}
	after, err := tgt.WaitForLeader(ctx, 2, k.Term)
	if err != nil {
		t.Fatal(err)
	}
	if after.Term <= k.Term || after.Leader.ID == k.Victim.ID || after.ObservedAt.Before(k.DoneAt) {
		t.Fatalf("new leadership %+v after kill %+v", after, k)
	}
	for {
		ls, _ := tgt.Leaders(ctx)
		var victim cluster.Member
		for _, f := range append(ls[1].Followers, ls[1].Leader) {
			if f.ID == k.Victim.ID {
				victim = f
			}
		}
		if victim.PID != 0 {
			if victim.UID == k.Victim.UID {
				t.Fatalf("restarted member kept UID %s", victim.UID)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("victim never restarted")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		fault   Fault
		putErr  bool
		stored  bool
		foreign bool
	}{
		{0, false, true, false},
		{DropWrite, false, false, false},
		{FailWriteApplied, true, true, false},
		{FailWriteAbsent, true, false, false},
		{ForeignValue, false, true, true},
		{MoveLeaderOnAck, false, true, false},
	}
	for _, tt := range tests {
		tgt := New(DefaultConfig())
		m, _ := tgt.Map(context.Background(), "m")
		tgt.SetFault("k", tt.fault)
		_, err := m.Put(context.Background(), "k", "v")
		v, ok := tgt.Value("k")
		if (err != nil) != tt.putErr || ok != tt.stored || (ok && (v != "v") != tt.foreign) {
			t.Errorf("fault %d: put error %v, stored %q %v", tt.fault, err, v, ok)
		}
		_ = tgt.Close()
	}
}
