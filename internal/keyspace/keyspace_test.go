package keyspace

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	protocol "github.com/atomix/atomix/protocols/rsm/api/v1"
	rsmclient "github.com/atomix/atomix/protocols/rsm/pkg/client"
	"github.com/atomix/atomix/runtime/pkg/network"
)

func TestDeriveGolden(t *testing.T) {
	tests := []struct {
		seed       int64
		scenario   string
		trial      int
		partition  int
		partitions int
		want       string
		nonce      uint64
	}{
		{1, "immediate", 1, 1, 3, "failover-immediate-1-1000003", 1000003},
		{1, "immediate", 2, 2, 3, "failover-immediate-2-1000001", 1000001},
		{1, "during-replication", 4, 3, 3, "failover-during-replication-4-1000022", 1000022},
		{1, "precision-timed", 7, 1, 3, "failover-precision-timed-7-1000011", 1000011},
		{1, "rapid-sequential", 12, 3, 3, "failover-rapid-sequential-12-1000009", 1000009},
		{1, "in-flight", 13, 2, 3, "failover-in-flight-13-1000003", 1000003},
		{0, "immediate", 1, 1, 1, "failover-immediate-1-0", 0},
		{42, "probe", 5, 4, 5, "failover-probe-5-42000036", 42000036},
		{7, "immediate", 1, 2, 2, "failover-immediate-1-7000000", 7000000},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			k, err := Derive(tt.seed, tt.scenario, tt.trial, tt.partition, tt.partitions)
			if err != nil {
				t.Fatal(err)
			}
			if k.Name != tt.want || k.Nonce != tt.nonce || k.Partition != tt.partition {
				t.Fatalf("Derive = %+v, want %s nonce %d partition %d", k, tt.want, tt.nonce, tt.partition)
			}
		})
	}
}

func TestHashGolden(t *testing.T) {
	tests := []struct {
		key        string
		partitions int
		atomix     int
		sha        int
	}{
		// fnv32a("") = 0x811c9dc5, fnv32a("a") = 0xe40c292c; sha256("")[0] = 0xe3, sha256("a")[0] = 0xca.
		{"", 1 << 16, 0x9dc5, 0xe3},
		{"a", 1 << 16, 0x292c, 0xca},
		{"a", 256, 0x2c, 0xca},
		{"failover-immediate-1-1000003", 3, 0, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/%d", tt.key, tt.partitions), func(t *testing.T) {
			if got := AtomixIndex(tt.key, tt.partitions); got != tt.atomix {
				t.Errorf("AtomixIndex = %#x, want %#x", got, tt.atomix)
			}
			p := tt.partitions
			if p > 256 {
				p = 256
			}
			if got := SHA256Index(tt.key, p); got != tt.sha%p {
				t.Errorf("SHA256Index = %#x, want %#x", got, tt.sha%p)
			}
		})
	}
}

func fnv32a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func TestDeriveProperties(t *testing.T) {
	for partitions := 1; partitions <= 7; partitions++ {
		for _, seed := range []int64{0, 1, 2, 99} {
			seen := map[string]bool{}
			for trial := 1; trial <= 40; trial++ {
				partition := 1 + (trial*7+int(seed))%partitions
				k, err := Derive(seed, "prop", trial, partition, partitions)
				if err != nil {
					t.Fatal(err)
				}
				if got := int(fnv32a(k.Name)%uint32(partitions)) + 1; got != partition {
					t.Fatalf("%s: fnv32a routes to %d, want %d", k.Name, got, partition)
				}
				if got := int(sha256.Sum256([]byte(k.Name))[0])%partitions + 1; got != partition {
					t.Fatalf("%s: sha256 picks %d, want %d", k.Name, got, partition)
				}
				if k.Nonce < StartNonce(seed) {
					t.Fatalf("%s: nonce below the seed's start %d", k.Name, StartNonce(seed))
				}
				for n := StartNonce(seed); n < k.Nonce; n++ {
					name := Name("prop", trial, n)
					if AtomixIndex(name, partitions) == partition-1 && SHA256Index(name, partitions) == partition-1 {
						t.Fatalf("%s: smaller nonce %d also fits", k.Name, n)
					}
				}
				if seen[k.Name] {
					t.Fatalf("%s derived twice", k.Name)
				}
				seen[k.Name] = true
				again, _ := Derive(seed, "prop", trial, partition, partitions)
				if again != k {
					t.Fatalf("Derive not deterministic: %+v then %+v", k, again)
				}
			}
		}
	}
}

func TestSHA256AloneMistargets(t *testing.T) {
	const partitions, n = 3, 3000
	disagree := 0
	for i := 0; i < n; i++ {
		key := Name("naive", i, 0)
		if AtomixIndex(key, partitions) != SHA256Index(key, partitions) {
			disagree++
		}
	}
	if frac := float64(disagree) / n; frac < 0.6 || frac > 0.73 {
		t.Fatalf("SHA-256 and Atomix routing disagree on %.2f of keys, want about 2/3", frac)
	}
}

func TestDeriveErrors(t *testing.T) {
	tests := []struct {
		name                  string
		partition, partitions int
	}{
		{"zero partitions", 1, 0},
		{"partition zero", 0, 3},
		{"partition above range", 4, 3},
		{"too many partitions", 1, 257},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Derive(1, "x", 1, tt.partition, tt.partitions); err == nil {
				t.Fatal("Derive succeeded, want an error")
			}
		})
	}
	if !errors.Is(fmt.Errorf("w: %w", ErrNotFound), ErrNotFound) {
		t.Fatal("ErrNotFound does not wrap")
	}
}

// TestAtomixClientRouting asks the rsm protocol client (the code the runtime
// uses to route map operations) which partition each key goes to.
func TestAtomixClientRouting(t *testing.T) {
	for _, partitions := range []int{1, 2, 3, 5, 8} {
		t.Run(fmt.Sprint(partitions), func(t *testing.T) {
			c := rsmclient.NewClient(network.NewLocalDriver())
			cfg := protocol.ProtocolConfig{}
			for id := 1; id <= partitions; id++ {
				cfg.Partitions = append(cfg.Partitions, protocol.PartitionConfig{PartitionID: protocol.PartitionID(id)})
			}
			if err := c.Connect(context.Background(), cfg); err != nil {
				t.Fatalf("connecting a protocol client without nodes: %v", err)
			}
			defer func() { _ = c.Close(context.Background()) }()
			for trial := 1; trial <= 30; trial++ {
				want := 1 + trial%partitions
				k, err := Derive(3, "routing", trial, want, partitions)
				if err != nil {
					t.Fatal(err)
				}
				if got := int(c.PartitionBy([]byte(k.Name)).ID()); got != want {
					t.Fatalf("%s: the Atomix client routes it to partition %d, want %d", k.Name, got, want)
				}
				if got := c.PartitionIndex([]byte(k.Name)) + 1; got != want {
					t.Fatalf("%s: PartitionIndex+1 = %d, want %d", k.Name, got, want)
				}
			}
		})
	}
}
