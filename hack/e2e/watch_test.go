package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// The watcher records, from kubectl watches of its own, every change of the
// namespace's pods and of the store's RaftPartition leaders, independently
// of the tool under test.

// podEvent is one observed state of a pod.
type podEvent struct {
	At       time.Time
	Type     string // ADDED, MODIFIED, DELETED
	Name     string
	UID      string
	Ready    bool
	Deleting bool // deletionTimestamp set, or the DELETED event
	Restarts int
}

// leaderEvent is one observed status of a RaftPartition.
type leaderEvent struct {
	At        time.Time
	Partition int
	Term      uint64
	Replica   string // status.leader.name; empty during an election
}

// deletion is the first sign of a pod incarnation's end.
type deletion struct {
	Name string
	UID  string
	At   time.Time
}

type watchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

type objectMeta struct {
	Name              string            `json:"name"`
	UID               string            `json:"uid"`
	DeletionTimestamp *string           `json:"deletionTimestamp"`
	Labels            map[string]string `json:"labels"`
}

type podObject struct {
	Metadata objectMeta `json:"metadata"`
	Status   struct {
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
		ContainerStatuses []struct {
			RestartCount int `json:"restartCount"`
		} `json:"containerStatuses"`
	} `json:"status"`
}

type partitionObject struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		PartitionID int `json:"partitionID"`
	} `json:"spec"`
	Status struct {
		Term   uint64 `json:"term"`
		Leader *struct {
			Name string `json:"name"`
		} `json:"leader"`
	} `json:"status"`
}

type replicaObject struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Pod struct {
			Name string `json:"name"`
		} `json:"pod"`
	} `json:"spec"`
}

// watcher holds what the watches saw.
type watcher struct {
	mu         sync.Mutex
	pods       []podEvent
	leaders    []leaderEvent
	replicaPod map[string]string
	errs       []error

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopped bool
}

func newWatcher() *watcher { return &watcher{replicaPod: map[string]string{}} }

// startWatcher watches the namespace's pods, RaftPartitions and RaftReplicas
// until stop.
func startWatcher(ctx context.Context, h *harness) *watcher {
	w := newWatcher()
	ctx, w.cancel = context.WithCancel(ctx)
	kubectl := filepath.Join(h.bin, "kubectl")
	for resource, apply := range map[string]func(watchEvent, time.Time) error{
		"pods":                          w.applyPod,
		"raftpartitions.raft.atomix.io": w.applyPartition,
		"raftreplicas.raft.atomix.io":   w.applyReplica,
	} {
		cmd := h.command(ctx, kubectl, "get", resource, "-n", namespace, "--watch", "--output-watch-events", "-o", "json")
		out, err := cmd.StdoutPipe()
		if err != nil {
			w.fail(fmt.Errorf("watching %s: %w", resource, err))
			continue
		}
		if err := cmd.Start(); err != nil {
			w.fail(fmt.Errorf("watching %s: %w", resource, err))
			continue
		}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			err := decodeEvents(out, apply)
			waitErr := cmd.Wait()
			if w.isStopped() {
				return
			}
			w.fail(fmt.Errorf("watch of %s ended before the test stopped it: %v (kubectl: %v)", resource, err, waitErr))
		}()
	}
	return w
}

var errStreamEnded = errors.New("stream ended")

// decodeEvents applies every watch event of a kubectl --output-watch-events
// -o json stream, stamped with the time it was read.
func decodeEvents(r io.Reader, apply func(watchEvent, time.Time) error) error {
	dec := json.NewDecoder(r)
	for {
		var ev watchEvent
		if err := dec.Decode(&ev); err != nil {
			if err == io.EOF {
				return errStreamEnded
			}
			return fmt.Errorf("decoding a watch event: %w", err)
		}
		if err := apply(ev, time.Now()); err != nil {
			return err
		}
	}
}

func (w *watcher) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, err)
}

func (w *watcher) isStopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped
}

// stop ends the watches and returns what went wrong with them.
func (w *watcher) stop() []error {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]error(nil), w.errs...)
}

func (w *watcher) applyPod(ev watchEvent, at time.Time) error {
	var p podObject
	if err := json.Unmarshal(ev.Object, &p); err != nil {
		return fmt.Errorf("decoding a pod: %w", err)
	}
	e := podEvent{At: at, Type: ev.Type, Name: p.Metadata.Name, UID: p.Metadata.UID,
		Deleting: ev.Type == "DELETED" || p.Metadata.DeletionTimestamp != nil}
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" && c.Status == "True" {
			e.Ready = true
		}
	}
	for _, c := range p.Status.ContainerStatuses {
		e.Restarts += c.RestartCount
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pods = append(w.pods, e)
	return nil
}

func (w *watcher) applyPartition(ev watchEvent, at time.Time) error {
	var p partitionObject
	if err := json.Unmarshal(ev.Object, &p); err != nil {
		return fmt.Errorf("decoding a RaftPartition: %w", err)
	}
	if p.Metadata.Labels["raft.atomix.io/store"] != store || ev.Type == "DELETED" {
		return nil
	}
	e := leaderEvent{At: at, Partition: p.Spec.PartitionID, Term: p.Status.Term}
	if p.Status.Leader != nil {
		e.Replica = p.Status.Leader.Name
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.leaders = append(w.leaders, e)
	return nil
}

func (w *watcher) applyReplica(ev watchEvent, _ time.Time) error {
	var r replicaObject
	if err := json.Unmarshal(ev.Object, &r); err != nil {
		return fmt.Errorf("decoding a RaftReplica: %w", err)
	}
	pod := r.Spec.Pod.Name
	if pod == "" {
		pod = r.Metadata.Labels["raft.atomix.io/pod"]
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if old, ok := w.replicaPod[r.Metadata.Name]; ok && old != pod {
		return fmt.Errorf("RaftReplica %s moved from pod %s to %s", r.Metadata.Name, old, pod)
	}
	w.replicaPod[r.Metadata.Name] = pod
	return nil
}

// leaderAt is the partition's last observed leader pod and term at t.
func (w *watcher) leaderAt(partition int, t time.Time) (pod string, term uint64, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var last *leaderEvent
	for i := range w.leaders {
		e := &w.leaders[i]
		if e.Partition == partition && !e.At.After(t) {
			last = e
		}
	}
	if last == nil || last.Replica == "" {
		return "", 0, false
	}
	return w.replicaPod[last.Replica], last.Term, true
}

// newLeaderAfter is the first observation, after t, of a leader of the
// partition in a term above term.
func (w *watcher) newLeaderAfter(partition int, term uint64, t time.Time) (time.Time, string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.leaders {
		if e.Partition == partition && e.At.After(t) && e.Term > term && e.Replica != "" {
			return e.At, w.replicaPod[e.Replica], true
		}
	}
	return time.Time{}, "", false
}

// deletions lists the first sign of the end of every pod incarnation, in order.
func (w *watcher) deletions() []deletion {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[string]bool{}
	var ds []deletion
	for _, e := range w.pods {
		if e.Deleting && !seen[e.UID] {
			seen[e.UID] = true
			ds = append(ds, deletion{Name: e.Name, UID: e.UID, At: e.At})
		}
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].At.Before(ds[j].At) })
	return ds
}

// readyAgain is when a new incarnation of the pod (another UID) was first
// seen ready after t.
func (w *watcher) readyAgain(name, oldUID string, t time.Time) (time.Time, string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.pods {
		if e.Name == name && e.UID != oldUID && e.Ready && !e.Deleting && e.At.After(t) {
			return e.At, e.UID, true
		}
	}
	return time.Time{}, "", false
}

// pod is the last observed state of the named pod.
func (w *watcher) pod(name string) (podEvent, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.pods) - 1; i >= 0; i-- {
		if w.pods[i].Name == name {
			return w.pods[i], true
		}
	}
	return podEvent{}, false
}

// uidOf is the UID of the pod's incarnation that was seen before t.
func (w *watcher) uidAt(name string, t time.Time) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	uid := ""
	for _, e := range w.pods {
		if e.Name == name && !e.At.After(t) {
			uid = e.UID
		}
	}
	return uid
}
