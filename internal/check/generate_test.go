package check

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// planned is a generated operation and the instant it takes effect.
type planned struct {
	op      history.Op
	effect  int64
	applied bool
}

type register struct {
	present bool
	value   string
	version uint64
}

type store struct {
	keys    map[string]*register
	version uint64
}

// generate builds a linearizable history: clients run n operations in all,
// one after another, over dur on keys keys; each takes effect at a random
// instant within its interval; versions come from one counter (as Raft
// indexes); about 1 in 500 puts gets no answer and half of those are not
// applied; every key gets a final read at the end.
func generate(seed uint64, clients, keys, n int, dur time.Duration) []history.Op {
	r := rand.New(rand.NewPCG(seed, 0))
	var plan []planned
	for c := range clients {
		plan = append(plan, clientPlan(r, c, n/clients, keys, dur)...)
	}
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].effect < plan[j].effect })
	s := &store{keys: map[string]*register{}}
	ops := make([]history.Op, 0, len(plan)+keys)
	for _, p := range plan {
		ops = append(ops, s.apply(r, p))
	}
	return append(ops, s.finalReads(int64(dur)+int64(time.Second), keys)...)
}

func clientPlan(r *rand.Rand, c, count, keys int, dur time.Duration) []planned {
	gap := int64(dur) / int64(count)
	plan := make([]planned, 0, count)
	t := int64(0)
	for i := range count {
		invoke := t + r.Int64N(gap/4+1)
		latency := 200_000 + r.Int64N(3_000_000)
		op := history.Op{
			Type: history.TypeOp, Client: fmt.Sprintf("c%d", c), Key: fmt.Sprintf("key-%02d", r.IntN(keys)),
			Op: randomKind(r), InvokeNS: invoke, CompleteNS: at(invoke + latency), Status: history.StatusOK,
		}
		if op.Op != history.OpGet {
			op.Value = fmt.Sprintf("c%d-%d", c, i)
		}
		p := planned{op: op, effect: invoke + r.Int64N(latency), applied: true}
		if op.Op == history.OpPut && r.IntN(500) == 0 {
			p.op.Status, p.op.CompleteNS, p.op.Error = history.StatusUnknown, nil, "context deadline exceeded"
			p.applied = r.IntN(2) == 0
		}
		plan = append(plan, p)
		t = max(t+gap, invoke+latency+1)
	}
	return plan
}

func randomKind(r *rand.Rand) string {
	switch n := r.IntN(10); {
	case n < 6:
		return history.OpGet
	case n < 9:
		return history.OpPut
	default:
		return history.OpCAS
	}
}

func (s *store) register(key string) *register {
	if s.keys[key] == nil {
		s.keys[key] = &register{}
	}
	return s.keys[key]
}

func (s *store) apply(r *rand.Rand, p planned) history.Op {
	op, reg := p.op, s.register(p.op.Key)
	switch op.Op {
	case history.OpGet:
		if reg.present {
			value, version := reg.value, reg.version
			op.Read, op.Version = &value, &version
		}
	case history.OpPut:
		if p.applied {
			s.write(reg, &op)
		}
	default:
		expect := reg.version + uint64(r.IntN(5)/4)
		op.ExpectVersion = &expect
		if !reg.present || expect != reg.version {
			op.Status, op.Error = history.StatusFail, "conflict"
			return op
		}
		s.write(reg, &op)
	}
	return op
}

func (s *store) write(reg *register, op *history.Op) {
	s.version++
	reg.present, reg.value, reg.version = true, op.Value, s.version
	if op.Status == history.StatusOK {
		version := s.version
		op.Version = &version
	}
}

func (s *store) finalReads(start int64, keys int) []history.Op {
	var ops []history.Op
	for k := range keys {
		key := fmt.Sprintf("key-%02d", k)
		op := history.Op{
			Type: history.TypeOp, Client: history.FinalClient, Op: history.OpGet, Key: key,
			InvokeNS: start + int64(k)*1000, CompleteNS: at(start + int64(k)*1000 + 500), Status: history.StatusOK,
		}
		if reg := s.keys[key]; reg != nil && reg.present {
			value, version := reg.value, reg.version
			op.Read, op.Version = &value, &version
		}
		ops = append(ops, op)
	}
	return ops
}
