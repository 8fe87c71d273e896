// Package check judges a history of the concurrent workload: a
// linearizability verdict per key (porcupine with a versioned register
// model, one independent check per key), stale reads and lost writes. Its
// functions are pure; only WriteVisualization writes, to the writer given.
package check

import (
	"runtime"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// Verdict is the outcome of a linearizability check.
type Verdict string

// Verdicts.
const (
	Linearizable Verdict = "linearizable"
	Violation    Verdict = "violation"
	Unknown      Verdict = "unknown"
)

// Reason says why a key's verdict is unknown.
type Reason string

// Reasons for an unknown verdict.
const (
	ReasonTimeout     Reason = "timeout"
	ReasonOpsCap      Reason = "ops cap"
	ReasonMemoryCap   Reason = "memory cap"
	ReasonUnsupported Reason = "unsupported operation"
	// ReasonNoOperations: a trial without operations of its own says nothing.
	ReasonNoOperations Reason = "no operations"
)

// Defaults of Options.
const (
	DefaultTimeout      = time.Minute
	DefaultMaxOpsPerKey = 50_000
	DefaultMemoryLimit  = 1 << 30
)

// entryOverhead is the estimated size in bytes of one entry of porcupine's
// search cache beside its bitset: slice header, boxed state, map bucket.
const entryOverhead = 160

// Options bound a check and give the faults that date lost writes.
type Options struct {
	// Timeout bounds the whole Check's search; keys undecided by then are unknown (0: DefaultTimeout).
	Timeout time.Duration
	// MaxOpsPerKey caps one key's operations; a key over it is unknown (0: DefaultMaxOpsPerKey).
	MaxOpsPerKey int
	// MemoryLimit bounds in bytes the search state of the keys checked at once (0: DefaultMemoryLimit).
	MemoryLimit int64
	// Parallel is the number of keys checked at once. 0: GOMAXPROCS.
	Parallel int
	// Faults are the fault records of the run, for lost-write ages.
	Faults []history.Fault
	// OpenStart starts every key in an unknown state instead of absent: the
	// history is a window cut from a longer one (TrialOps).
	OpenStart bool
}

// KeyResult is the verdict on one key.
type KeyResult struct {
	Key     string  `json:"key"`
	Verdict Verdict `json:"verdict"`
	Reason  Reason  `json:"reason,omitempty"`
	// Ops counts the operations checked, failed ones and unanswered gets dropped.
	Ops int `json:"ops"`
}

// Result is the verdict on a history.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// Violations are the keys whose verdict is violation.
	Violations []string    `json:"violations,omitempty"`
	Keys       []KeyResult `json:"keys"`
	StaleReads []StaleRead `json:"stale_reads,omitempty"`
	LostWrites []LostWrite `json:"lost_writes,omitempty"`
}

// Check judges a history: violation if some key is, else unknown if some key is, else linearizable.
func Check(ops []history.Op, opts Options) Result {
	opts = opts.withDefaults()
	keys := checkKeys(groupByKey(ops), opts)
	return Result{
		Verdict:    overall(keys),
		Violations: violations(keys),
		Keys:       keys,
		StaleReads: StaleReads(ops),
		LostWrites: LostWrites(ops, opts.Faults),
	}
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxOpsPerKey <= 0 {
		o.MaxOpsPerKey = DefaultMaxOpsPerKey
	}
	if o.MemoryLimit <= 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if o.Parallel <= 0 {
		o.Parallel = runtime.GOMAXPROCS(0)
	}
	return o
}

func checkKeys(byKey map[string][]history.Op, opts Options) []KeyResult {
	keys := sortedKeys(byKey)
	results := make([]KeyResult, len(keys))
	deadline := time.Now().Add(opts.Timeout)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(opts.Parallel, len(keys)) {
		wg.Go(func() {
			for i := range next {
				results[i] = checkKey(keys[i], byKey[keys[i]], deadline, opts)
			}
		})
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

func checkKey(key string, ops []history.Op, deadline time.Time, opts Options) KeyResult {
	pops, err := operations(pruneUnseen(ops))
	if err != nil {
		return KeyResult{Key: key, Verdict: Unknown, Reason: ReasonUnsupported, Ops: len(ops)}
	}
	kr := KeyResult{Key: key, Verdict: Unknown, Ops: len(pops)}
	left := time.Until(deadline)
	switch {
	case len(pops) > opts.MaxOpsPerKey:
		kr.Reason = ReasonOpsCap
	case left <= 0:
		kr.Reason = ReasonTimeout
	default:
		kr.Verdict, kr.Reason = search(pops, left, opts.stepBudget(len(pops)), opts.OpenStart)
	}
	return kr
}

// stepBudget is the number of model steps a key may take: porcupine adds at
// most one cache entry per step, so the budget bounds its memory.
func (o Options) stepBudget(n int) int64 {
	return max(1, o.MemoryLimit/int64(o.Parallel)/entryBytes(n))
}

func entryBytes(n int) int64 {
	return 8*int64((n+63)/64) + entryOverhead
}

func search(ops []porcupine.Operation, timeout time.Duration, steps int64, open bool) (Verdict, Reason) {
	b := &budget{left: steps, open: open}
	switch porcupine.CheckOperationsTimeout(b.model(), ops, timeout) {
	case porcupine.Ok:
		return Linearizable, ""
	case porcupine.Illegal:
		if b.spent {
			return Unknown, ReasonMemoryCap
		}
		return Violation, ""
	default:
		return Unknown, ReasonTimeout
	}
}

// budget counts the model steps of one search. Once spent, every step
// fails, porcupine unwinds and reports Illegal, which then means unknown.
type budget struct {
	left  int64
	spent bool
	open  bool
}

func (b *budget) model() porcupine.Model {
	m := modelFrom(state{open: b.open})
	m.Partition = nil
	m.Step = func(s, in, out interface{}) (bool, interface{}) {
		if b.left <= 0 {
			b.spent = true
			return false, s
		}
		b.left--
		return stepAny(s, in, out)
	}
	return m
}

func overall(keys []KeyResult) Verdict {
	v := Linearizable
	for _, k := range keys {
		switch k.Verdict {
		case Violation:
			return Violation
		case Unknown:
			v = Unknown
		}
	}
	return v
}

func violations(keys []KeyResult) []string {
	var out []string
	for _, k := range keys {
		if k.Verdict == Violation {
			out = append(out, k.Key)
		}
	}
	return out
}
