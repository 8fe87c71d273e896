package check

import (
	"fmt"
	"strconv"

	"github.com/anishathalye/porcupine"
)

type opKind uint8

const (
	kindPut opKind = iota
	kindGet
	kindCAS
)

// input is what a client asked for. expect is a cas's expected version;
// 0 means no version precondition, as Atomix's IfVersion(0).
type input struct {
	key    string
	kind   opKind
	value  string
	expect uint64
}

// output is what the store answered; unknown when no answer came.
type output struct {
	unknown    bool
	present    bool
	read       string
	version    uint64
	hasVersion bool
}

// versionKind says what the model knows of a key's current version.
type versionKind uint8

const (
	versionNone  versionKind = iota // no version seen on the key yet
	versionExact                    // the current version is state.version
	versionAbove                    // the current version is greater than state.version
)

// state is one key's register: its value and what is known of its version.
type state struct {
	present bool
	value   string
	version uint64
	vk      versionKind
	// open is true while nothing is known of the key: the state at the
	// start of a window cut from a longer history (TrialOps), until an
	// operation pins it.
	open bool
}

// Model is porcupine's model of an Atomix map: one versioned register per key, partitioned by key.
func Model() porcupine.Model { return modelFrom(state{}) }

// modelFrom is Model with every key starting in init.
func modelFrom(init state) porcupine.Model {
	return porcupine.Model{
		Partition:                 partitionByKey,
		Init:                      func() interface{} { return init },
		Step:                      stepAny,
		Hash:                      hashState,
		DescribeOperation:         describeOperation,
		DescribeState:             describeState,
		DescribeOperationMetadata: describeMetadata,
	}
}

func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	index := map[string]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		key := op.Input.(input).key
		i, ok := index[key]
		if !ok {
			i = len(parts)
			index[key] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

func stepAny(s, in, out interface{}) (bool, interface{}) {
	return step(s.(state), in.(input), out.(output))
}

func step(s state, in input, out output) (bool, state) {
	switch in.kind {
	case kindGet:
		return stepGet(s, out)
	case kindPut:
		return s.write(in.value, out)
	default:
		return stepCAS(s, in, out)
	}
}

func stepGet(s state, out output) (bool, state) {
	if s.open {
		s = state{present: out.present, value: out.read}
	}
	if out.present != s.present || out.read != s.value {
		return false, s
	}
	if !out.present || !out.hasVersion {
		return true, s
	}
	return s.learn(out.version)
}

func stepCAS(s state, in input, out output) (bool, state) {
	if s.open {
		return stepOpenCAS(s, in, out)
	}
	ok, pre := s.precondition(in.expect)
	if !ok {
		return out.unknown, s
	}
	return pre.write(in.value, out)
}

// stepOpenCAS is a cas on a key of unknown state: an unanswered one may
// not have applied, so the key stays unknown; an acknowledged one proves
// the key existed (at version expect, when given).
func stepOpenCAS(s state, in input, out output) (bool, state) {
	if out.unknown {
		return true, s
	}
	pre := state{present: true}
	if in.expect != 0 {
		pre.version, pre.vk = in.expect, versionExact
	}
	return pre.write(in.value, out)
}

// learn records that the key's current version is v, if it can be.
func (s state) learn(v uint64) (bool, state) {
	switch s.vk {
	case versionExact:
		return v == s.version, s
	case versionAbove:
		if v <= s.version {
			return false, s
		}
	}
	s.version, s.vk = v, versionExact
	return true, s
}

// precondition is Atomix's Update with IfVersion: the key exists and, when
// expect is not 0, its version is expect.
func (s state) precondition(expect uint64) (bool, state) {
	if !s.present {
		return false, s
	}
	if expect == 0 {
		return true, s
	}
	return s.learn(expect)
}

// write applies a write of value; its new version, when the store returned
// one, must be greater than every version the key had before.
func (s state) write(value string, out output) (bool, state) {
	next := state{present: true, value: value, version: s.version, vk: s.vk}
	if out.unknown || !out.hasVersion {
		if s.vk == versionExact {
			next.vk = versionAbove
		}
		return true, next
	}
	if s.vk != versionNone && out.version <= s.version {
		return false, s
	}
	next.version, next.vk = out.version, versionExact
	return true, next
}

func hashState(s interface{}) uint64 {
	st := s.(state)
	h := uint64(14695981039346656037)
	for i := 0; i < len(st.value); i++ {
		h = (h ^ uint64(st.value[i])) * 1099511628211
	}
	h = (h ^ st.version) * 1099511628211
	return h ^ uint64(st.vk)<<1 ^ boolBit(st.present) ^ boolBit(st.open)<<4
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func describeOperation(in, out interface{}) string {
	i, o := in.(input), out.(output)
	switch i.kind {
	case kindGet:
		return "get() → " + describeRead(o)
	case kindPut:
		return fmt.Sprintf("put(%q) → %s", i.value, describeWritten(o))
	default:
		return fmt.Sprintf("cas(%q if @%d) → %s", i.value, i.expect, describeWritten(o))
	}
}

func describeRead(o output) string {
	if !o.present {
		return "absent"
	}
	return strconv.Quote(o.read) + describeVersion(o)
}

func describeWritten(o output) string {
	if o.unknown {
		return "unknown"
	}
	return "ok" + describeVersion(o)
}

func describeVersion(o output) string {
	if !o.hasVersion {
		return ""
	}
	return "@" + strconv.FormatUint(o.version, 10)
}

func describeState(s interface{}) string {
	st := s.(state)
	if st.open {
		return "unknown"
	}
	if !st.present {
		return "absent"
	}
	switch st.vk {
	case versionExact:
		return fmt.Sprintf("%q@%d", st.value, st.version)
	case versionAbove:
		return fmt.Sprintf("%q@>%d", st.value, st.version)
	default:
		return strconv.Quote(st.value)
	}
}
