package history

import (
	"errors"
	"fmt"
)

// ValidOpKind reports whether k is put, get or cas.
func ValidOpKind(k string) bool {
	switch k {
	case OpPut, OpGet, OpCAS:
		return true
	}
	return false
}

// ValidStatus reports whether s is ok, fail or unknown.
func ValidStatus(s string) bool {
	switch s {
	case StatusOK, StatusFail, StatusUnknown:
		return true
	}
	return false
}

// ValidFaultKind reports whether k is kill, pause, partition, restart or heal.
func ValidFaultKind(k string) bool {
	switch k {
	case FaultKill, FaultPause, FaultPartition, FaultRestart, FaultHeal:
		return true
	}
	return false
}

// Validate reports why o is not a usable op record: a wrong type, a missing
// run_id, client or key, an unknown op kind or status, no complete_ns on an
// operation that did not end unknown, or times out of order.
func (o Op) Validate() error {
	switch {
	case o.Type != TypeOp:
		return fmt.Errorf("op record of type %.40q", o.Type)
	case o.RunID == "":
		return errors.New(`op record without "run_id"`)
	case o.Client == "":
		return errors.New(`op record without "client"`)
	case !ValidOpKind(o.Op):
		return fmt.Errorf("op record: unknown op %.40q", o.Op)
	case o.Key == "":
		return errors.New(`op record without "key"`)
	case !ValidStatus(o.Status):
		return fmt.Errorf("op record: unknown status %.40q", o.Status)
	case o.CompleteNS == nil && o.Status != StatusUnknown:
		return fmt.Errorf(`op record: status %s without "complete_ns"`, o.Status)
	case o.InvokeNS < 0:
		return fmt.Errorf("op record: invoke_ns %d before the run's start", o.InvokeNS)
	case o.CompleteNS != nil && *o.CompleteNS < o.InvokeNS:
		return fmt.Errorf("op record: complete_ns %d before invoke_ns %d", *o.CompleteNS, o.InvokeNS)
	}
	return nil
}

// Validate reports why f is not a usable fault record: a wrong type, a
// missing run_id, an unknown fault kind or times out of order.
func (f Fault) Validate() error {
	switch {
	case f.Type != TypeFault:
		return fmt.Errorf("fault record of type %.40q", f.Type)
	case f.RunID == "":
		return errors.New(`fault record without "run_id"`)
	case !ValidFaultKind(f.Fault):
		return fmt.Errorf("fault record: unknown fault %.40q", f.Fault)
	case f.StartNS < 0:
		return fmt.Errorf("fault record: start_ns %d before the run's start", f.StartNS)
	case f.EndNS != nil && *f.EndNS < f.StartNS:
		return fmt.Errorf("fault record: end_ns %d before start_ns %d", *f.EndNS, f.StartNS)
	}
	return nil
}
