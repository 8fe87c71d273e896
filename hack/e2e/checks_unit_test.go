package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestCheckKill gives checkKill a kill the watcher confirms, and the ways
// one can be wrong (each must be caught).
func TestCheckKill(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 19, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	pod := func(ms int, name, uid string, ready, deleting bool) podEvent {
		return podEvent{At: at(ms), Name: name, UID: uid, Ready: ready, Deleting: deleting}
	}
	base := func() *watcher {
		w := newWatcher()
		w.replicaPod = map[string]string{"s-1-1": "consensus-cluster-0", "s-1-2": "consensus-cluster-1"}
		w.leaders = []leaderEvent{{At: at(0), Partition: 1, Term: 4, Replica: "s-1-1"}, {At: at(1500), Partition: 1, Term: 5, Replica: "s-1-2"}}
		w.pods = []podEvent{pod(0, "consensus-cluster-0", "u1", true, false), pod(1010, "consensus-cluster-0", "u1", false, true),
			pod(1100, "consensus-cluster-0", "u2", false, false), pod(12000, "consensus-cluster-0", "u2", true, false)}
		return w
	}
	kill, firstOK := int64(1000*time.Millisecond), int64(2400*time.Millisecond)
	trial := trialRecord{Trial: 1, Partition: 1, StartedAt: t0.Format(time.RFC3339Nano), Outcome: "durable"}
	trial.LeaderBefore = &struct {
		Member uint64 `json:"member"`
		Pod    string `json:"pod"`
		Term   uint64 `json:"term"`
	}{Member: 1, Pod: "consensus-cluster-0", Term: 4}
	trial.T.KillSent, trial.T.FirstOK = &kill, &firstOK
	deleted := []deletionLog{{Partition: 1, Term: 4, Pod: "consensus-cluster-0", UID: "u1"}}

	tests := []struct {
		name    string
		change  func(w *watcher, d []deletionLog)
		wantErr string
	}{
		{name: "confirmed", change: func(*watcher, []deletionLog) {}},
		{name: "another leader", change: func(w *watcher, _ []deletionLog) { w.leaders[0].Replica = "s-1-2" },
			wantErr: `the watcher saw partition 1 led by "consensus-cluster-1"`},
		{name: "another term", change: func(w *watcher, _ []deletionLog) { w.leaders[0].Term = 3 }, wantErr: "in term 3"},
		{name: "no deletion line", change: func(_ *watcher, d []deletionLog) { d[0].Pod = "consensus-cluster-1" }, wantErr: "no 'pod deletion accepted' line"},
		{name: "deleted another incarnation", change: func(_ *watcher, d []deletionLog) { d[0].UID = "u0" }, wantErr: "never saw pod consensus-cluster-0 (UID u0) deleted"},
		{name: "never back", change: func(w *watcher, _ []deletionLog) { w.pods = w.pods[:3] }, wantErr: "never came back ready"},
		{name: "no new leader", change: func(w *watcher, _ []deletionLog) { w.leaders = w.leaders[:1] }, wantErr: "no new leader"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, d := base(), append([]deletionLog(nil), deleted...)
			tc.change(w, d)
			n, uid, err := checkKill(trial, at(1000), d, w)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || uid != "u1" {
				t.Fatalf("checkKill: %v (uid %s)", err, uid)
			}
			want := trialNumbers{Trial: 1, Partition: 1, Victim: "consensus-cluster-0", Outcome: "durable",
				PodGone: 10 * time.Millisecond, NewLeader: 500 * time.Millisecond, FirstOK: 1400 * time.Millisecond, PodBack: 11 * time.Second}
			if n != want {
				t.Fatalf("numbers %+v, want %+v", n, want)
			}
		})
	}
}
