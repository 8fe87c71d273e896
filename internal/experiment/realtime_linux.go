//go:build linux

package experiment

import (
	"syscall"
	"unsafe"
)

const (
	schedOther = 0
	schedFIFO  = 1
)

type schedParam struct{ priority int32 }

func setScheduler(policy int, priority int32) bool {
	p := schedParam{priority: priority}
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, uintptr(policy), uintptr(unsafe.Pointer(&p)))
	return errno == 0
}

// enterRealtime moves the calling OS thread (which must be locked) to
// SCHED_FIFO at the lowest real-time priority; restore moves it back to
// SCHED_OTHER. ok is false when the process lacks CAP_SYS_NICE.
func enterRealtime() (restore func(), ok bool) {
	if !setScheduler(schedFIFO, 1) {
		return nil, false
	}
	return func() { setScheduler(schedOther, 0) }, true
}
