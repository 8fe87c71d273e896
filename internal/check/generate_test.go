package check

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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

// shape is the shape of a history internal/workload records on the real
// store: clients each issuing one operation at a time, paced by one token
// bucket shared by all (rate ops/s, burst clients; 0: no limit, each client
// invokes as soon as its last operation ended), on hotPerPartition register
// keys per partition and fresh write-once keys, by the workload's mix and
// rules (a cas expects the version the client last saw of the key, and
// reads it instead when it saw none), with log-normal healthy latencies, and
// leader kills that leave partitions without a leader for an election:
// an operation on such a partition in flight at the kill or invoked during
// the election is held until a release time drawn within the election (60
// to 100% of it for a write, 15 to 30% for a read, as recorded); one that
// would complete later than opTimeout after its invocation ends unknown (no
// answer, returning at infinity) and took effect after its release or, half
// of the time, never.
type shape struct {
	clients         int
	dur             time.Duration
	rate            float64
	partitions      int
	hotPerPartition int
	// put, get, cas and writeOnce weigh the operations (workload.DefaultMix).
	put, get, cas, writeOnce int
	// get50, get99, write50 and write99 are the healthy latencies' median and p99.
	get50, get99, write50, write99 time.Duration
	opTimeout                      time.Duration
	kills                          []killWindow
}

// killWindow is a leader kill at `at` that leaves partitions without a
// leader; every operation on them is answered by election after it.
type killWindow struct {
	at         time.Duration
	partitions []int
	election   time.Duration
}

// realShape500 is the shape of a 60 s history recorded on the real 3×3
// store (2 cores) at the workload's default rate, 500 ops/s, with 8 clients
// and three leader kills (TestRecordRealHistory in internal/workload):
// 27,853 operations + 2,769 final reads, 6 hot keys of ~4,200 operations
// each, 2,763 write-once keys, 75% of the cas refused, 8 unknown
// operations, healthy p50/p99 of 0.43/2.6 ms (get) and 1.4/8.8 ms (put, cas);
// the first kill's victim led one partition, the others' two; the blocked
// writes were answered 1.0 to 2.1 s after the kill (reads 0.3 to 0.6 s), and
// 3, 0 and 5 of them got no answer within the 2 s deadline. The elections
// below (2.4, 1.95, 2.4 s: past the deadline where writes went unanswered)
// give as many unknown operations with shapedSeed.
func realShape500() shape {
	return shape{
		clients: 8, dur: 60 * time.Second, rate: 500, partitions: 3, hotPerPartition: 2,
		put: 30, get: 40, cas: 20, writeOnce: 10,
		get50: 430 * time.Microsecond, get99: 2600 * time.Microsecond,
		write50: 1370 * time.Microsecond, write99: 8800 * time.Microsecond,
		opTimeout: 2 * time.Second,
		kills: []killWindow{
			{at: 18250 * time.Millisecond, partitions: []int{1}, election: 2400 * time.Millisecond},
			{at: 33250 * time.Millisecond, partitions: []int{2, 3}, election: 1950 * time.Millisecond},
			{at: 48250 * time.Millisecond, partitions: []int{2, 3}, election: 2400 * time.Millisecond},
		},
	}
}

// realShapeUnlimited is the same run without a rate limit, as the real store
// sustained it on 2 cores: 127,324 operations (2,122 ops/s) + 12,563 final
// reads, 11 unknown, healthy p50/p99 of 1.7/8.0 ms (get) and 3.9/14 ms
// (put, cas).
func realShapeUnlimited() shape {
	s := realShape500()
	s.rate = 0
	s.get50, s.get99 = 1660*time.Microsecond, 8*time.Millisecond
	s.write50, s.write99 = 3870*time.Microsecond, 14*time.Millisecond
	return s
}

// shapedOp is a planned operation of generateShaped.
type shapedOp struct {
	op        history.Op
	partition int
	effect    int64
	applied   bool
}

// generateShaped builds a linearizable history of shape s, with a kill
// record per kill (each kill starts a trial, as in the campaign).
func generateShaped(seed uint64, s shape) ([]history.Op, []history.Fault) {
	r := rand.New(rand.NewPCG(seed, 1))
	plan := s.plan(r)
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].effect < plan[j].effect })
	st := newShapedStore(s.partitions)
	ops := make([]history.Op, 0, len(plan)+len(plan)/8+s.partitions*s.hotPerPartition)
	for _, p := range plan {
		ops = append(ops, st.apply(p))
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].InvokeNS < ops[j].InvokeNS })
	ops = append(ops, st.finalReads(int64(s.dur+time.Second), s.clients)...)
	var faults []history.Fault
	for i, k := range s.kills {
		end := int64(k.at) + 5*int64(time.Millisecond)
		faults = append(faults, history.Fault{Type: history.TypeFault, RunID: shapedRunID, Trial: i + 1,
			Fault: history.FaultKill, Target: fmt.Sprintf("node-%d", i%3+1), Partition: k.partitions[0],
			StartNS: int64(k.at), EndNS: &end})
	}
	return ops, faults
}

const shapedRunID = "shaped"

// plan times every client's operations.
func (s shape) plan(r *rand.Rand) []shapedOp {
	type clientState struct {
		ready            int64
		writes, onceKeys int
	}
	cs := make([]clientState, s.clients)
	var bucket tokenBucket
	if s.rate > 0 {
		bucket = tokenBucket{rate: s.rate, burst: float64(s.clients), tokens: float64(s.clients)}
	}
	var plan []shapedOp
	for {
		c := 0
		for i := range cs {
			if cs[i].ready < cs[c].ready {
				c = i
			}
		}
		invoke := cs[c].ready
		if s.rate > 0 {
			invoke = bucket.take(invoke)
		}
		if invoke >= int64(s.dur) {
			return plan
		}
		p := s.pick(r, c, &cs[c].writes, &cs[c].onceKeys)
		p.op.InvokeNS = invoke
		p.op.Trial = s.trial(invoke)
		next := s.time(r, &p)
		plan = append(plan, p)
		cs[c].ready = next + 20_000 + r.Int64N(30_000)
	}
}

// pick chooses client c's next operation and its key by the mix.
func (s shape) pick(r *rand.Rand, c int, writes, onceKeys *int) shapedOp {
	name := fmt.Sprintf("c%d", c+1)
	op := history.Op{Type: history.TypeOp, RunID: shapedRunID, Client: name, Status: history.StatusOK}
	hot := r.IntN(s.partitions * s.hotPerPartition)
	part := hot/s.hotPerPartition + 1
	op.Key = fmt.Sprintf("%s/hot-p%d-%d", shapedRunID, part, hot%s.hotPerPartition)
	switch n := r.IntN(s.put + s.get + s.cas + s.writeOnce); {
	case n < s.writeOnce:
		*onceKeys++
		op.Op, op.Key = history.OpPut, fmt.Sprintf("%s/wo-%s-%d", shapedRunID, name, *onceKeys)
		part = *onceKeys%s.partitions + 1
	case n < s.writeOnce+s.put:
		op.Op = history.OpPut
	case n < s.writeOnce+s.put+s.cas:
		op.Op = history.OpCAS
	default:
		op.Op = history.OpGet
	}
	if op.Op != history.OpGet {
		*writes++
		op.Value = fmt.Sprintf("%s-%d", name, *writes)
	}
	return shapedOp{op: op, partition: part, applied: true}
}

// trial is the number of kills at or before t.
func (s shape) trial(t int64) int {
	n := 0
	for _, k := range s.kills {
		if int64(k.at) <= t {
			n++
		}
	}
	return n
}

// time draws p's latency, delays it past an election that blocks it, sets
// its completion (none when unknown) and effect, and returns when its
// client is free again.
func (s shape) time(r *rand.Rand, p *shapedOp) int64 {
	invoke := p.op.InvokeNS
	lat := s.latency(r, p.op.Op)
	complete, earliest := invoke+lat, invoke
	for _, k := range s.kills {
		start, end := int64(k.at), int64(k.at+k.election)
		if !slices.Contains(k.partitions, p.partition) || complete <= start || invoke >= end {
			continue
		}
		// Writes wait for the new leader; reads come back sooner.
		lo, hi := 0.6, 1.0
		if p.op.Op == history.OpGet {
			lo, hi = 0.15, 0.3
		}
		if release := start + int64((lo+(hi-lo)*r.Float64())*float64(k.election)); release > invoke {
			complete, earliest = release+s.latency(r, p.op.Op), release
		}
	}
	if complete-invoke > int64(s.opTimeout) {
		p.op.Status, p.op.Error = history.StatusUnknown, "context deadline exceeded"
		p.applied = p.op.Op != history.OpGet && r.IntN(2) == 0
		p.effect = earliest + r.Int64N(complete-earliest+1)
		return invoke + int64(s.opTimeout)
	}
	p.op.CompleteNS = at(complete)
	p.effect = earliest + r.Int64N(complete-earliest+1)
	return complete
}

// latency draws a healthy latency, log-normal with the shape's median and p99.
func (s shape) latency(r *rand.Rand, kind string) int64 {
	p50, p99 := s.write50, s.write99
	if kind == history.OpGet {
		p50, p99 = s.get50, s.get99
	}
	sigma := math.Log(float64(p99)/float64(p50)) / 2.326
	return int64(float64(p50) * math.Exp(sigma*r.NormFloat64()))
}

// tokenBucket is golang.org/x/time/rate's limiter for callers in time order.
type tokenBucket struct {
	rate, burst, tokens float64
	last                int64
}

// take reserves a token at t and returns when it may be used.
func (b *tokenBucket) take(t int64) int64 {
	if t > b.last {
		b.tokens = min(b.burst, b.tokens+float64(t-b.last)*b.rate/1e9)
		b.last = t
	}
	b.tokens--
	if b.tokens >= 0 {
		return max(t, b.last)
	}
	return b.last + int64(-b.tokens*1e9/b.rate)
}

// shapedStore is the store generateShaped runs against: a versioned
// register per key, versions from a Raft index per partition, and what each
// client last saw of each key.
type shapedStore struct {
	keys    map[string]*register
	order   []string
	index   []uint64
	partOf  map[string]int
	clients map[string]map[string]uint64
}

func newShapedStore(partitions int) *shapedStore {
	return &shapedStore{keys: map[string]*register{}, index: make([]uint64, partitions+1),
		partOf: map[string]int{}, clients: map[string]map[string]uint64{}}
}

func (st *shapedStore) apply(p shapedOp) history.Op {
	op := p.op
	if st.keys[op.Key] == nil {
		st.keys[op.Key], st.partOf[op.Key] = &register{}, p.partition
		st.order = append(st.order, op.Key)
	}
	reg, seen := st.keys[op.Key], st.clients[op.Client]
	if seen == nil {
		seen = map[string]uint64{}
		st.clients[op.Client] = seen
	}
	answered := op.Status == history.StatusOK
	if op.Op == history.OpCAS {
		expect, ok := seen[op.Key]
		if !ok {
			op.Op, op.Value = history.OpGet, "" // the workload reads a key it has not seen
		} else {
			op.ExpectVersion = &expect
			if answered && (!reg.present || reg.version != expect) {
				op.Status, op.Error = history.StatusFail, "conflict"
				delete(seen, op.Key)
				return op
			}
			if !answered && (!reg.present || reg.version != expect) {
				return op // refused, but nobody heard
			}
		}
	}
	switch {
	case op.Op == history.OpGet && answered:
		if reg.present {
			value, version := reg.value, reg.version
			op.Read, op.Version = &value, &version
			seen[op.Key] = version
		} else {
			delete(seen, op.Key)
		}
	case op.Op == history.OpGet:
		// an unanswered get read nothing
	case p.applied:
		st.index[p.partition]++
		reg.present, reg.value, reg.version = true, op.Value, st.index[p.partition]
		if answered {
			version := reg.version
			op.Version = &version
			seen[op.Key] = version
		}
	}
	return op
}

// finalReads reads every key once, workers at a time, from start on.
func (st *shapedStore) finalReads(start int64, workers int) []history.Op {
	keys := slices.Clone(st.order)
	sort.Strings(keys)
	ops := make([]history.Op, 0, len(keys))
	for i, key := range keys {
		invoke := start + int64(i/workers)*600_000
		op := history.Op{
			Type: history.TypeOp, RunID: shapedRunID, Client: history.FinalClient, Op: history.OpGet, Key: key,
			InvokeNS: invoke, CompleteNS: at(invoke + 500_000), Status: history.StatusOK,
		}
		if reg := st.keys[key]; reg.present {
			value, version := reg.value, reg.version
			op.Read, op.Version = &value, &version
		}
		ops = append(ops, op)
	}
	return ops
}
