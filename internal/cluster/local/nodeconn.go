package local

import (
	"context"
	"fmt"
	"io"
	"time"

	raftv1 "github.com/atomix/atomix/stores/raft/api/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// bootstrapTimeout bounds one BootstrapGroup call.
const bootstrapTimeout = 10 * time.Second

// nodeConn is the control connection to one node incarnation.
type nodeConn struct {
	spec   nodeSpec
	proc   *process
	conn   *grpc.ClientConn
	client raftv1.NodeClient
}

func dialNode(spec nodeSpec, p *process) (*nodeConn, error) {
	conn, err := grpc.Dial(spec.apiAddress(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("%s: connecting to %s: %w", spec.Name, spec.apiAddress(), err)
	}
	return &nodeConn{spec: spec, proc: p, conn: conn, client: raftv1.NewNodeClient(conn)}, nil
}

// directMembers lists every node as a voting member at its own Raft port.
func directMembers(specs []nodeSpec) []raftv1.MemberConfig {
	members := make([]raftv1.MemberConfig, 0, len(specs))
	for _, s := range specs {
		members = append(members, raftv1.MemberConfig{
			MemberID: raftv1.MemberID(s.ID), Host: "127.0.0.1", Port: int32(s.RaftPort), Role: raftv1.MemberRole_MEMBER,
		})
	}
	return members
}

// bootstrapGroup makes the node a member of group g with members as its
// voting members; it is idempotent and repeated after every restart, with
// the same members (dragonboat checks them against its bootstrap record).
func (nc *nodeConn) bootstrapGroup(ctx context.Context, g int, members []raftv1.MemberConfig, cfg raftv1.RaftConfig) error {
	ctx, cancel := context.WithTimeout(ctx, bootstrapTimeout)
	defer cancel()
	_, err := nc.client.BootstrapGroup(ctx, &raftv1.BootstrapGroupRequest{
		GroupID:  raftv1.GroupID(g),
		MemberID: raftv1.MemberID(nc.spec.ID),
		Members:  members,
		Config:   cfg,
	}, grpc.WaitForReady(true))
	return err
}

// watch holds one long-lived Watch stream open and hands every
// LeaderUpdated event to fn, until the stream ends (node death or close).
// The stream is never cancelled while the node lives: cancelling a Watch
// stream can crash the node.
func (nc *nodeConn) watch(fn func(leaderEvent)) error {
	stream, err := nc.client.Watch(context.Background(), &raftv1.WatchRequest{}, grpc.WaitForReady(true))
	if err != nil {
		return fmt.Errorf("%s: opening watch stream: %w", nc.spec.Name, err)
	}
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: watch stream: %w", nc.spec.Name, err)
		}
		if lu := ev.GetLeaderUpdated(); lu != nil {
			fn(leaderEvent{
				Group: int(lu.GroupID), Reporter: uint64(lu.MemberID),
				Term: uint64(lu.Term), Leader: uint64(lu.Leader), At: time.Now(),
			})
		}
	}
}

func (nc *nodeConn) close() { _ = nc.conn.Close() }
