package local

import (
	"errors"
	"fmt"
	"time"
)

// Config configures the embedded store.
type Config struct {
	// Replicas is the number of Raft node processes; every node is a member of every partition.
	Replicas int
	// Partitions is the number of Raft groups.
	Partitions int
	// DataDir holds the nodes' data; empty means a fresh temp dir removed at Close.
	DataDir string
	// KeepData keeps DataDir (even a temp one) at Close.
	KeepData bool
	// RestartDelay is how long a killed node stays down before it is restarted on its data dir.
	RestartDelay time.Duration
	// RTT is dragonboat's round-trip time unit.
	RTT time.Duration
	// ElectionRTT is the election timeout in RTTs.
	ElectionRTT uint64
	// HeartbeatRTT is the heartbeat interval in RTTs.
	HeartbeatRTT uint64
	// BasePort, when non-zero, gives node i (0-based) raft port BasePort+2i and API port BasePort+2i+1.
	BasePort int
	// StartTimeout bounds starting the nodes and electing every partition's first leader.
	StartTimeout time.Duration
	// Executable is the binary re-executed with the raft-node subcommand (default: this program).
	Executable string
}

// DefaultConfig returns Atomix's default timings and a 3×3 store.
func DefaultConfig() Config {
	return Config{
		Replicas:     3,
		Partitions:   3,
		RTT:          10 * time.Millisecond,
		ElectionRTT:  100,
		HeartbeatRTT: 10,
		StartTimeout: 60 * time.Second,
	}
}

func (c Config) validate() error {
	var errs []error
	if c.Replicas < 1 || c.Replicas > 9 {
		errs = append(errs, fmt.Errorf("--replicas %d: want 1..9", c.Replicas))
	}
	if c.Partitions < 1 || c.Partitions > 64 {
		errs = append(errs, fmt.Errorf("--partitions %d: want 1..64", c.Partitions))
	}
	if c.RTT < time.Millisecond {
		errs = append(errs, fmt.Errorf("--rtt %s: want at least 1ms", c.RTT))
	}
	if c.HeartbeatRTT < 1 {
		errs = append(errs, fmt.Errorf("--heartbeat-rtt %d: want at least 1", c.HeartbeatRTT))
	}
	if c.ElectionRTT < 2*c.HeartbeatRTT {
		errs = append(errs, fmt.Errorf("--election-rtt %d: want at least twice --heartbeat-rtt (%d)", c.ElectionRTT, c.HeartbeatRTT))
	}
	if c.RestartDelay < 0 {
		errs = append(errs, fmt.Errorf("--restart-delay %s: want ≥ 0", c.RestartDelay))
	}
	if c.BasePort != 0 && (c.BasePort < 1024 || c.BasePort+2*c.Replicas > 65535) {
		errs = append(errs, fmt.Errorf("--base-port %d: want 1024..%d", c.BasePort, 65535-2*c.Replicas))
	}
	if c.StartTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--start-timeout %s: want > 0", c.StartTimeout))
	}
	return errors.Join(errs...)
}
