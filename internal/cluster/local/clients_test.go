package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// sessionGoroutineFrame starts the frame of the goroutine that the rsm
// protocol client starts for each session the nodes granted it (in
// newSessionClient, right after the OpenSession response); it never exits.
const sessionGoroutineFrame = "github.com/atomix/atomix/protocols/rsm/pkg/client.(*SessionClient).open.func1("

// sessionGoroutines counts the rsm sessions this process has opened.
func sessionGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, line := range strings.Split(g, "\n") {
			if strings.HasPrefix(line, sessionGoroutineFrame) {
				count++
				break
			}
		}
	}
	return count
}

// clientPaths returns the open clients' data paths.
func clientPaths(s *Store) []*clientPath {
	s.mu.Lock()
	defer s.mu.Unlock()
	paths := make([]*clientPath, 0, len(s.clients))
	for c := range s.clients {
		paths = append(paths, c)
	}
	return paths
}

// partitionConns returns the data path's gRPC connections to the partitions.
func partitionConns(dp *dataPath) []*grpc.ClientConn {
	var conns []*grpc.ClientConn
	for _, cc := range dp.Conns() {
		if strings.HasPrefix(cc.Target(), partitionTargetPrefix) {
			conns = append(conns, cc)
		}
	}
	return conns
}

// portFree reports whether nothing listens on 127.0.0.1:port.
func portFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// TestClientSessions opens four clients on a real store and checks that
// each has its own sessions and connections, that they see each other's
// writes, that closing one leaves the others working, that every client is
// reconfigured after a leader kill, and that Close releases the rest.
func TestClientSessions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := Start(ctx, DefaultConfig(), zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = s.Close() }()
	const n = 4
	before := sessionGoroutines()
	maps := make([]cluster.Map, n)
	for i := range maps {
		if maps[i], err = s.OpenClient(ctx, "clients"); err != nil {
			t.Fatalf("OpenClient %d: %v", i, err)
		}
	}
	if got, want := sessionGoroutines()-before, n*s.cfg.Partitions; got != want {
		t.Errorf("new rsm sessions = %d, want %d (one per client and partition)", got, want)
	}
	checkDistinctConns(t, s, n)
	checkSharedWrites(ctx, t, maps)
	checkCloseOne(ctx, t, s, maps)
	checkReconfigured(ctx, t, s, maps[1:])
	var ports []int
	for _, c := range clientPaths(s) {
		ports = append(ports, c.Port())
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close with %d clients open: %v", len(ports), err)
	}
	if got := len(clientPaths(s)); got != 0 {
		t.Errorf("%d clients still registered after Close", got)
	}
	for _, port := range ports {
		if !portFree(port) {
			t.Errorf("client sidecar port %d still in use after Close", port)
		}
	}
	if _, err := s.OpenClient(ctx, "after-close"); !errors.Is(err, errStoreClosed) {
		t.Errorf("OpenClient after Close: %v, want %v", err, errStoreClosed)
	}
	if err := maps[1].Close(ctx); err != nil {
		t.Errorf("closing a map after the store's Close: %v", err)
	}
}

// checkDistinctConns checks that each of the n clients holds its own
// connection to every partition, shared with no other data path.
func checkDistinctConns(t *testing.T, s *Store, n int) {
	t.Helper()
	paths := clientPaths(s)
	if len(paths) != n {
		t.Fatalf("registered clients = %d, want %d", len(paths), n)
	}
	owner := map[*grpc.ClientConn]string{}
	for _, cc := range partitionConns(s.data) {
		owner[cc] = "store"
	}
	for _, c := range paths {
		targets := map[string]bool{}
		for _, cc := range partitionConns(c.Path()) {
			if o, ok := owner[cc]; ok {
				t.Errorf("%s shares connection %s with %s", c.name, cc.Target(), o)
			}
			owner[cc] = c.name
			targets[cc.Target()] = true
		}
		if len(targets) != s.cfg.Partitions {
			t.Errorf("%s has connections to %v, want one per partition", c.name, targets)
		}
	}
}

// checkSharedWrites has every client write one key per partition, read it
// back, and read every other client's keys.
func checkSharedWrites(ctx context.Context, t *testing.T, maps []cluster.Map) {
	t.Helper()
	keys := map[string]string{}
	for i, m := range maps {
		for p := 1; p <= 3; p++ {
			key := keyFor(t, fmt.Sprintf("client%d", i), p, 3)
			value := fmt.Sprintf("from-%d", i)
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := m.Put(wctx, key, value)
			wcancel()
			if err != nil {
				t.Fatalf("client %d: Put(%s): %v", i, key, err)
			}
			if got := readBack(ctx, t, m, key); got != value {
				t.Errorf("client %d: Get(%s) = %q, want %q", i, key, got, value)
			}
			keys[key] = value
		}
	}
	for i, m := range maps {
		for key, value := range keys {
			if got := readBack(ctx, t, m, key); got != value {
				t.Errorf("client %d: Get(%s) = %q, want %q", i, key, got, value)
			}
		}
	}
}

// checkCloseOne closes the first client and checks that it is released
// while the others still write and read.
func checkCloseOne(ctx context.Context, t *testing.T, s *Store, maps []cluster.Map) {
	t.Helper()
	closed := maps[0].(*clientMap).client
	if err := maps[0].Close(ctx); err != nil {
		t.Fatalf("closing client 0: %v", err)
	}
	for _, c := range clientPaths(s) {
		if c == closed {
			t.Errorf("%s still registered after its Close", c.name)
		}
	}
	if !portFree(closed.Port()) {
		t.Errorf("%s: sidecar port %d still in use after Close", closed.name, closed.Port())
	}
	if conns := partitionConns(closed.Path()); len(conns) != 0 {
		t.Errorf("%s: %d connections to the nodes left after Close", closed.name, len(conns))
	}
	gctx, gcancel := context.WithTimeout(ctx, 5*time.Second)
	defer gcancel()
	if _, err := maps[0].Put(gctx, "closed", "x"); err == nil {
		t.Error("Put on a closed client succeeded")
	}
	for i, m := range maps[1:] {
		key := fmt.Sprintf("after-close-%d", i+1)
		if _, err := m.Put(gctx, key, "v"); err != nil {
			t.Fatalf("client %d after closing client 0: Put: %v", i+1, err)
		}
		if got := readBack(ctx, t, m, key); got != "v" {
			t.Errorf("client %d: Get(%s) = %q, want v", i+1, key, got)
		}
	}
}

// checkReconfigured kills partition 1's leader and checks that every
// client's next write to the partition succeeds and was last sent to the
// new leader: the client was reconfigured.
func checkReconfigured(ctx context.Context, t *testing.T, s *Store, maps []cluster.Map) {
	t.Helper()
	const p = 1
	k, err := s.KillLeader(ctx, p)
	if err != nil {
		t.Fatalf("KillLeader: %v", err)
	}
	lctx, lcancel := context.WithTimeout(ctx, 30*time.Second)
	defer lcancel()
	leader, err := s.WaitForLeader(lctx, p, k.Term)
	if err != nil {
		t.Fatalf("WaitForLeader: %v", err)
	}
	for i, m := range maps {
		key := keyFor(t, fmt.Sprintf("after-kill-%d", i), p, 3)
		sends, stop := s.ObserveWrites(p)
		wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
		_, err := m.Put(wctx, key, "v")
		wcancel()
		stop()
		if err != nil {
			t.Fatalf("client %d: Put after the kill of %s: %v", i, k.Victim, err)
		}
		if to := lastSend(sends); to != leader.Leader.Address {
			t.Errorf("client %d: Put last sent to %q, want the new leader %s", i, to, leader.Leader.Address)
		}
	}
}

// lastSend drains sends and returns the address of the last one.
func lastSend(sends <-chan cluster.Send) string {
	to := ""
	for {
		select {
		case snd := <-sends:
			to = snd.To
		default:
			return to
		}
	}
}

// TestClientWipe checks that WipeAll releases every client before it kills
// the nodes, that maps opened before are unusable afterwards, and that new
// clients work on the wiped store.
func TestClientWipe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, DefaultConfig(), zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = s.Close() }()
	old, err := s.OpenClient(ctx, "wipe")
	if err != nil {
		t.Fatalf("OpenClient: %v", err)
	}
	port := old.(*clientMap).client.Port()
	if _, err := s.WipeAll(ctx, 1); err != nil {
		t.Fatalf("WipeAll: %v", err)
	}
	if got := len(clientPaths(s)); got != 0 {
		t.Errorf("%d clients still registered after the wipe", got)
	}
	if !portFree(port) {
		t.Errorf("the old client's sidecar port %d still in use after the wipe", port)
	}
	gctx, gcancel := context.WithTimeout(ctx, 10*time.Second)
	defer gcancel()
	if _, err := old.Put(gctx, "k", "v"); err == nil {
		t.Error("Put on a map opened before the wipe succeeded")
	}
	if err := old.Close(gctx); err != nil {
		t.Errorf("closing a map opened before the wipe: %v", err)
	}
	m, err := s.OpenClient(ctx, "wipe")
	if err != nil {
		t.Fatalf("OpenClient after the wipe: %v", err)
	}
	if _, err := m.Put(gctx, "k", "v"); err != nil {
		t.Errorf("Put on a client opened after the wipe: %v", err)
	}
}
