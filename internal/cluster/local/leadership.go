package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"
	"unsafe"

	raftv1 "github.com/atomix/atomix/stores/raft/api/v1"
	"github.com/atomix/atomix/stores/raft/pkg/raft"
	"github.com/lni/dragonboat/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"
)

// The node-status service is ours, served by our raft-node beside the Atomix
// node API, so that the store can ask a node itself what it knows: which
// leader and term it has for a group (from its own Raft event stream), and
// whether it is in sync with that leader (a ReadIndex round trip: the node
// asks the leader for its commit index, confirmed by a quorum, and waits
// until it has applied that far). Its messages are JSON.
const (
	statusService    = "atomixfailover.local.NodeStatus"
	leadershipMethod = "/" + statusService + "/Leadership"
	syncMethod       = "/" + statusService + "/Sync"
	transferMethod   = "/" + statusService + "/Transfer"
	jsonCodecName    = "atomixfailover-json"
)

func init() { encoding.RegisterCodec(jsonCodec{}) }

type jsonCodec struct{}

func (jsonCodec) Name() string                       { return jsonCodecName }
func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// groupRequest names a Raft group.
type groupRequest struct {
	Group uint64 `json:"group"`
	// TimeoutNS bounds a Sync.
	TimeoutNS int64 `json:"timeout_ns,omitempty"`
	// Target is the member a Transfer hands the leadership to.
	Target uint64 `json:"target,omitempty"`
}

// leadershipReply is a node's own latest view of a group's leadership.
type leadershipReply struct {
	Term   uint64 `json:"term"`
	Leader uint64 `json:"leader"`
}

// syncReply says that the node has applied the leader's commit index.
type syncReply struct{}

// nodeStatus is the handler type of the node-status service.
type nodeStatus interface {
	leadership(group uint64) leadershipReply
	sync(ctx context.Context, req groupRequest) error
	transfer(req groupRequest) error
}

func unaryHandler[Req any](call func(srv any, ctx context.Context, req *Req) (any, error)) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		in := new(Req)
		if err := dec(in); err != nil {
			return nil, err
		}
		return call(srv, ctx, in)
	}
}

var nodeStatusDesc = grpc.ServiceDesc{
	ServiceName: statusService,
	HandlerType: (*nodeStatus)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Leadership", Handler: unaryHandler(func(srv any, _ context.Context, in *groupRequest) (any, error) {
			r := srv.(nodeStatus).leadership(in.Group)
			return &r, nil
		})},
		{MethodName: "Sync", Handler: unaryHandler(func(srv any, ctx context.Context, in *groupRequest) (any, error) {
			if err := srv.(nodeStatus).sync(ctx, *in); err != nil {
				return nil, err
			}
			return &syncReply{}, nil
		})},
		{MethodName: "Transfer", Handler: unaryHandler(func(srv any, _ context.Context, in *groupRequest) (any, error) {
			if err := srv.(nodeStatus).transfer(*in); err != nil {
				return nil, err
			}
			return &syncReply{}, nil
		})},
	},
}

// nodeStatusServer keeps the node's own latest LeaderUpdated event per
// group, read from the Raft protocol's in-process event stream (never
// cancelled), and answers Sync with a ReadIndex on the node's NodeHost.
type nodeStatusServer struct {
	host   *dragonboat.NodeHost
	mu     sync.Mutex
	groups map[uint64]leadershipReply
}

// newNodeStatusServer subscribes to protocol's events until the process exits.
func newNodeStatusServer(protocol *raft.Protocol) *nodeStatusServer {
	s := &nodeStatusServer{host: nodeHostOf(protocol), groups: map[uint64]leadershipReply{}}
	events := make(chan raftv1.Event, 64)
	go func() {
		for ev := range events {
			if lu := ev.GetLeaderUpdated(); lu != nil {
				s.mu.Lock()
				s.groups[uint64(lu.GroupID)] = leadershipReply{Term: uint64(lu.Term), Leader: uint64(lu.Leader)}
				s.mu.Unlock()
			}
		}
	}()
	protocol.Watch(context.Background(), events)
	return s
}

// nodeHostOf returns the dragonboat NodeHost inside an Atomix raft
// Protocol (stores/raft v0.7.0 keeps it in the unexported field "host" and
// offers no accessor), or nil when the field is not there.
func nodeHostOf(p *raft.Protocol) *dragonboat.NodeHost {
	f := reflect.ValueOf(p).Elem().FieldByName("host")
	if !f.IsValid() || f.Type() != reflect.TypeOf((*dragonboat.NodeHost)(nil)) {
		return nil
	}
	return (*dragonboat.NodeHost)(unsafe.Pointer(f.Pointer()))
}

func (s *nodeStatusServer) leadership(group uint64) leadershipReply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups[group]
}

func (s *nodeStatusServer) sync(ctx context.Context, req groupRequest) error {
	if s.host == nil {
		return status.Error(codes.Unimplemented, "no NodeHost found in the raft protocol")
	}
	timeout := time.Duration(req.TimeoutNS)
	if timeout <= 0 {
		timeout = time.Second
	}
	rs, err := s.host.ReadIndex(req.Group, timeout)
	if err != nil {
		return status.Errorf(codes.Unavailable, "read index of group %d: %v", req.Group, err)
	}
	defer rs.Release()
	select {
	case r := <-rs.ResultC():
		if !r.Completed() {
			return status.Errorf(codes.Unavailable, "read index of group %d not completed (timeout %v, dropped %v)", req.Group, r.Timeout(), r.Dropped())
		}
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

func (s *nodeStatusServer) transfer(req groupRequest) error {
	if s.host == nil {
		return status.Error(codes.Unimplemented, "no NodeHost found in the raft protocol")
	}
	if err := s.host.RequestLeaderTransfer(req.Group, req.Target); err != nil {
		return status.Errorf(codes.Unavailable, "leader transfer of group %d to member %d: %v", req.Group, req.Target, err)
	}
	return nil
}

// transferLeadership asks the node, the group's leader, to hand the
// leadership of group to member target.
func (nc *nodeConn) transferLeadership(ctx context.Context, group int, target uint64) error {
	req := &groupRequest{Group: uint64(group), Target: target}
	if err := nc.conn.Invoke(ctx, transferMethod, req, new(syncReply), grpc.CallContentSubtype(jsonCodecName)); err != nil {
		return fmt.Errorf("%s: transferring the leadership of group %d to member %d: %w", nc.spec.Name, group, target, err)
	}
	return nil
}

// askLeadership asks the node itself which leader and term it knows for group.
func (nc *nodeConn) askLeadership(ctx context.Context, group int) (term, leader uint64, err error) {
	out := new(leadershipReply)
	if err := nc.conn.Invoke(ctx, leadershipMethod, &groupRequest{Group: uint64(group)}, out, grpc.CallContentSubtype(jsonCodecName)); err != nil {
		return 0, 0, fmt.Errorf("%s: asking for the leadership of group %d: %w", nc.spec.Name, group, err)
	}
	return out.Term, out.Leader, nil
}

// errNotInSync says that a node could not confirm it is in sync with its leader.
var errNotInSync = errors.New("not in sync with the leader")

// inSync asks the node to confirm, by a ReadIndex round trip, that it has
// applied everything the group's leader has committed.
func (nc *nodeConn) inSync(ctx context.Context, group int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Second)
	defer cancel()
	req := &groupRequest{Group: uint64(group), TimeoutNS: int64(timeout)}
	if err := nc.conn.Invoke(ctx, syncMethod, req, new(syncReply), grpc.CallContentSubtype(jsonCodecName)); err != nil {
		return fmt.Errorf("%s, group %d: %w: %w", nc.spec.Name, group, errNotInSync, err)
	}
	return nil
}
