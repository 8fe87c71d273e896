package workload

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of Config.
const (
	DefaultClients             = 8
	DefaultRate                = 500
	DefaultHotKeysPerPartition = 2
	DefaultOpTimeout           = 2 * time.Second
	DefaultMap                 = "workload"
)

// Mix weighs the operations a client picks: puts, gets and compare-and-sets
// of the hot keys, and puts of fresh write-once keys.
type Mix struct {
	Put       int `json:"put"`
	Get       int `json:"get"`
	CAS       int `json:"cas"`
	WriteOnce int `json:"write_once"`
}

// DefaultMix is 30% puts, 40% gets, 20% compare-and-sets, 10% write-once puts.
func DefaultMix() Mix { return Mix{Put: 30, Get: 40, CAS: 20, WriteOnce: 10} }

func (m Mix) total() int { return m.Put + m.Get + m.CAS + m.WriteOnce }

// Config shapes a workload.
type Config struct {
	// RunID names the run in every record (required).
	RunID string `json:"run_id"`
	// Clients is the number of concurrent clients (0: DefaultClients).
	Clients int `json:"clients"`
	// Rate is the total operations per second of all clients (0: DefaultRate).
	Rate float64 `json:"rate"`
	// Burst is how many operations may start at once above Rate (0: Clients).
	Burst int `json:"burst"`
	// HotKeysPerPartition is the number of register keys routed to each partition (0: DefaultHotKeysPerPartition).
	HotKeysPerPartition int `json:"hot_keys_per_partition"`
	// Partitions is the number of partitions (0: the target's).
	Partitions int `json:"partitions"`
	// Mix weighs the operations (zero: DefaultMix).
	Mix Mix `json:"mix"`
	// OpTimeout is the deadline of every remote call (0: DefaultOpTimeout).
	OpTimeout time.Duration `json:"op_timeout_ns"`
	// Map is the map's name (empty: DefaultMap).
	Map string `json:"map"`
	// KeyPrefix starts every key, so that runs sharing a map do not share keys (empty: RunID).
	KeyPrefix string `json:"key_prefix"`
	// Seed seeds the clients' choices of operation and key.
	Seed uint64 `json:"seed"`
	// FirstTrial is the trial the first operations belong to, until SetTrial.
	FirstTrial int `json:"-"`
}

// ErrConfig is returned by Start for a configuration it cannot run.
var ErrConfig = errors.New("invalid workload configuration")

func (c Config) withDefaults(partitions int) (Config, error) {
	if c.RunID == "" {
		return c, fmt.Errorf("%w: no run ID", ErrConfig)
	}
	if c.Clients < 0 || c.Rate < 0 || c.Burst < 0 || c.HotKeysPerPartition < 0 || c.Partitions < 0 || c.OpTimeout < 0 {
		return c, fmt.Errorf("%w: negative value in %+v", ErrConfig, c)
	}
	if c.Mix.Put < 0 || c.Mix.Get < 0 || c.Mix.CAS < 0 || c.Mix.WriteOnce < 0 {
		return c, fmt.Errorf("%w: negative weight in mix %+v", ErrConfig, c.Mix)
	}
	c.Clients = or(c.Clients, DefaultClients)
	c.Rate = or(c.Rate, DefaultRate)
	c.Burst = or(c.Burst, c.Clients)
	c.HotKeysPerPartition = or(c.HotKeysPerPartition, DefaultHotKeysPerPartition)
	c.Partitions = or(c.Partitions, partitions)
	c.OpTimeout = or(c.OpTimeout, DefaultOpTimeout)
	c.Map = or(c.Map, DefaultMap)
	c.KeyPrefix = or(c.KeyPrefix, c.RunID)
	if c.Mix.total() == 0 {
		c.Mix = DefaultMix()
	}
	if c.Partitions < 1 {
		return c, fmt.Errorf("%w: %d partitions", ErrConfig, c.Partitions)
	}
	return c, nil
}

// or is v, or def when v is the zero value.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
