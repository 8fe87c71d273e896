package local

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

func startProxiedStore(t *testing.T, tune func(*Config)) (context.Context, *Store) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.LinkProxies = true
	if tune != nil {
		tune(&cfg)
	}
	return startTestStore(t, cfg, 3*time.Minute)
}

type isolation struct {
	iz  cluster.Disruption
	err error
}

// isolateAsync runs IsolateLeader in the background and returns once the
// cut is in effect; the test's cleanup, before the store's, cancels it and
// waits for its end.
func isolateAsync(ctx context.Context, t *testing.T, s *Store, partition int, d time.Duration, from cluster.Side) (cluster.Disruption, <-chan isolation) {
	t.Helper()
	ictx, cancel := context.WithCancel(ctx)
	done := make(chan isolation, 1)
	started := make(chan cluster.Disruption, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		iz, err := s.IsolateLeader(ictx, partition, d, from, func(iz cluster.Disruption) { started <- iz })
		done <- isolation{iz, err}
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	select {
	case iz := <-started:
		return iz, done
	case r := <-done:
		t.Fatalf("IsolateLeader: %+v, %v", r.iz, r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("the cut has not begun after 10s")
	}
	return cluster.Disruption{}, nil
}

func awaitIsolation(t *testing.T, done <-chan isolation, within time.Duration) cluster.Disruption {
	t.Helper()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("IsolateLeader: %v", r.err)
		}
		return r.iz
	case <-time.After(within):
		t.Fatalf("IsolateLeader has not returned after %s", within)
	}
	return cluster.Disruption{}
}

// askThroughClientProxy asks node i, through its client proxy, which
// leader it knows for partition: a client's path to the node.
func askThroughClientProxy(ctx context.Context, s *Store, i, partition int) (leadershipReply, error) {
	conn, err := grpc.Dial(s.links.apiAddress(i), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return leadershipReply{}, err
	}
	defer func() { _ = conn.Close() }()
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var out leadershipReply
	err = conn.Invoke(actx, leadershipMethod, &groupRequest{Group: uint64(partition)}, &out,
		grpc.CallContentSubtype(jsonCodecName), grpc.WaitForReady(true))
	return out, err
}

func putWithin(ctx context.Context, m cluster.Map, key, value string, d time.Duration) error {
	pctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := m.Put(pctx, key, value)
	return err
}

// TestIsolateLeaderFromPeers cuts a real leader off from its peers past the
// election timeout: the others elect a new leader while the isolated node
// lives and its clients still reach it; once healed, it learns the new
// leader, the store is healthy again and a write acknowledged before the
// cut reads back.
func TestIsolateLeaderFromPeers(t *testing.T) {
	// Longer than two election rounds (1–2 s each at default timings), so that a split vote does not fail the test.
	const partition, cut = 1, 6 * time.Second
	ctx, s := startProxiedStore(t, nil)
	m, err := s.Map(ctx, "isolate-peers")
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	key := keyFor(t, "before-cut", partition, s.cfg.Partitions)
	if err := putWithin(ctx, m, key, "kept", 10*time.Second); err != nil {
		t.Fatalf("Put: %v", err)
	}
	before := healthyLeader(ctx, t, s, partition)
	iz, done := isolateAsync(ctx, t, s, partition, cut, cluster.SidePeers)
	lctx, lcancel := context.WithDeadline(ctx, iz.SentAt.Add(cut))
	after, err := s.WaitForLeader(lctx, partition, before.Term)
	lcancel()
	if err != nil {
		t.Fatalf("no new leader during the cut: %v", err)
	}
	victim := int(iz.Victim.ID) - 1
	if r, err := askThroughClientProxy(ctx, s, victim, partition); err != nil {
		t.Errorf("the isolated node through its client proxy: %v", err)
	} else {
		t.Logf("the isolated node, asked through its client proxy during the cut: leader %d in term %d", r.Leader, r.Term)
	}
	if err := putWithin(ctx, m, keyFor(t, "during-cut", partition, s.cfg.Partitions), "v", 10*time.Second); err != nil {
		t.Errorf("Put to the new leader during the cut: %v", err)
	}
	if !slices.Contains(s.PIDs(), before.Leader.PID) {
		t.Errorf("isolated pid %d is not among the live nodes %v", before.Leader.PID, s.PIDs())
	}
	iz = awaitIsolation(t, done, cut+5*time.Second)
	checkPause(t, iz, before, cut)
	if after.Leader.ID == iz.Victim.ID || !after.ObservedAt.Before(iz.EndedAt) {
		t.Errorf("new leader %s in term %d observed %s after the cut (healed after %s)", after.Leader, after.Term,
			after.ObservedAt.Sub(iz.SentAt), iz.EndedAt.Sub(iz.SentAt))
	}
	rejoin := awaitRejoin(ctx, t, s, iz, after)
	t.Logf("cut %s off its peers in term %d; new leader %s in term %d observed %s after the cut; healed after %s; %s",
		iz.Victim, iz.Term, after.Leader, after.Term, after.ObservedAt.Sub(iz.SentAt).Round(time.Millisecond),
		iz.EndedAt.Sub(iz.SentAt).Round(time.Millisecond), rejoin)
	if got := readBack(ctx, t, m, key); got != "kept" {
		t.Errorf("read %q after the cut, want %q", got, "kept")
	}
}

// awaitRejoin waits until the healed node reports a leader in the new
// leader's term or later, then until the store is healthy, and says when.
func awaitRejoin(ctx context.Context, t *testing.T, s *Store, iz cluster.Disruption, after cluster.Leadership) string {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	view, err := s.tracker.waitFor(wctx, func(v map[int]groupState) bool {
		r := v[iz.Partition].Reports[iz.Victim.ID]
		return r.Term >= after.Term && r.Leader != 0 && r.Leader != iz.Victim.ID
	})
	r := view[iz.Partition].Reports[iz.Victim.ID]
	if err != nil {
		t.Fatalf("the healed node still reports leader %d in term %d: %v", r.Leader, r.Term, err)
	}
	hctx, hcancel := context.WithTimeout(ctx, 60*time.Second)
	h, err := s.WaitHealthy(hctx, cluster.HealthSpec{})
	hcancel()
	if err != nil {
		t.Fatalf("after the heal: %v", err)
	}
	final := h.Leaders[iz.Partition-1]
	return fmt.Sprintf("the healed node reported leader %d in term %d %s after the heal; healthy %s after the heal with leader %s in term %d",
		r.Leader, r.Term, r.At.Sub(iz.EndedAt).Round(time.Millisecond), h.At.Sub(iz.EndedAt).Round(time.Millisecond),
		final.Leader, final.Term)
}

// TestIsolateLeaderFromClients cuts the clients off from a real leader: its
// partition's writes stall while the Raft group keeps its leader and term,
// and resume once healed.
func TestIsolateLeaderFromClients(t *testing.T) {
	const partition, cut = 2, 3 * time.Second
	ctx, s := startProxiedStore(t, nil)
	m, err := s.Map(ctx, "isolate-clients")
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	key := keyFor(t, "cut", partition, s.cfg.Partitions)
	if err := putWithin(ctx, m, key, "before", 10*time.Second); err != nil {
		t.Fatalf("Put: %v", err)
	}
	before := healthyLeader(ctx, t, s, partition)
	iz, done := isolateAsync(ctx, t, s, partition, cut, cluster.SideClients)
	victim := int(iz.Victim.ID) - 1
	if err := putWithin(ctx, m, key, "during", time.Second); !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(fmt.Sprint(err), "deadline") {
		t.Errorf("Put to the isolated leader: %v, want it to time out", err)
	}
	if _, err := askThroughClientProxy(ctx, s, victim, partition); err == nil {
		t.Errorf("the isolated node answered through its client proxy")
	}
	s.mu.Lock()
	nc := s.nodes[victim]
	s.mu.Unlock()
	if err := nc.inSync(ctx, partition, time.Second); err != nil {
		t.Errorf("the isolated leader's Raft group: %v", err)
	}
	if l, err := s.Leader(ctx, partition); err != nil || l.Leader.ID != before.Leader.ID || l.Term != before.Term {
		t.Errorf("during the cut: leader %s in term %d (%v), want %s in term %d", l.Leader, l.Term, err, before.Leader, before.Term)
	}
	iz = awaitIsolation(t, done, cut+5*time.Second)
	checkPause(t, iz, before, cut)
	if err := putWithin(ctx, m, key, "after", 20*time.Second); err != nil {
		t.Fatalf("Put after the heal: %v", err)
	}
	resumed := time.Since(iz.EndedAt)
	if l, err := s.Leader(ctx, partition); err != nil || l.Leader.ID != before.Leader.ID || l.Term != before.Term {
		t.Errorf("after the cut: leader %s in term %d (%v), want %s in term %d", l.Leader, l.Term, err, before.Leader, before.Term)
	}
	t.Logf("cut %s off its clients in term %d for %s; a write went through %s after the heal",
		iz.Victim, iz.Term, iz.EndedAt.Sub(iz.SentAt).Round(time.Millisecond), resumed.Round(time.Millisecond))
}

// TestIsolateLeaderRefuses checks the refusals that cut nothing: a store
// without link proxies, and bad arguments.
func TestIsolateLeaderRefuses(t *testing.T) {
	stub := &Store{links: &links{}, specs: make([]nodeSpec, 3)}
	tests := []struct {
		name string
		s    *Store
		d    time.Duration
		from cluster.Side
		want error
	}{
		{name: "no link proxies", s: &Store{}, d: time.Second, from: cluster.SidePeers, want: errNoLinkProxies},
		{name: "no duration", s: stub, from: cluster.SidePeers},
		{name: "no such side", s: stub, d: time.Second, from: "network"},
		{name: "a client cut the sessions would not survive", s: stub, d: maxClientCut + time.Second, from: cluster.SideClients},
		{name: "a single node", s: &Store{links: &links{}, specs: make([]nodeSpec, 1)}, d: time.Second, from: cluster.SidePeers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iz, err := tt.s.IsolateLeader(context.Background(), 1, tt.d, tt.from, func(cluster.Disruption) {
				t.Error("started called on a refusal")
			})
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("IsolateLeader: %v, want a refusal (%v)", err, tt.want)
			}
			if !iz.SentAt.IsZero() {
				t.Errorf("refused with a cut sent at %v", iz.SentAt)
			}
			t.Logf("refused: %v", err)
		})
	}
}

// TestIsolateLeaderWithoutProxies checks that a store started without
// LinkProxies, as the kill campaign runs it, refuses IsolateLeader without
// touching its leader.
func TestIsolateLeaderWithoutProxies(t *testing.T) {
	const partition = 3
	ctx, s := startPauseStore(t)
	before := healthyLeader(ctx, t, s, partition)
	iz, err := s.IsolateLeader(ctx, partition, time.Second, cluster.SidePeers, nil)
	if !errors.Is(err, errNoLinkProxies) || !iz.SentAt.IsZero() {
		t.Errorf("IsolateLeader: %+v, %v; want errNoLinkProxies and nothing cut", iz, err)
	}
	if l, err := s.Leader(ctx, partition); err != nil || l.Leader.ID != before.Leader.ID || l.Term != before.Term {
		t.Errorf("after the refusal: leader %s in term %d (%v), want %s in term %d", l.Leader, l.Term, err, before.Leader, before.Term)
	}
	pc := s.protocolConfig().Partitions[partition-1]
	if want := s.specs[before.Leader.ID-1].apiAddress(); pc.Leader != want {
		t.Errorf("the clients reach the leader at %s, want its own API address %s", pc.Leader, want)
	}
}

// TestIsolatedLeaderCatchesUpBySnapshot compacts the log of the majority
// while their old leader is cut off, so that the new leader must send the
// healed node a snapshot: the snapshot's membership names the members at
// the sender's link proxies, which the link rewrites (dragonboat's registry
// would panic on them), and the healed node installs it, lives on and is
// in sync.
func TestIsolatedLeaderCatchesUpBySnapshot(t *testing.T) {
	// The cut is long enough for an election and the writes on a loaded
	// 2-core machine; each write may take what is left of it.
	const partition, cut, puts = 1, 12 * time.Second, 40
	ctx, s := startProxiedStore(t, func(c *Config) { c.snapshotEntries, c.compactionOverhead = 10, 2 })
	m, err := s.Map(ctx, "isolate-snapshot")
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	before := healthyLeader(ctx, t, s, partition)
	iz, done := isolateAsync(ctx, t, s, partition, cut, cluster.SidePeers)
	lctx, lcancel := context.WithDeadline(ctx, iz.SentAt.Add(cut))
	after, err := s.WaitForLeader(lctx, partition, before.Term)
	// A client opens a session on every partition: each one the cut-off
	// node led needs its new leader first (seen: a session on another
	// partition it led timed out against it).
	for p, term := range iz.Led {
		if err == nil && p != partition {
			_, err = s.WaitForLeader(lctx, p, term)
		}
	}
	lcancel()
	if err != nil {
		t.Fatalf("no new leader during the cut: %v", err)
	}
	// A client opened now starts on the new leaders: the shared one may
	// still be reconfiguring away from the cut-off node on a loaded machine.
	cm, err := s.OpenClient(ctx, "isolate-snapshot")
	if err != nil {
		t.Fatalf("OpenClient: %v", err)
	}
	t.Cleanup(func() { _ = cm.Close(context.Background()) })
	keys := make([]string, puts)
	for i := range keys {
		keys[i] = keyFor(t, fmt.Sprintf("compacted-%d", i), partition, s.cfg.Partitions)
		if err := putWithin(ctx, cm, keys[i], keys[i], time.Until(iz.SentAt.Add(cut-time.Second))); err != nil {
			t.Fatalf("Put %d during the cut (%s after it began): %v", i, time.Since(iz.SentAt), err)
		}
	}
	if time.Since(iz.SentAt) > cut {
		t.Fatalf("the writes outlasted the cut")
	}
	iz = awaitIsolation(t, done, cut+5*time.Second)
	rejoin := awaitRejoin(ctx, t, s, iz, after)
	if !slices.Contains(s.PIDs(), iz.Victim.PID) {
		t.Fatalf("the healed node (pid %d) is gone: %v%s", iz.Victim.PID, s.PIDs(), logTail(s.specs[iz.Victim.ID-1].LogPath))
	}
	if !restoredSnapshot(t, s.specs[iz.Victim.ID-1].LogPath, partition, iz.Victim.ID) {
		t.Errorf("the healed node's log shows no snapshot restored:%s", logTail(s.specs[iz.Victim.ID-1].LogPath))
	}
	if got := readBack(ctx, t, m, keys[puts-1]); got != keys[puts-1] {
		t.Errorf("read %q, want %q", got, keys[puts-1])
	}
	t.Logf("%d writes during the cut; %s", puts, rejoin)
}

// restoredSnapshot reports whether the node log says that member restored a
// snapshot of group (dragonboat v3.3.5: "[GGGGG:MMMMM] tN starts to restore snapshot").
func restoredSnapshot(t *testing.T, path string, group int, member uint64) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	node := fmt.Sprintf("[%05d:%05d]", group, member)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, node) && strings.Contains(line, "restore snapshot") {
			return true
		}
	}
	return false
}

// TestProxiedStoreKillRestart kills a leader of a store whose links go
// through the proxies: a new leader is elected, the victim comes back on
// its own ports behind the same proxies, and the store is healthy again.
func TestProxiedStoreKillRestart(t *testing.T) {
	const partition = 2
	ctx, s := startProxiedStore(t, nil)
	m, err := s.Map(ctx, "proxied-kill")
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	key := keyFor(t, "before-kill", partition, s.cfg.Partitions)
	if err := putWithin(ctx, m, key, "kept", 10*time.Second); err != nil {
		t.Fatalf("Put: %v", err)
	}
	healthyLeader(ctx, t, s, partition)
	k, err := s.KillLeader(ctx, partition)
	if err != nil {
		t.Fatalf("KillLeader: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	l, err := s.WaitForLeader(wctx, partition, k.Term)
	if err != nil {
		t.Fatalf("no new leader: %v", err)
	}
	r, err := s.Restored(wctx, k)
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.WaitHealthy(wctx, cluster.HealthSpec{})
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if got := readBack(ctx, t, m, key); got != "kept" {
		t.Errorf("read %q after the kill, want %q", got, "kept")
	}
	t.Logf("killed %s in term %d; new leader %s in term %d after %s; back after %s; healthy after %s",
		k.Victim, k.Term, l.Leader, l.Term, l.ObservedAt.Sub(k.SentAt).Round(time.Millisecond),
		r.Back.Sub(k.SentAt).Round(time.Millisecond), h.At.Sub(k.SentAt).Round(time.Millisecond))
}

// TestIsolateLeaderCancel checks that ending ctx during a long cut heals it
// at once, every proxy forwarding again.
func TestIsolateLeaderCancel(t *testing.T) {
	const partition = 3
	ctx, s := startProxiedStore(t, nil)
	for _, from := range []cluster.Side{cluster.SidePeers, cluster.SideClients} {
		t.Run(string(from), func(t *testing.T) {
			before := healthyLeader(ctx, t, s, partition)
			ictx, cancel := context.WithCancel(ctx)
			defer cancel()
			iz, done := isolateAsync(ictx, t, s, partition, maxClientCut, from)
			if iz.Victim.ID != before.Leader.ID {
				t.Errorf("cut %s, want %s", iz.Victim, before.Leader)
			}
			for _, p := range s.links.side(iz.Victim.ID, from) {
				if p.open() {
					t.Errorf("proxy to %s forwards during the cut", p.target)
				}
			}
			cancelled := time.Now()
			cancel()
			var r isolation
			select {
			case r = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("IsolateLeader has not returned 5s after the cancel")
			}
			if !errors.Is(r.err, context.Canceled) || r.iz.EndedAt.IsZero() || r.iz.EndedAt.Sub(cancelled) > time.Second {
				t.Errorf("after the cancel: %v, healed %s after it; want context.Canceled and healed at once", r.err, r.iz.EndedAt.Sub(cancelled))
			}
			for _, p := range append(slices.Collect(maps.Values(s.links.raft)), s.links.api...) {
				if !p.open() {
					t.Errorf("proxy to %s still cut after the heal", p.target)
				}
			}
		})
	}
}
