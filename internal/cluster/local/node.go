package local

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/atomix/atomix/protocols/rsm/pkg/node"
	mapnodev1 "github.com/atomix/atomix/protocols/rsm/pkg/node/map/v1"
	"github.com/atomix/atomix/protocols/rsm/pkg/statemachine"
	mapv1 "github.com/atomix/atomix/protocols/rsm/pkg/statemachine/map/v1"
	"github.com/atomix/atomix/runtime/pkg/network"
	raftv1 "github.com/atomix/atomix/stores/raft/api/v1"
	"github.com/atomix/atomix/stores/raft/pkg/raft"
	"google.golang.org/grpc"
)

// NodeCommand is the hidden subcommand that runs one Raft node process.
const NodeCommand = "raft-node"

// readyFD is the file descriptor on which a node reports that it serves.
const readyFD = 3

// RunNodeIfChild runs a Raft node and exits when this process was started as
// one (os.Args[1] == NodeCommand). Call it first in main and in TestMain of
// every package whose tests start a local store.
func RunNodeIfChild() {
	if len(os.Args) > 1 && os.Args[1] == NodeCommand {
		os.Exit(NodeMain(os.Args[2:], os.Stderr))
	}
}

// NodeMain runs one Raft node, assembled as Atomix's atomix-raft-node does,
// until SIGTERM, SIGINT or the death of its parent. It returns the exit status.
func NodeMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(NodeCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("host", "127.0.0.1", "address to bind")
	raftPort := fs.Int("raft-port", 0, "Raft (dragonboat) port")
	apiPort := fs.Int("api-port", 0, "node API (gRPC) port")
	dataDir := fs.String("data-dir", "", "node data directory")
	rtt := fs.Duration("rtt", 10*time.Millisecond, "Raft RTT unit")
	parent := fs.Int("parent-pid", 0, "exit if the parent is not this process")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *raftPort <= 0 || *apiPort <= 0 || *dataDir == "" {
		_, _ = fmt.Fprintln(stderr, "raft-node: --raft-port, --api-port and --data-dir are required")
		return 2
	}
	// The parent-death signal is armed by the parent at fork; a parent that
	// died before that leaves us reparented, which this check catches.
	if *parent != 0 && os.Getppid() != *parent {
		_, _ = fmt.Fprintln(stderr, "raft-node: parent is gone")
		return 1
	}
	if err := runNode(*host, *raftPort, *apiPort, *dataDir, *rtt); err != nil {
		_, _ = fmt.Fprintf(stderr, "raft-node: %v\n", err)
		return 1
	}
	return 0
}

func runNode(host string, raftPort, apiPort int, dataDir string, rtt time.Duration) (err error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	registry := statemachine.NewPrimitiveTypeRegistry()
	mapv1.RegisterStateMachine(registry)

	defer func() {
		// raft.NewProtocol panics when dragonboat cannot start (port taken, bad dir).
		if r := recover(); r != nil {
			err = fmt.Errorf("starting Raft host on %s:%d: %v", host, raftPort, r)
		}
	}()
	protocol := raft.NewProtocol(raft.NodeConfig{RTT: &rtt, DataDir: &dataDir}, registry,
		raft.WithHost(host), raft.WithPort(raftPort))
	n := node.NewNode(network.NewDefaultDriver(), protocol, node.WithHost(host), node.WithPort(apiPort))
	mapnodev1.RegisterServer(n)
	nodeStatus := newNodeStatusServer(protocol)
	n.RegisterService(func(server *grpc.Server) {
		raftv1.RegisterNodeServer(server, raft.NewNodeServer(protocol))
		server.RegisterService(&nodeStatusDesc, nodeStatus)
	})
	if err := n.Start(); err != nil {
		return fmt.Errorf("starting node API on %s:%d: %w", host, apiPort, err)
	}
	if ready := os.NewFile(readyFD, "ready"); ready != nil {
		_, _ = ready.Write([]byte("ready\n"))
		_ = ready.Close()
	}
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	<-ch
	if err := n.Stop(); err != nil {
		return errors.Join(errors.New("stopping node"), err)
	}
	return nil
}
