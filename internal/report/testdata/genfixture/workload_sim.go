package main

import (
	"fmt"
	"sort"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// wlCycle is each client's sequence of operations: kind and key ("wo" is a
// fresh write-once key).
var wlCycle = []struct{ kind, key string }{
	{history.OpPut, wlHot1}, {history.OpGet, wlHot1}, {history.OpPut, wlHot2}, {history.OpGet, wlHot2}, {history.OpCAS, wlHot1},
	{history.OpGet, wlHot2}, {history.OpPut, "wo"}, {history.OpGet, wlHot1}, {history.OpCAS, wlHot2}, {history.OpGet, wlHot2},
}

// simulate runs three clients against a linearizable register store whose
// partition 1 (wlHot1) is down during each trial's fault, then injects the
// lost write and the stale read, and appends the final reads.
func simulate() []history.Op {
	var ops []*history.Op
	for ci, client := range []string{"c1", "c2", "c3"} {
		ops = append(ops, clientOps(ci, client)...)
	}
	applyInOrder(ops)
	injectStaleRead(ops)
	out := make([]history.Op, 0, len(ops)+32)
	for _, op := range ops {
		out = append(out, *op)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].InvokeNS < out[j].InvokeNS })
	return append(out, finalReads(out)...)
}

// clientOps are one client's operations with their times and statuses;
// values, reads and versions are set by applyInOrder.
func clientOps(ci int, client string) []*history.Op {
	var out []*history.Op
	t, lostDone := int64(800+13*ci), false
	for n := 0; t < 6600; n++ {
		c := wlCycle[n%len(wlCycle)]
		op := &history.Op{Type: history.TypeOp, RunID: wlRunID, Trial: trialAt(t), Client: client, Op: c.kind, Key: c.key,
			InvokeNS: t * msNS, Status: history.StatusOK}
		if c.key == "wo" {
			op.Key = fmt.Sprintf("wl/wo-%s-%d", client, n)
		}
		if client == "c1" && !lostDone && t >= 1100 && t <= 1192 {
			t, lostDone = 1192, true
			op.Op, op.Key, op.InvokeNS, op.Trial = history.OpPut, wlLostKey, t*msNS, trialAt(t)
		}
		if op.Op != history.OpGet {
			op.Value = fmt.Sprintf("%s-%d", client, n)
		}
		end := t + 2 + int64((n*7+ci*3)%5)
		if op.Key == wlLostKey {
			end = 1195
		}
		if down(op.Key, t) {
			end = failDown(op, t)
		}
		if op.Status != history.StatusUnknown {
			op.CompleteNS = p(end * msNS)
		}
		out = append(out, op)
		t = end + 40
	}
	return out
}

// failDown makes an operation on the down partition fail (a get, after 40
// ms) or end unknown (a write, after the operation timeout); it returns when
// the client is free again.
func failDown(op *history.Op, t int64) int64 {
	if op.Op == history.OpGet {
		op.Status, op.Error = history.StatusFail, "rpc error: code = Unavailable desc = no leader"
		return t + 40
	}
	op.Status, op.Error = history.StatusUnknown, "context deadline exceeded"
	return t + wlOpTimeout
}

func trialAt(t int64) int {
	for i, s := range wlTrials {
		if t >= s.from && t < s.to {
			return i + 1
		}
	}
	return 0
}

// down says whether key's partition is down at t: wlHot1 during each
// trial's fault.
func down(key string, t int64) bool {
	if key != wlHot1 {
		return false
	}
	for _, s := range wlTrials {
		if t >= s.down[0] && t < s.down[1] {
			return true
		}
	}
	return false
}

type register struct {
	present bool
	value   string
	version uint64
}

// applyInOrder applies the answered operations at the middle of their
// interval, in that order, to one register per key.
func applyInOrder(ops []*history.Op) {
	var live []*history.Op
	for _, op := range ops {
		if op.CompleteNS != nil {
			live = append(live, op)
		}
	}
	mid := func(op *history.Op) int64 { return (op.InvokeNS + *op.CompleteNS) / 2 }
	sort.SliceStable(live, func(i, j int) bool { return mid(live[i]) < mid(live[j]) })
	state, seen, ver := map[string]*register{}, map[string]uint64{}, uint64(10)
	for _, op := range live {
		r := state[op.Key]
		if r == nil {
			r = &register{}
			state[op.Key] = r
		}
		ver = applyOne(op, r, seen, ver)
	}
}

func applyOne(op *history.Op, r *register, seen map[string]uint64, ver uint64) uint64 {
	ck := op.Client + "/" + op.Key
	switch op.Op {
	case history.OpGet:
		if op.Status != history.StatusOK {
			return ver
		}
		if r.present {
			op.Read, op.Version, seen[ck] = p2(r.value), p3(r.version), r.version
		}
		return ver
	case history.OpCAS:
		expect := seen[ck]
		op.ExpectVersion = p3(expect)
		if !r.present || (expect != 0 && expect != r.version) {
			op.Status, op.Error = history.StatusFail, "version mismatch"
			return ver
		}
	}
	ver++
	r.present, r.value, r.version = true, op.Value, ver
	op.Version, seen[ck] = p3(ver), ver
	return ver
}

// injectStaleRead makes trial 3's first answered get of wlHot2 invoked at
// 5300 ms or later, after a write it must see, read the value before it.
func injectStaleRead(ops []*history.Op) {
	var writes []*history.Op
	for _, op := range ops {
		if op.Key == wlHot2 && op.Op != history.OpGet && op.Version != nil {
			writes = append(writes, op)
		}
	}
	sort.Slice(writes, func(i, j int) bool { return *writes[i].Version < *writes[j].Version })
	for _, op := range ops {
		if op.Key != wlHot2 || op.Op != history.OpGet || op.Trial != 3 || op.InvokeNS < 5300*msNS || op.Version == nil {
			continue
		}
		for i := 1; i < len(writes); i++ {
			if *writes[i].Version == *op.Version && *writes[i].CompleteNS < op.InvokeNS {
				op.Read, op.Version = p2(writes[i-1].Value), p3(*writes[i-1].Version)
				return
			}
		}
	}
	panic("no get to make stale")
}

// finalReads read every key written, in key order, after the run (in the
// last trial, as the workload attributes them): the lost key is absent,
// every other key holds its last write.
func finalReads(ops []history.Op) []history.Op {
	last := map[string]history.Op{}
	for _, op := range ops {
		if op.Op != history.OpGet && op.Version != nil {
			if w, ok := last[op.Key]; !ok || *op.Version > *w.Version {
				last[op.Key] = op
			}
		}
	}
	keys := make([]string, 0, len(last))
	for k := range last {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []history.Op
	for i, k := range keys {
		at := (7000 + 2*int64(i)) * msNS
		op := history.Op{Type: history.TypeOp, RunID: wlRunID, Trial: len(wlTrials), Client: history.FinalClient, Op: history.OpGet, Key: k,
			InvokeNS: at, CompleteNS: p(at + msNS), Status: history.StatusOK}
		if k != wlLostKey {
			op.Read, op.Version = p2(last[k].Value), last[k].Version
		}
		out = append(out, op)
	}
	return out
}

func p2(s string) *string { return &s }
func p3(v uint64) *uint64 { return &v }
