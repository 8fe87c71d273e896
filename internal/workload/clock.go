package workload

import "time"

// Clock is a run's monotonic clock: nanoseconds since its start. Create one
// per run and hand it to every client and to the fault injector, so that all
// their times share one origin.
type Clock struct{ start time.Time }

// NewClock starts a clock now.
func NewClock() *Clock { return &Clock{start: time.Now()} }

// Start is the clock's origin (a reading with a monotonic component).
func (c *Clock) Start() time.Time { return c.start }

// Now is the nanoseconds elapsed since the clock's start.
func (c *Clock) Now() int64 { return int64(time.Since(c.start)) }

// At converts a monotonic reading taken elsewhere (a kill's SentAt, say) to
// nanoseconds on this clock; negative before the clock's start.
func (c *Clock) At(t time.Time) int64 { return int64(t.Sub(c.start)) }
