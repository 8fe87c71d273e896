// Package faketarget is an in-memory cluster.Target for tests: partitions
// with leaders and terms, kills that trigger an election and a restart after
// configurable delays, and a map whose faults (a dropped acknowledged write,
// a write applied or not behind an error, a foreign value, reads that never
// answer, stale reads) produce every outcome class on demand. Values carry
// versions as Atomix's do (a store-wide index that rises on every write), and
// Update honours _map.IfVersion.
package faketarget

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	atomixerrors "github.com/atomix/atomix/api/errors"
	"github.com/atomix/go-sdk/pkg/primitive"
	_map "github.com/atomix/go-sdk/pkg/primitive/map"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/keyspace"
)

// Config shapes the fake store.
type Config struct {
	// Partitions is the number of partitions.
	Partitions int
	// Replicas is the number of members of every partition.
	Replicas int
	// ElectionDelay is how long a partition stays leaderless after its leader is killed.
	ElectionDelay time.Duration
	// RestartDelay is how long a killed member stays down.
	RestartDelay time.Duration
	// OpLatency is the latency of every map operation.
	OpLatency time.Duration
}

// DefaultConfig is 3 partitions × 3 replicas with millisecond-scale delays.
func DefaultConfig() Config {
	return Config{Partitions: 3, Replicas: 3, ElectionDelay: 15 * time.Millisecond, RestartDelay: 30 * time.Millisecond, OpLatency: 200 * time.Microsecond}
}

// Fault is what the fake map does to writes or reads of one key.
type Fault int

const (
	// DropWrite acknowledges the write without storing it (a lost write).
	DropWrite Fault = iota + 1
	// FailWriteApplied stores the write and returns an Unavailable error.
	FailWriteApplied
	// FailWriteAbsent returns an Unavailable error without storing the write.
	FailWriteAbsent
	// ForeignValue stores another value instead of the written one.
	ForeignValue
	// HangReads makes every read of the key wait until its deadline.
	HangReads
	// MoveLeaderOnAck moves the partition's leadership to another member when the write is acknowledged.
	MoveLeaderOnAck
	// StaleReads makes every read of the key return the value (and version)
	// the key had before its latest write, or absent after its first write.
	StaleReads
)

// entry is a stored value and its version.
type entry struct {
	value   string
	version uint64
}

type member struct {
	id          uint64
	up          bool
	pid         int
	incarnation int
	restartedAt time.Time
}

type partition struct {
	leader     uint64
	term       uint64
	observedAt time.Time
}

// Target is the fake store. It is safe for concurrent use.
type Target struct {
	cfg     Config
	mu      sync.Mutex
	members []*member
	parts   []*partition
	changed chan struct{}
	data    map[string]entry
	// prev holds every key's value before its latest write (StaleReads).
	prev map[string]entry
	// index is the version of the latest write, store-wide (as a Raft index).
	index   uint64
	faults  map[string]Fault
	clients int
	kills   []cluster.Kill
	// unconfirmed holds the 1-based numbers of kills that are sent but not confirmed.
	unconfirmed map[int]bool
	timers      []*time.Timer
	nextPID     int
	closed      bool
	sends       cluster.SendHub
}

var (
	_ cluster.Target       = (*Target)(nil)
	_ cluster.Wiper        = (*Target)(nil)
	_ cluster.SendObserver = (*Target)(nil)
	_ cluster.Sessions     = (*Target)(nil)
)

// New starts a fake store whose partition p is led by member ((p-1) % replicas)+1 in term 1.
func New(cfg Config) *Target {
	t := &Target{cfg: cfg, changed: make(chan struct{}), data: map[string]entry{}, prev: map[string]entry{}, faults: map[string]Fault{}, nextPID: 1000}
	for i := 1; i <= cfg.Replicas; i++ {
		t.nextPID++
		t.members = append(t.members, &member{id: uint64(i), up: true, pid: t.nextPID, incarnation: 1})
	}
	now := time.Now()
	for p := 0; p < cfg.Partitions; p++ {
		t.parts = append(t.parts, &partition{leader: uint64(p%cfg.Replicas) + 1, term: 1, observedAt: now})
	}
	return t
}

// SetFault sets the fault applied to key.
func (t *Target) SetFault(key string, f Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults[key] = f
}

// ErrUnconfirmed is the error of a kill made unconfirmed by UnconfirmKill.
var ErrUnconfirmed = errors.New("fake: kill sent, victim not yet gone")

// UnconfirmKill makes the nth kill (1-based) happen but return without
// DoneAt and with Unconfirmed set to ErrUnconfirmed, as a pod deletion accepted by the API whose
// pod outlives the call's deadline.
func (t *Target) UnconfirmKill(nth int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.unconfirmed == nil {
		t.unconfirmed = map[int]bool{}
	}
	t.unconfirmed[nth] = true
}

// Kills returns the kills performed so far.
func (t *Target) Kills() []cluster.Kill {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]cluster.Kill(nil), t.kills...)
}

// Forget deletes key from the store, as a loss after the write was read back.
func (t *Target) Forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.data, key)
	delete(t.prev, key)
}

// Value returns the stored value of key.
func (t *Target) Value(key string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.data[key]
	return e.value, ok
}

// Version returns the stored version of key (0: absent).
func (t *Target) Version(key string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.data[key].version
}

// OpenClients is the number of maps opened by OpenClient and not yet closed.
func (t *Target) OpenClients() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.clients
}

func (t *Target) notifyLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *Target) memberLocked(id uint64) cluster.Member {
	m := t.members[id-1]
	out := cluster.Member{ID: id, Name: fmt.Sprintf("node-%d", id), Pod: fmt.Sprintf("node-%d", id),
		UID: fmt.Sprintf("%d@%d", id, m.incarnation), Address: fmt.Sprintf("fake-node-%d", id)}
	if m.up {
		out.PID = m.pid
	}
	return out
}

func (t *Target) leadershipLocked(p int) cluster.Leadership {
	part := t.parts[p-1]
	l := cluster.Leadership{Partition: p, Term: part.term, ObservedAt: part.observedAt}
	if part.leader != 0 {
		l.Leader = t.memberLocked(part.leader)
	}
	for _, m := range t.members {
		if m.id != part.leader {
			l.Followers = append(l.Followers, t.memberLocked(m.id))
		}
	}
	return l
}

func (t *Target) checkPartition(p int) error {
	if p < 1 || p > t.cfg.Partitions {
		return fmt.Errorf("partition %d: want 1..%d", p, t.cfg.Partitions)
	}
	return nil
}

// Info implements cluster.Target.
func (t *Target) Info() cluster.Info {
	return cluster.Info{Target: "fake", Store: "fake", Partitions: t.cfg.Partitions, Replicas: t.cfg.Replicas, Versions: map[string]string{"fake": "1"}}
}

// Leaders implements cluster.Target.
func (t *Target) Leaders(ctx context.Context) ([]cluster.Leadership, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]cluster.Leadership, 0, len(t.parts))
	for p := 1; p <= len(t.parts); p++ {
		out = append(out, t.leadershipLocked(p))
	}
	return out, ctx.Err()
}

// Leader implements cluster.Target.
func (t *Target) Leader(ctx context.Context, p int) (cluster.Leadership, error) {
	if err := t.checkPartition(p); err != nil {
		return cluster.Leadership{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.leadershipLocked(p)
	if !l.HasLeader() {
		return l, cluster.ErrNoLeader
	}
	return l, ctx.Err()
}

// WaitForLeader implements cluster.Target.
func (t *Target) WaitForLeader(ctx context.Context, p int, afterTerm uint64) (cluster.Leadership, error) {
	if err := t.checkPartition(p); err != nil {
		return cluster.Leadership{}, err
	}
	for {
		t.mu.Lock()
		l := t.leadershipLocked(p)
		ch := t.changed
		t.mu.Unlock()
		if l.HasLeader() && l.Term > afterTerm {
			return l, nil
		}
		select {
		case <-ctx.Done():
			return l, fmt.Errorf("waiting for a leader of partition %d after term %d: %w", p, afterTerm, ctx.Err())
		case <-ch:
		}
	}
}

// PlanKill implements cluster.Target.
func (t *Target) PlanKill(ctx context.Context, p int) (cluster.Leadership, error) {
	return t.Leader(ctx, p)
}

// KillLeader implements cluster.Target: the leader's member goes down, every
// partition it led elects another running member after ElectionDelay, and
// the member restarts after RestartDelay.
func (t *Target) KillLeader(ctx context.Context, p int) (cluster.Kill, error) {
	if err := t.checkPartition(p); err != nil {
		return cluster.Kill{}, err
	}
	if err := ctx.Err(); err != nil {
		return cluster.Kill{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	part := t.parts[p-1]
	if part.leader == 0 {
		return cluster.Kill{}, cluster.ErrNoLeader
	}
	k := cluster.Kill{Partition: p, Victim: t.memberLocked(part.leader), Term: part.term, SentAt: time.Now(), Led: map[int]uint64{}}
	victim := t.members[part.leader-1]
	victim.up = false
	for i, q := range t.parts {
		if q.leader == victim.id {
			k.Led[i+1] = q.term
			q.leader = 0
			q.term++
			q.observedAt = time.Now()
		}
	}
	t.notifyLocked()
	k.DoneAt = time.Now()
	t.kills = append(t.kills, k)
	t.timers = append(t.timers,
		time.AfterFunc(t.cfg.ElectionDelay, t.elect),
		time.AfterFunc(t.cfg.RestartDelay, func() { t.restart(victim.id) }))
	if t.unconfirmed[len(t.kills)] {
		k.DoneAt, k.Unconfirmed = time.Time{}, ErrUnconfirmed
	}
	return k, nil
}

// WaitHealthy implements cluster.Target: every member up, every partition
// led, and spec's leader in office for spec.MinLeaderAge.
func (t *Target) WaitHealthy(ctx context.Context, spec cluster.HealthSpec) (cluster.Health, error) {
	for {
		t.mu.Lock()
		why, wait := t.unhealthyLocked(spec)
		ch := t.changed
		h := cluster.Health{At: time.Now()}
		if why == "" {
			for p := 1; p <= len(t.parts); p++ {
				h.Leaders = append(h.Leaders, t.leadershipLocked(p))
			}
			if spec.Partition > 0 {
				h.LeaderAge = h.At.Sub(t.parts[spec.Partition-1].observedAt)
			}
		}
		t.mu.Unlock()
		if why == "" {
			return h, nil
		}
		timer := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			timer.Stop()
			return cluster.Health{}, fmt.Errorf("fake store not healthy: %s: %w", why, ctx.Err())
		case <-ch:
		case <-timer.C:
		}
		timer.Stop()
	}
}

func (t *Target) unhealthyLocked(spec cluster.HealthSpec) (string, time.Duration) {
	for _, m := range t.members {
		if !m.up {
			return fmt.Sprintf("node-%d is down", m.id), time.Hour
		}
	}
	for i, q := range t.parts {
		if q.leader == 0 {
			return fmt.Sprintf("partition %d has no leader", i+1), time.Hour
		}
	}
	if spec.Partition > 0 {
		if age := time.Since(t.parts[spec.Partition-1].observedAt); age < spec.MinLeaderAge {
			return fmt.Sprintf("partition %d's leader has led for %s", spec.Partition, age), spec.MinLeaderAge - age
		}
	}
	return "", 0
}

// Restored implements cluster.Target: the victim's member runs again as a new incarnation.
func (t *Target) Restored(ctx context.Context, k cluster.Kill) (cluster.Restart, error) {
	for {
		t.mu.Lock()
		m := t.members[k.Victim.ID-1]
		uid := t.memberLocked(m.id).UID
		up, at := m.up, m.restartedAt
		ch := t.changed
		t.mu.Unlock()
		if up && uid != k.Victim.UID {
			return cluster.Restart{Began: at, Back: at}, nil
		}
		select {
		case <-ctx.Done():
			return cluster.Restart{}, fmt.Errorf("waiting for node-%d: %w", m.id, ctx.Err())
		case <-ch:
		}
	}
}

// WipeAll implements cluster.Wiper: every member restarts empty, every
// partition elects a leader in term 1 after ElectionDelay.
func (t *Target) WipeAll(ctx context.Context, p int) (cluster.Kill, error) {
	if err := t.checkPartition(p); err != nil {
		return cluster.Kill{}, err
	}
	t.mu.Lock()
	part := t.parts[p-1]
	k := cluster.Kill{Partition: p, Victim: t.memberLocked(part.leader), Term: part.term, SentAt: time.Now(), Led: map[int]uint64{}}
	t.data, t.prev = map[string]entry{}, map[string]entry{}
	now := time.Now()
	for _, m := range t.members {
		m.incarnation++
		t.nextPID++
		m.pid, m.up, m.restartedAt = t.nextPID, true, now
	}
	for _, q := range t.parts {
		q.leader, q.term, q.observedAt = 0, 1, now
	}
	k.DoneAt = time.Now()
	t.kills = append(t.kills, k)
	t.notifyLocked()
	t.timers = append(t.timers, time.AfterFunc(t.cfg.ElectionDelay, t.elect))
	t.mu.Unlock()
	return k, ctx.Err()
}

// ObserveWrites implements cluster.SendObserver: a Put is "sent" to the
// partition's leader when the fake map starts it.
func (t *Target) ObserveWrites(p int) (<-chan cluster.Send, func()) {
	return t.sends.Observe(p)
}

func (t *Target) publishSendLocked(p int) {
	q := t.parts[p-1]
	if q.leader == 0 {
		return
	}
	t.sends.Publish(p, cluster.Send{At: time.Now(), To: t.memberLocked(q.leader).Address})
}

func (t *Target) elect() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	for _, q := range t.parts {
		if q.leader != 0 {
			continue
		}
		for _, m := range t.members {
			if m.up {
				q.leader = m.id
				q.observedAt = time.Now()
				break
			}
		}
	}
	t.notifyLocked()
}

func (t *Target) restart(id uint64) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	m := t.members[id-1]
	m.up = true
	m.restartedAt = time.Now()
	m.incarnation++
	t.nextPID++
	m.pid = t.nextPID
	t.notifyLocked()
	t.mu.Unlock()
	t.elect()
}

func (t *Target) moveLeaderLocked(p int) {
	q := t.parts[p-1]
	for _, m := range t.members {
		if m.up && m.id != q.leader {
			q.leader = m.id
			q.term++
			q.observedAt = time.Now()
			t.notifyLocked()
			return
		}
	}
}

// Map implements cluster.Target.
func (t *Target) Map(ctx context.Context, name string) (cluster.Map, error) {
	return &fakeMap{t: t, name: name}, ctx.Err()
}

// OpenClient implements cluster.Sessions: another map over the same store,
// counted by OpenClients until it is closed.
func (t *Target) OpenClient(ctx context.Context, name string) (cluster.Map, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clients++
	return &fakeMap{t: t, name: name, own: true}, nil
}

// Close implements cluster.Target; it stops every pending election and restart.
func (t *Target) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for _, tm := range t.timers {
		tm.Stop()
	}
	return nil
}

type fakeMap struct {
	t    *Target
	name string
	// own: opened by OpenClient.
	own    bool
	closed sync.Once
}

func (m *fakeMap) Close(context.Context) error {
	if m.own {
		m.closed.Do(func() {
			m.t.mu.Lock()
			m.t.clients--
			m.t.mu.Unlock()
		})
	}
	return nil
}

// await blocks for the operation latency and until key's partition has a leader.
func (m *fakeMap) await(ctx context.Context, key string) error {
	lat := time.NewTimer(m.t.cfg.OpLatency)
	defer lat.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-lat.C:
	}
	p := keyspace.AtomixIndex(key, m.t.cfg.Partitions) + 1
	for {
		m.t.mu.Lock()
		ok := m.t.parts[p-1].leader != 0
		ch := m.t.changed
		m.t.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return atomixerrors.NewTimeout("partition %d unavailable: %v", p, ctx.Err())
		case <-ch:
		}
	}
}

func versioned(key string, e entry) *_map.Entry[string, string] {
	return &_map.Entry[string, string]{Key: key, Versioned: primitive.Versioned[string]{Value: e.value, Version: primitive.Version(e.version)}}
}

func (m *fakeMap) Put(ctx context.Context, key string, value string, _ ..._map.PutOption) (*_map.Entry[string, string], error) {
	m.t.mu.Lock()
	m.t.publishSendLocked(keyspace.AtomixIndex(key, m.t.cfg.Partitions) + 1)
	m.t.mu.Unlock()
	if err := m.await(ctx, key); err != nil {
		return nil, err
	}
	m.t.mu.Lock()
	defer m.t.mu.Unlock()
	if old, ok := m.t.data[key]; ok && old.value == value && m.t.faults[key] == 0 {
		// Atomix answers a put of the current value with the current version.
		return versioned(key, old), nil
	}
	return m.writeLocked(key, value)
}

// Update implements Atomix's update: NotFound when key is absent, Conflict
// when an _map.IfVersion other than 0 differs from the key's version.
func (m *fakeMap) Update(ctx context.Context, key string, value string, opts ..._map.UpdateOption) (*_map.Entry[string, string], error) {
	m.t.mu.Lock()
	m.t.publishSendLocked(keyspace.AtomixIndex(key, m.t.cfg.Partitions) + 1)
	m.t.mu.Unlock()
	if err := m.await(ctx, key); err != nil {
		return nil, err
	}
	m.t.mu.Lock()
	defer m.t.mu.Unlock()
	old, ok := m.t.data[key]
	if !ok {
		return nil, atomixerrors.NewNotFound("key '%s' not found", key)
	}
	if want := ifVersion(opts); want != 0 && want != old.version {
		return nil, atomixerrors.NewConflict("entry index %d does not match update index %d", old.version, want)
	}
	return m.writeLocked(key, value)
}

// ifVersion is the version required by an _map.IfVersion option (0: none).
// The option keeps it unexported; reflection reads it.
func ifVersion(opts []_map.UpdateOption) uint64 {
	var v uint64
	for _, o := range opts {
		if vo, ok := o.(_map.VersionOption); ok {
			v = reflect.ValueOf(vo).FieldByName("version").Uint()
		}
	}
	return v
}

// writeLocked stores value as key's next version, as key's fault allows.
func (m *fakeMap) writeLocked(key, value string) (*_map.Entry[string, string], error) {
	m.t.index++
	e := entry{value: value, version: m.t.index}
	switch m.t.faults[key] {
	case DropWrite:
		return versioned(key, e), nil
	case FailWriteApplied:
		m.t.storeLocked(key, e)
		return nil, atomixerrors.NewUnavailable("injected failure after apply")
	case FailWriteAbsent:
		return nil, atomixerrors.NewUnavailable("injected failure")
	case ForeignValue:
		m.t.storeLocked(key, entry{value: "foreign", version: e.version})
		return versioned(key, e), nil
	case MoveLeaderOnAck:
		m.t.storeLocked(key, e)
		m.t.moveLeaderLocked(keyspace.AtomixIndex(key, m.t.cfg.Partitions) + 1)
		return versioned(key, e), nil
	}
	m.t.storeLocked(key, e)
	return versioned(key, e), nil
}

func (t *Target) storeLocked(key string, e entry) {
	if old, ok := t.data[key]; ok {
		t.prev[key] = old
	} else {
		delete(t.prev, key)
	}
	t.data[key] = e
}

func (m *fakeMap) Get(ctx context.Context, key string, _ ..._map.GetOption) (*_map.Entry[string, string], error) {
	m.t.mu.Lock()
	hang := m.t.faults[key] == HangReads
	m.t.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, atomixerrors.NewTimeout("injected hang: %v", ctx.Err())
	}
	if err := m.await(ctx, key); err != nil {
		return nil, err
	}
	m.t.mu.Lock()
	defer m.t.mu.Unlock()
	e, ok := m.t.data[key]
	if m.t.faults[key] == StaleReads {
		e, ok = m.t.prev[key]
	}
	if !ok {
		return nil, atomixerrors.NewNotFound("key %s not found", key)
	}
	return versioned(key, e), nil
}
