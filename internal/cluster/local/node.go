package local

import "os"

// NodeCommand is the hidden subcommand that runs one Raft node process.
const NodeCommand = "raft-node"

// RunNodeIfChild runs a Raft node and exits when this process was started as
// one (os.Args[1] == NodeCommand). Call it first in main and in TestMain of
// every package whose tests start a local store.
func RunNodeIfChild() {
	if len(os.Args) > 1 && os.Args[1] == NodeCommand {
		os.Exit(NodeMain(os.Args[2:]))
	}
}

// NodeMain runs one Raft node with the given flags until SIGTERM/SIGINT or parent death.
func NodeMain(args []string) int {
	return 2
}
