package local

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	raftv1 "github.com/atomix/atomix/stores/raft/api/v1"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// errNoLinkProxies says that the store runs its nodes without link proxies.
var errNoLinkProxies = errors.New("the store runs without link proxies (start it with LinkProxies)")

// linkKey names the directed Raft link from one member to another.
type linkKey struct{ from, to uint64 }

// links are the proxies of a store started with LinkProxies, owned by the
// store for its whole life: one per directed pair of nodes for Raft
// traffic, and one per node for the clients' traffic to its API. Node X
// knows member Y (≠ X) at the address of the proxy of link X→Y, which
// forwards to Y's own Raft port; a restarted node listens on its own port
// again and the proxies simply dial it anew. The nodes' control connections
// (bootstrap, Watch, node status) do not go through the proxies.
type links struct {
	specs []nodeSpec
	raft  map[linkKey]*proxy
	api   []*proxy
}

// listenLinks listens for every proxy of a store of n nodes, before the
// nodes' ports are picked, so that no node port is taken by a proxy.
func listenLinks(n int) (*links, error) {
	l := &links{raft: map[linkKey]*proxy{}}
	for from := uint64(1); from <= uint64(n); from++ {
		for to := uint64(1); to <= uint64(n); to++ {
			if from == to {
				continue
			}
			p, err := listenProxy()
			if err != nil {
				l.close()
				return nil, fmt.Errorf("listening for the Raft link node-%d→node-%d: %w", from, to, err)
			}
			l.raft[linkKey{from, to}] = p
		}
	}
	for i := 1; i <= n; i++ {
		p, err := listenProxy()
		if err != nil {
			l.close()
			return nil, fmt.Errorf("listening for the clients of node-%d: %w", i, err)
		}
		l.api = append(l.api, p)
	}
	return l, nil
}

// start forwards every proxy to its node of specs, every Raft link
// rewriting the addresses its frames carry (addrMap). Snapshots do cross
// the links: stores/raft v0.7.0 gives every group SnapshotEntries 10000 and
// CompactionOverhead 1000 (dragonboat: a snapshot every 10000 applied
// entries, the log compacted to 1000 entries behind it), and a leader sends
// a follower that lacks compacted entries a snapshot, in chunks that carry
// the leader's membership, i.e. its own link proxies' addresses; the link
// rewrites them into the receiver's, so that a node cut off over a
// compaction catches up (TestIsolatedLeaderCatchesUpBySnapshot).
func (l *links) start(specs []nodeSpec) {
	l.specs = specs
	for k, p := range l.raft {
		p.start(specs[k.to-1].raftAddress(), l.addrMap(k).copyFrames)
	}
	for i, p := range l.api {
		p.start(specs[i].apiAddress(), copyPipe)
	}
}

// raftAddress is the address at which node of member `at` knows member `of`.
func (l *links) raftAddress(at, of nodeSpec) string {
	if at.ID == of.ID {
		return of.raftAddress()
	}
	return l.raft[linkKey{at.ID, of.ID}].addr()
}

// addrMap translates the addresses the sender of link k knows into those its receiver knows.
func (l *links) addrMap(k linkKey) addrMap {
	from, to := l.specs[k.from-1], l.specs[k.to-1]
	m := addrMap{}
	for _, of := range l.specs {
		m[l.raftAddress(from, of)] = l.raftAddress(to, of)
	}
	return m
}

// members is the member list node `at` is bootstrapped with: the same at
// every restart, as dragonboat's bootstrap record requires (raftpb
// Bootstrap.Validate), since the proxies keep their ports for the store's life.
func (l *links) members(at nodeSpec) ([]raftv1.MemberConfig, error) {
	members := make([]raftv1.MemberConfig, 0, len(l.specs))
	for _, of := range l.specs {
		host, port, err := net.SplitHostPort(l.raftAddress(at, of))
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(port)
		if err != nil {
			return nil, err
		}
		members = append(members, raftv1.MemberConfig{
			MemberID: raftv1.MemberID(of.ID), Host: host, Port: int32(n), Role: raftv1.MemberRole_MEMBER,
		})
	}
	return members, nil
}

// apiAddress is the address at which clients reach node i's API.
func (l *links) apiAddress(i int) string { return l.api[i].addr() }

// peerLinks lists the proxies of every Raft link to and from member.
func (l *links) peerLinks(member uint64) []*proxy {
	var out []*proxy
	for k, p := range l.raft {
		if k.from == member || k.to == member {
			out = append(out, p)
		}
	}
	return out
}

// side lists the proxies that cut member off from side.
func (l *links) side(member uint64, from cluster.Side) []*proxy {
	if from == cluster.SidePeers {
		return l.peerLinks(member)
	}
	return []*proxy{l.api[member-1]}
}

// cut cuts every proxy of ps and returns how many connections it reset.
func cut(ps []*proxy) int {
	n := 0
	for _, p := range ps {
		n += p.cut()
	}
	return n
}

// heal heals every proxy of ps.
func heal(ps []*proxy) {
	for _, p := range ps {
		p.heal()
	}
}

// close stops every proxy and reaps its goroutines.
func (l *links) close() {
	for _, p := range l.raft {
		p.close()
	}
	for _, p := range l.api {
		p.close()
	}
}
