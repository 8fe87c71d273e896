// Command atomix-failover measures whether an Atomix Raft store keeps
// acknowledged writes when the leader that owns them dies.
package main

import (
	"github.com/atomix-failover/atomix-failover/internal/cli"
	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
)

func main() {
	local.RunNodeIfChild()
	cli.Main()
}
