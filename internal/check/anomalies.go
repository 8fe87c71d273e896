package check

import (
	"sort"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// StaleRead is a get that read a value older than one acknowledged before it was invoked.
type StaleRead struct {
	Key  string     `json:"key"`
	Read history.Op `json:"read"`
	// Newer is the newer acknowledged write: highest version, else last invoked, else last acknowledged.
	Newer history.Op `json:"newer"`
}

// LostWrite is the acknowledged put of a write-once key that the final read did not find.
type LostWrite struct {
	Key string `json:"key"`
	// Trial is the trial the loss is counted in: the write's, or the trial
	// of a wipe of every member after its acknowledgement (history.TargetAll).
	Trial int        `json:"trial"`
	Write history.Op `json:"write"`
	Final history.Op `json:"final"`
	// Fault is the kill, pause or partition the age is measured to; nil when the trial has none.
	Fault *history.Fault `json:"fault,omitempty"`
	// AgeNS is Fault.StartNS minus the write's acknowledgement; nil without a fault.
	AgeNS *int64 `json:"age_ns,omitempty"`
}

// StaleReads finds the answered gets that read a value older than one
// acknowledged before they were invoked. Final reads are left out: what
// they miss is a lost write (write-once keys) or a violation of the window
// they close (hot keys).
func StaleReads(ops []history.Op) []StaleRead {
	byKey := groupByKey(ops)
	var out []StaleRead
	for _, key := range sortedKeys(byKey) {
		out = append(out, keyStaleReads(key, byKey[key])...)
	}
	return out
}

func keyStaleReads(key string, ops []history.Op) []StaleRead {
	idx := newAckIndex(ops)
	written := writesByValue(ops)
	var out []StaleRead
	for _, op := range ops {
		if op.Op != history.OpGet || !answered(op) || op.Client == history.FinalClient {
			continue
		}
		if newer, ok := idx.newer(readSeen(op, written), op.InvokeNS); ok {
			out = append(out, StaleRead{Key: key, Read: op, Newer: newer})
		}
	}
	return out
}

// ackIndex holds a key's acknowledged writes in order of acknowledgement
// and, for each prefix, the write with the highest version, the last
// invoked write without a version and the last invoked write (-1: none).
type ackIndex struct {
	acked         []history.Op
	topVersion    []int
	lastUnversion []int
	lastInvoked   []int
}

func newAckIndex(ops []history.Op) ackIndex {
	var acked []history.Op
	for _, op := range ops {
		if isWrite(op) && answered(op) {
			acked = append(acked, op)
		}
	}
	sort.SliceStable(acked, func(i, j int) bool { return *acked[i].CompleteNS < *acked[j].CompleteNS })
	versioned := func(w history.Op) bool { return w.Version != nil }
	unversioned := func(w history.Op) bool { return w.Version == nil }
	all := func(history.Op) bool { return true }
	higher := func(a, b history.Op) bool { return *a.Version > *b.Version }
	later := func(a, b history.Op) bool { return a.InvokeNS > b.InvokeNS }
	return ackIndex{
		acked:         acked,
		topVersion:    prefixBest(acked, versioned, higher),
		lastUnversion: prefixBest(acked, unversioned, later),
		lastInvoked:   prefixBest(acked, all, later),
	}
}

// prefixBest gives, for each prefix of ws, the index of its best element
// among those kept (-1: none).
func prefixBest(ws []history.Op, keep func(history.Op) bool, better func(a, b history.Op) bool) []int {
	best := make([]int, len(ws))
	cur := -1
	for i, w := range ws {
		if keep(w) && (cur < 0 || better(w, ws[cur])) {
			cur = i
		}
		best[i] = cur
	}
	return best
}

// newer is a write acknowledged before invoke that is newer than what was
// seen: by version when both have one, else by real time; absent is older
// than any write.
func (x ackIndex) newer(s seen, invoke int64) (history.Op, bool) {
	n := sort.Search(len(x.acked), func(i int) bool { return *x.acked[i].CompleteNS >= invoke })
	if n == 0 {
		return history.Op{}, false
	}
	i := n - 1
	switch {
	case s.absent:
		return x.acked[i], true
	case s.version == nil:
		return x.invokedAfter(x.lastInvoked[i], s)
	}
	if j := x.topVersion[i]; j >= 0 && *s.version < *x.acked[j].Version {
		return x.acked[j], true
	}
	return x.invokedAfter(x.lastUnversion[i], s)
}

// invokedAfter is acked[j] when it was invoked after the seen write was
// acknowledged.
func (x ackIndex) invokedAfter(j int, s seen) (history.Op, bool) {
	if j < 0 || s.write == nil || !answered(*s.write) || *s.write.CompleteNS >= x.acked[j].InvokeNS {
		return history.Op{}, false
	}
	return x.acked[j], true
}

func writesByValue(ops []history.Op) map[string]history.Op {
	written := map[string]history.Op{}
	for _, op := range ops {
		if isWrite(op) && op.Status != history.StatusFail {
			written[op.Value] = op
		}
	}
	return written
}

// seen is what a get read: the key absent, or a value with its version and
// the write that produced it, when known.
type seen struct {
	absent  bool
	version *uint64
	write   *history.Op
}

func readSeen(get history.Op, written map[string]history.Op) seen {
	if get.Read == nil {
		return seen{absent: true}
	}
	s := seen{version: get.Version}
	if w, ok := written[*get.Read]; ok {
		s.write = &w
		if s.version == nil && answered(w) {
			s.version = w.Version
		}
	}
	return s
}

// LostWrites finds the acknowledged puts of write-once keys that the last final read did not find.
func LostWrites(ops []history.Op, faults []history.Fault) []LostWrite {
	byKey := groupByKey(ops)
	var out []LostWrite
	for _, key := range sortedKeys(byKey) {
		if lw, ok := keyLostWrite(key, byKey[key], faults); ok {
			out = append(out, lw)
		}
	}
	return out
}

// keyLostWrite judges a key written by one put, not failed, and no other
// write: lost when the put was acknowledged and the last final read found
// the key absent or holding another value.
func keyLostWrite(key string, ops []history.Op, faults []history.Fault) (LostWrite, bool) {
	put, ok := onlyPut(ops)
	if !ok || !answered(put) {
		return LostWrite{}, false
	}
	final, ok := finalRead(ops)
	if !ok || (final.Read != nil && *final.Read == put.Value) {
		return LostWrite{}, false
	}
	lw := LostWrite{Key: key, Trial: put.Trial, Write: put, Final: final}
	if f, ok := wipeAfter(*put.CompleteNS, faults); ok {
		lw.Trial = f.Trial
		age := f.StartNS - *put.CompleteNS
		lw.Fault, lw.AgeNS = &f, &age
	} else if f, ok := faultFor(put, faults); ok {
		age := f.StartNS - *put.CompleteNS
		lw.Fault, lw.AgeNS = &f, &age
	}
	return lw, true
}

func onlyPut(ops []history.Op) (history.Op, bool) {
	var put history.Op
	n := 0
	for _, op := range ops {
		if isWrite(op) && op.Status != history.StatusFail {
			put, n = op, n+1
		}
	}
	return put, n == 1 && put.Op == history.OpPut
}

func finalRead(ops []history.Op) (history.Op, bool) {
	var final history.Op
	found := false
	for _, op := range ops {
		if op.Client == history.FinalClient && op.Op == history.OpGet && answered(op) &&
			(!found || op.InvokeNS >= final.InvokeNS) {
			final, found = op, true
		}
	}
	return final, found
}

// faultFor is the fault a write's age is measured to: the first kill, pause
// or partition of its trial at or after its acknowledgement, else the last
// one before it (a negative age).
func faultFor(w history.Op, faults []history.Fault) (history.Fault, bool) {
	fs := trialFaults(w.Trial, faults)
	if len(fs) == 0 {
		return history.Fault{}, false
	}
	i := sort.Search(len(fs), func(i int) bool { return fs[i].StartNS >= *w.CompleteNS })
	return fs[min(i, len(fs)-1)], true
}

// trialFaults are a trial's disruptive faults in order of start.
func trialFaults(trial int, faults []history.Fault) []history.Fault {
	var fs []history.Fault
	for _, f := range faults {
		if f.Trial == trial && disruptive(f.Fault) {
			fs = append(fs, f)
		}
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].StartNS < fs[j].StartNS })
	return fs
}

func disruptive(kind string) bool {
	return kind == history.FaultKill || kind == history.FaultPause || kind == history.FaultPartition
}

// wipeAfter is the first wipe of every member (a kill of history.TargetAll)
// that started at or after t: it destroys every write acknowledged before
// it by construction.
func wipeAfter(t int64, faults []history.Fault) (history.Fault, bool) {
	var first history.Fault
	found := false
	for _, f := range faults {
		if IsWipe(f) && f.StartNS >= t && (!found || f.StartNS < first.StartNS) {
			first, found = f, true
		}
	}
	return first, found
}

// IsWipe says whether a fault killed every member and wiped its data (the positive control).
func IsWipe(f history.Fault) bool {
	return f.Fault == history.FaultKill && f.Target == history.TargetAll
}
