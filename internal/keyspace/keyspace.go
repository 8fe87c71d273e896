// Package keyspace derives deterministic map keys that land on a chosen
// partition under Atomix routing (FNV-1a) and under a SHA-256 mapping alike.
//
// A key is "failover-<scenario>-<trial>-<nonce>". The seed enters as the
// starting nonce: the search begins at seed×NonceStride and takes the
// smallest nonce at or above it for which both fnv32a(key) % P and
// sha256(key)[0] % P equal the target partition index. Different seeds thus
// search disjoint nonce ranges, and the same seed always yields the same keys.
package keyspace

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
)

// NonceStride separates the nonce ranges searched for consecutive seeds.
const NonceStride = 1_000_000

// maxSearch bounds the nonce search; the expected search length is P².
const maxSearch = NonceStride

// ErrNotFound is returned when no nonce in the seed's range fits.
var ErrNotFound = errors.New("no nonce found")

// Key is a derived key with the facts that justify it.
type Key struct {
	// Name is the map key.
	Name string
	// Nonce is the nonce appended to the key.
	Nonce uint64
	// Partition is the partition ID (index+1) Atomix routes the key to.
	Partition int
}

// AtomixIndex returns the partition index Atomix routes key to: fnv32a(key) % partitions.
func AtomixIndex(key string, partitions int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(partitions))
}

// SHA256Index returns the partition index a SHA-256 mapping picks: sha256(key)[0] % partitions.
func SHA256Index(key string, partitions int) int {
	sum := sha256.Sum256([]byte(key))
	return int(sum[0]) % partitions
}

// Name formats the key for a scenario, trial and nonce.
func Name(scenario string, trial int, nonce uint64) string {
	return "failover-" + scenario + "-" + strconv.Itoa(trial) + "-" + strconv.FormatUint(nonce, 10)
}

// StartNonce is the first nonce searched for seed.
func StartNonce(seed int64) uint64 { return uint64(seed) * NonceStride }

// Derive returns the key for (seed, scenario, trial) with the smallest nonce
// from StartNonce(seed) on that both mappings send to partition ID partition
// (1-based) of partitions.
func Derive(seed int64, scenario string, trial, partition, partitions int) (Key, error) {
	if partitions < 1 || partitions > 256 {
		return Key{}, fmt.Errorf("partitions %d: want 1..256", partitions)
	}
	if partition < 1 || partition > partitions {
		return Key{}, fmt.Errorf("partition %d: want 1..%d", partition, partitions)
	}
	want := partition - 1
	start := StartNonce(seed)
	for i := uint64(0); i < maxSearch; i++ {
		nonce := start + i
		name := Name(scenario, trial, nonce)
		if AtomixIndex(name, partitions) == want && SHA256Index(name, partitions) == want {
			return Key{Name: name, Nonce: nonce, Partition: partition}, nil
		}
	}
	return Key{}, fmt.Errorf("scenario %s trial %d partition %d of %d from nonce %d: %w", scenario, trial, partition, partitions, start, ErrNotFound)
}
