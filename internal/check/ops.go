package check

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/anishathalye/porcupine"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// ErrUnsupportedOp is returned for an operation the model does not know.
var ErrUnsupportedOp = errors.New("unsupported operation")

// opMeta is what the visualization shows of an operation beside the model's
// description.
type opMeta struct {
	client string
	trial  int
	status string
	err    string
}

func describeMetadata(m interface{}) string {
	md, ok := m.(opMeta)
	if !ok {
		return ""
	}
	s := fmt.Sprintf("client %s, trial %d, %s", md.client, md.trial, md.status)
	if md.err != "" {
		s += ": " + md.err
	}
	return s
}

// groupByKey partitions a history by key, keeping each key's order.
func groupByKey(ops []history.Op) map[string][]history.Op {
	byKey := map[string][]history.Op{}
	for _, op := range ops {
		byKey[op.Key] = append(byKey[op.Key], op)
	}
	return byKey
}

func sortedKeys(byKey map[string][]history.Op) []string {
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// operations converts one key's history for porcupine: failed operations
// and unanswered gets are dropped; unanswered writes return at infinity.
func operations(ops []history.Op) ([]porcupine.Operation, error) {
	clients := clientIDs(ops)
	out := make([]porcupine.Operation, 0, len(ops))
	for _, op := range ops {
		if dropped(op) {
			continue
		}
		in, err := toInput(op)
		if err != nil {
			return nil, err
		}
		out = append(out, porcupine.Operation{
			ClientId: clients[op.Client],
			Input:    in,
			Call:     op.InvokeNS,
			Output:   toOutput(op),
			Return:   returnTime(op),
			Metadata: opMeta{client: op.Client, trial: op.Trial, status: op.Status, err: op.Error},
		})
	}
	return out, nil
}

func clientIDs(ops []history.Op) map[string]int {
	ids := map[string]int{}
	for _, op := range ops {
		ids[op.Client] = 0
	}
	names := make([]string, 0, len(ids))
	for name := range ids {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		ids[name] = i
	}
	return ids
}

func toInput(op history.Op) (input, error) {
	in := input{key: op.Key, value: op.Value}
	switch op.Op {
	case history.OpPut:
		in.kind = kindPut
	case history.OpGet:
		in.kind = kindGet
	case history.OpCAS:
		in.kind = kindCAS
		if op.ExpectVersion != nil {
			in.expect = *op.ExpectVersion
		}
	default:
		return input{}, fmt.Errorf("%w: %q on key %q", ErrUnsupportedOp, op.Op, op.Key)
	}
	return in, nil
}

// answered says whether the store acknowledged the operation.
func answered(op history.Op) bool {
	return op.Status == history.StatusOK && op.CompleteNS != nil
}

// dropped says whether an operation carries no information for the model:
// failed operations were not applied, and a get without an answer read
// nothing.
func dropped(op history.Op) bool {
	return op.Status == history.StatusFail || (op.Op == history.OpGet && !answered(op))
}

func isWrite(op history.Op) bool {
	return op.Op == history.OpPut || op.Op == history.OpCAS
}

func toOutput(op history.Op) output {
	if !answered(op) {
		return output{unknown: true}
	}
	out := output{}
	if op.Version != nil {
		out.version, out.hasVersion = *op.Version, true
	}
	if op.Op == history.OpGet && op.Read != nil {
		out.present, out.read = true, *op.Read
	}
	return out
}

// returnTime is the completion time, or infinity when the store did not
// answer: the operation may take effect at any time after its invocation.
func returnTime(op history.Op) int64 {
	if !answered(op) {
		return math.MaxInt64
	}
	if *op.CompleteNS < op.InvokeNS {
		return op.InvokeNS
	}
	return *op.CompleteNS
}
