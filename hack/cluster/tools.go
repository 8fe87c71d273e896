//go:build tools

// Package cluster pins the Atomix raft node the harness builds.
package cluster

import _ "github.com/atomix/atomix/stores/raft/cmd/atomix-raft-node"
