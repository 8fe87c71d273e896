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
	// Restart says when a killed node is restarted on its data dir.
	Restart RestartPolicy
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
	// LinkProxies routes every Raft link between two nodes, and the clients'
	// connections to each node's API, through TCP proxies on loopback that
	// the store owns and can cut and heal (IsolateLeader); off by default,
	// when nodes and clients connect directly. The proxies' ports are
	// chosen by the kernel, BasePort or not.
	LinkProxies bool

	// snapshotEntries and compactionOverhead, when non-zero, override
	// Atomix's snapshot interval and retained log entries (tests).
	snapshotEntries, compactionOverhead uint64
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
		Restart:      DefaultRestartPolicy(),
	}
}

// RestartPolicy says when a killed node is restarted. By default a node
// comes back only once every partition it led has a new leader, plus Margin,
// so that it cannot run in the election being measured (dragonboat v3 has no
// PreVote: a returning node's failed bids raise the survivors' term and reset
// their election timers); Timeout caps the wait (a partition that lost its
// quorum elects no leader until the node is back). Fixed restarts after Delay
// whatever the store does.
type RestartPolicy struct {
	// Fixed restarts after Delay instead of after the new leaders.
	Fixed bool
	// Delay is the fixed delay.
	Delay time.Duration
	// Margin is the wait after the last new leader.
	Margin time.Duration
	// Timeout caps the wait for new leaders.
	Timeout time.Duration
}

// DefaultRestartPolicy restarts 100 ms after the victim's partitions have new leaders, at most 30 s after the kill.
func DefaultRestartPolicy() RestartPolicy {
	return RestartPolicy{Margin: 100 * time.Millisecond, Timeout: 30 * time.Second}
}

// String names the policy as the run header records it.
func (p RestartPolicy) String() string {
	if p.Fixed {
		return "fixed " + p.Delay.String()
	}
	return fmt.Sprintf("after-new-leader+%s (cap %s)", p.Margin, p.Timeout)
}

func (p RestartPolicy) validate() error {
	var errs []error
	if p.Delay < 0 {
		errs = append(errs, fmt.Errorf("--restart-delay %s: want ≥ 0", p.Delay))
	}
	if p.Margin < 0 {
		errs = append(errs, fmt.Errorf("--restart-margin %s: want ≥ 0", p.Margin))
	}
	if !p.Fixed && p.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("--restart-timeout %s: want > 0", p.Timeout))
	}
	return errors.Join(errs...)
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
	if err := c.Restart.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.BasePort != 0 && (c.BasePort < 1024 || c.BasePort+2*c.Replicas > 65535) {
		errs = append(errs, fmt.Errorf("--base-port %d: want 1024..%d", c.BasePort, 65535-2*c.Replicas))
	}
	if c.StartTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--start-timeout %s: want > 0", c.StartTimeout))
	}
	return errors.Join(errs...)
}
