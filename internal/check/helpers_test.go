package check

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func at(v int64) *int64 { return &v }

// withVersion sets the version the store returned; 0 leaves it absent.
func withVersion(op history.Op, ver uint64) history.Op {
	if ver != 0 {
		op.Version = &ver
	}
	return op
}

func put(client, key, value string, invoke, complete int64, ver uint64) history.Op {
	return withVersion(history.Op{
		Type: history.TypeOp, Client: client, Op: history.OpPut, Key: key, Value: value,
		InvokeNS: invoke, CompleteNS: at(complete), Status: history.StatusOK,
	}, ver)
}

// get reads value; "" is an absent key.
func get(client, key, value string, invoke, complete int64, ver uint64) history.Op {
	op := history.Op{
		Type: history.TypeOp, Client: client, Op: history.OpGet, Key: key,
		InvokeNS: invoke, CompleteNS: at(complete), Status: history.StatusOK,
	}
	if value != "" {
		op.Read = &value
	}
	return withVersion(op, ver)
}

func cas(client, key, value string, expect uint64, invoke, complete int64, ver uint64) history.Op {
	return withVersion(history.Op{
		Type: history.TypeOp, Client: client, Op: history.OpCAS, Key: key, Value: value,
		ExpectVersion: &expect, InvokeNS: invoke, CompleteNS: at(complete), Status: history.StatusOK,
	}, ver)
}

func unknown(op history.Op) history.Op {
	op.Status, op.CompleteNS, op.Version, op.Read = history.StatusUnknown, nil, nil, nil
	op.Error = "context deadline exceeded"
	return op
}

func failed(op history.Op) history.Op {
	op.Status, op.Version, op.Read = history.StatusFail, nil, nil
	op.Error = "conflict"
	return op
}

func inTrial(op history.Op, trial int) history.Op {
	op.Trial = trial
	return op
}

func kill(trial int, start int64) history.Fault {
	return history.Fault{Type: history.TypeFault, Trial: trial, Fault: history.FaultKill, Target: "node-1", Partition: 1, StartNS: start}
}

func concat(parts ...[]history.Op) []history.Op {
	var out []history.Op
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// cleanKey is a concurrent, linearizable history of one key with versions.
func cleanKey(key string) []history.Op {
	return []history.Op{
		put("c1", key, key+"-a", 0, 10, 3),
		get("c2", key, key+"-a", 5, 15, 3),
		get("c3", key, "", 2, 8, 0),
		put("c1", key, key+"-b", 20, 30, 7),
		get("c2", key, key+"-a", 22, 28, 3),
		get("c3", key, key+"-b", 25, 35, 7),
		cas("c2", key, key+"-c", 7, 40, 50, 9),
		get("final", key, key+"-c", 100, 110, 9),
	}
}

// versionlessKey is a concurrent, linearizable history of one key whose
// operations carry no versions.
func versionlessKey(key string) []history.Op {
	return []history.Op{
		put("c1", key, key+"-a", 0, 10, 0),
		put("c2", key, key+"-b", 5, 12, 0),
		get("c3", key, key+"-a", 6, 14, 0),
		get("c3", key, key+"-b", 15, 20, 0),
		get("final", key, key+"-b", 100, 110, 0),
	}
}
