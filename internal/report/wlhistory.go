package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// hop is one operation of a history, held compactly: strings shared with
// the run's tables where they repeat (clients, kinds, keys), times as
// values, complete noComplete when absent.
type hop struct {
	invoke, complete int64
	version, expect  uint64
	key, value, read string
	trial            int32
	client           int32
	kind, status     uint8
	flags            uint8
}

const noComplete = math.MinInt64

// hop flags.
const (
	hasVersion uint8 = 1 << iota
	hasExpect
	hasRead
)

var (
	opKinds    = []string{history.OpPut, history.OpGet, history.OpCAS}
	opStatuses = []string{history.StatusOK, history.StatusFail, history.StatusUnknown}
)

const (
	statusOK uint8 = iota
	statusFail
	statusUnknown
)

// runHistory is the part of a history log that belongs to one run.
type runHistory struct {
	runID    string
	ops      []hop
	faults   []history.Fault
	clients  []string
	clientIx map[string]int32
	keys     map[string]string
	final    int32
	// tooLarge is set when the run has more than the cap of operations: ops is then empty.
	tooLarge bool
	// warnings are the first warnings of the reader; warningCount counts them all.
	warnings     []history.Warning
	warningCount int
	lines        int
}

func newRunHistory(runID string) *runHistory {
	return &runHistory{runID: runID, clientIx: map[string]int32{}, keys: map[string]string{}, final: -1}
}

// loadHistory reads the ops and faults of run runID from r, holding at most
// maxOps operations; the error is for a failed read only.
func loadHistory(r io.Reader, runID string, maxOps int) (*runHistory, error) {
	h := newRunHistory(runID)
	hr := history.NewReader(r)
	hr.SetMaxLine(MaxHistoryLine)
	var err error
	for {
		var rec history.Record
		if rec, err = hr.Next(); err != nil {
			break
		}
		if h.add(rec, maxOps) {
			break
		}
	}
	h.lines, h.warnings, h.warningCount = hr.Lines(), hr.Warnings(), hr.WarningCount()
	if errors.Is(err, io.EOF) || err == nil {
		return h, nil
	}
	return h, fmt.Errorf("reading the history: %w", err)
}

// add holds one record of the run; it returns true when the cap is passed.
func (h *runHistory) add(rec history.Record, maxOps int) bool {
	switch {
	case rec.Fault != nil && rec.Fault.RunID == h.runID:
		h.faults = append(h.faults, *rec.Fault)
	case rec.Op != nil && rec.Op.RunID == h.runID:
		if len(h.ops) >= maxOps {
			h.ops, h.tooLarge = nil, true
			return true
		}
		h.ops = append(h.ops, h.compact(rec.Op))
	}
	return false
}

func (h *runHistory) compact(op *history.Op) hop {
	c := hop{
		invoke: op.InvokeNS, complete: noComplete, key: h.intern(op.Key), value: op.Value,
		trial: int32(op.Trial), client: h.clientIndex(op.Client),
		kind: index(opKinds, op.Op), status: index(opStatuses, op.Status),
	}
	if op.CompleteNS != nil {
		c.complete = *op.CompleteNS
	}
	if op.Version != nil {
		c.version, c.flags = *op.Version, c.flags|hasVersion
	}
	if op.ExpectVersion != nil {
		c.expect, c.flags = *op.ExpectVersion, c.flags|hasExpect
	}
	if op.Read != nil {
		c.read, c.flags = *op.Read, c.flags|hasRead
	}
	return c
}

func index(names []string, s string) uint8 {
	for i, n := range names {
		if n == s {
			return uint8(i)
		}
	}
	return 0
}

func (h *runHistory) intern(key string) string {
	if k, ok := h.keys[key]; ok {
		return k
	}
	h.keys[key] = key
	return key
}

func (h *runHistory) clientIndex(name string) int32 {
	if i, ok := h.clientIx[name]; ok {
		return i
	}
	i := int32(len(h.clients))
	h.clients = append(h.clients, name)
	h.clientIx[name] = i
	if name == history.FinalClient {
		h.final = i
	}
	return i
}

// op is the history record of the held operation c.
func (h *runHistory) op(c *hop) history.Op {
	op := history.Op{
		Type: history.TypeOp, RunID: h.runID, Trial: int(c.trial), Client: h.clients[c.client],
		Op: opKinds[c.kind], Key: c.key, Value: c.value, InvokeNS: c.invoke, Status: opStatuses[c.status],
	}
	if c.complete != noComplete {
		op.CompleteNS = &c.complete
	}
	if c.flags&hasVersion != 0 {
		op.Version = &c.version
	}
	if c.flags&hasExpect != 0 {
		op.ExpectVersion = &c.expect
	}
	if c.flags&hasRead != 0 {
		op.Read = &c.read
	}
	return op
}

// records are the held operations as history records, for the checker;
// their pointers point into h.ops.
func (h *runHistory) records() []history.Op {
	out := make([]history.Op, len(h.ops))
	for i := range h.ops {
		out[i] = h.op(&h.ops[i])
	}
	return out
}

// answered says whether the store acknowledged c.
func (c *hop) answered() bool { return c.status == statusOK && c.complete != noComplete }

// byTrial indexes the operations of each trial, final reads left out, in order of invocation.
func (h *runHistory) byTrial() map[int][]int32 {
	out := map[int][]int32{}
	for i := range h.ops {
		if c := &h.ops[i]; c.client != h.final {
			out[int(c.trial)] = append(out[int(c.trial)], int32(i))
		}
	}
	for _, idx := range out {
		h.sortByInvoke(idx)
	}
	return out
}

func (h *runHistory) sortByInvoke(idx []int32) {
	sort.SliceStable(idx, func(i, j int) bool { return h.ops[idx[i]].invoke < h.ops[idx[j]].invoke })
}
