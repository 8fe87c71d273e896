package workload

import (
	"fmt"

	"github.com/atomix-failover/atomix-failover/internal/keyspace"
)

// HotKeys are the register keys of a workload: perPartition keys routed by
// Atomix (fnv32a) to each of the partitions, named
// "<prefix>/hot-p<partition>-<i>-<nonce>" with the smallest nonce that
// routes there; ordered by partition, then i.
func HotKeys(prefix string, partitions, perPartition int) []string {
	keys := make([]string, 0, partitions*perPartition)
	for p := 1; p <= partitions; p++ {
		for i := range perPartition {
			keys = append(keys, hotKey(prefix, p, i, partitions))
		}
	}
	return keys
}

func hotKey(prefix string, p, i, partitions int) string {
	for nonce := 0; ; nonce++ {
		k := fmt.Sprintf("%s/hot-p%d-%d-%d", prefix, p, i, nonce)
		if keyspace.AtomixIndex(k, partitions) == p-1 {
			return k
		}
	}
}

// writeOnceKey is the key of a client's nth write-once put.
func writeOnceKey(prefix, client string, n int) string {
	return fmt.Sprintf("%s/wo-%s-%d", prefix, client, n)
}
