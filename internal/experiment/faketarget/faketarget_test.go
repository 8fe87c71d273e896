package faketarget

import (
	"context"
	"errors"
	"testing"
	"time"

	atomixerrors "github.com/atomix/atomix/api/errors"
	"github.com/atomix/go-sdk/pkg/primitive"
	_map "github.com/atomix/go-sdk/pkg/primitive/map"
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

func TestVersionsAndUpdate(t *testing.T) {
	ctx := context.Background()
	tgt := New(DefaultConfig())
	defer func() { _ = tgt.Close() }()
	m, _ := tgt.Map(ctx, "m")
	if _, err := m.Update(ctx, "k", "v0"); !atomixerrors.IsNotFound(err) {
		t.Fatalf("update of an absent key: %v, want NotFound", err)
	}
	e1, err := m.Put(ctx, "k", "v1")
	if err != nil || e1.Version == 0 {
		t.Fatalf("put: %+v, %v", e1, err)
	}
	e2, err := m.Put(ctx, "other", "x")
	if err != nil || e2.Version <= e1.Version {
		t.Fatalf("second put: %+v, %v; want a version above %d", e2, err, e1.Version)
	}
	tests := []struct {
		name    string
		opts    []_map.UpdateOption
		want    func(error) bool
		applied bool
	}{
		{"stale version", []_map.UpdateOption{_map.IfVersion(e1.Version + 100)}, atomixerrors.IsConflict, false},
		{"current version", []_map.UpdateOption{_map.IfVersion(primitive.Version(tgt.Version("k")))}, nil, true},
		{"no precondition", nil, nil, true},
	}
	for _, tt := range tests {
		before := tgt.Version("k")
		e, err := m.Update(ctx, "k", tt.name, tt.opts...)
		switch {
		case tt.want != nil && !tt.want(err):
			t.Errorf("%s: error %v", tt.name, err)
		case tt.applied && (err != nil || uint64(e.Version) <= before || tgt.Version("k") != uint64(e.Version)):
			t.Errorf("%s: %+v, %v; version before %d", tt.name, e, err, before)
		}
		if v, _ := tgt.Value("k"); (v == tt.name) != tt.applied {
			t.Errorf("%s: stored %q", tt.name, v)
		}
	}
	g, err := m.Get(ctx, "k")
	if err != nil || uint64(g.Version) != tgt.Version("k") {
		t.Fatalf("get: %+v, %v; stored version %d", g, err, tgt.Version("k"))
	}
}

func TestStaleReads(t *testing.T) {
	ctx := context.Background()
	tgt := New(DefaultConfig())
	defer func() { _ = tgt.Close() }()
	m, _ := tgt.Map(ctx, "m")
	tgt.SetFault("k", StaleReads)
	e1, _ := m.Put(ctx, "k", "v1")
	if _, err := m.Get(ctx, "k"); !atomixerrors.IsNotFound(err) {
		t.Fatalf("stale read after the first write: %v, want NotFound", err)
	}
	if _, err := m.Put(ctx, "k", "v2"); err != nil {
		t.Fatal(err)
	}
	g, err := m.Get(ctx, "k")
	if err != nil || g.Value != "v1" || g.Version != e1.Version {
		t.Fatalf("stale read: %+v, %v; want v1 at %d", g, err, e1.Version)
	}
	if v, _ := tgt.Value("k"); v != "v2" {
		t.Fatalf("stored %q, want v2", v)
	}
}

func TestOpenClient(t *testing.T) {
	ctx := context.Background()
	tgt := New(DefaultConfig())
	defer func() { _ = tgt.Close() }()
	var s cluster.Sessions = tgt
	a, err := s.OpenClient(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.OpenClient(ctx, "m")
	if n := tgt.OpenClients(); n != 2 {
		t.Fatalf("%d open clients, want 2", n)
	}
	if _, err := a.Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if g, err := b.Get(ctx, "k"); err != nil || g.Value != "v" {
		t.Fatalf("other client read %+v, %v", g, err)
	}
	_ = a.Close(ctx)
	_ = a.Close(ctx)
	_ = b.Close(ctx)
	if n := tgt.OpenClients(); n != 0 {
		t.Fatalf("%d open clients after closing both, want 0", n)
	}
}
