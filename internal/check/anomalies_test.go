package check

import (
	"cmp"
	"reflect"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

func TestStaleReads(t *testing.T) {
	tests := []struct {
		name string
		ops  []history.Op
		// want names each stale read by its read's and its newer write's
		// values ("" for absent).
		want [][2]string
	}{
		{
			name: "absent after an acknowledged put",
			ops:  []history.Op{put("c1", "k", "a", 0, 10, 1), get("c2", "k", "", 20, 30, 0)},
			want: [][2]string{{"", "a"}},
		},
		{
			name: "absent during a put",
			ops:  []history.Op{put("c1", "k", "a", 0, 10, 1), get("c2", "k", "", 5, 30, 0)},
		},
		{
			name: "older version after a newer acknowledged one",
			ops: []history.Op{
				put("c1", "k", "a", 0, 10, 1), put("c1", "k", "b", 20, 30, 2), put("c1", "k", "c", 40, 50, 3),
				get("c2", "k", "a", 60, 70, 1),
			},
			want: [][2]string{{"a", "c"}},
		},
		{
			name: "versions order concurrent writes",
			ops: []history.Op{
				put("c1", "k", "a", 0, 30, 2), put("c2", "k", "b", 5, 10, 1),
				get("c3", "k", "a", 40, 50, 2), get("c3", "k", "b", 60, 70, 1),
			},
			want: [][2]string{{"b", "a"}},
		},
		{
			name: "concurrent writes without versions are not ordered",
			ops: []history.Op{
				put("c1", "k", "a", 0, 30, 0), put("c2", "k", "b", 5, 10, 0),
				get("c3", "k", "a", 40, 50, 0), get("c3", "k", "b", 60, 70, 0),
			},
		},
		{
			name: "real time orders writes without versions",
			ops: []history.Op{
				put("c1", "k", "a", 0, 10, 0), put("c2", "k", "b", 20, 30, 0),
				get("c3", "k", "a", 40, 50, 0),
			},
			want: [][2]string{{"a", "b"}},
		},
		{
			name: "versioned read, newer write without a version",
			ops: []history.Op{
				put("c1", "k", "a", 0, 10, 1), put("c2", "k", "b", 20, 30, 0),
				get("c3", "k", "a", 40, 50, 1),
			},
			want: [][2]string{{"a", "b"}},
		},
		{
			name: "read of an unanswered write without a version",
			ops: []history.Op{
				unknown(put("c1", "k", "a", 0, 0, 0)), put("c2", "k", "b", 20, 30, 0),
				get("c3", "k", "a", 40, 50, 0),
			},
		},
		{
			name: "newer cas and a stale read",
			ops: []history.Op{
				put("c1", "k", "a", 0, 10, 1), cas("c2", "k", "b", 1, 20, 30, 2),
				get("c3", "k", "a", 40, 50, 1),
			},
			want: [][2]string{{"a", "b"}},
		},
		{
			name: "a final read is not a stale read",
			ops: []history.Op{
				put("c1", "k", "a", 0, 10, 1), cas("c2", "k", "b", 1, 20, 30, 2),
				get("final", "k", "a", 40, 50, 1),
			},
		},
		{
			name: "failed writes are not newer",
			ops: []history.Op{
				put("c1", "k", "a", 0, 10, 1), failed(put("c2", "k", "b", 20, 30, 0)),
				get("c3", "k", "a", 40, 50, 1),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][2]string
			for _, sr := range StaleReads(tt.ops) {
				read := ""
				if sr.Read.Read != nil {
					read = *sr.Read.Read
				}
				got = append(got, [2]string{read, sr.Newer.Value})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("StaleReads = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLostWrites(t *testing.T) {
	acked := inTrial(put("c1", "k", "v", 0, 100, 1), 2)
	pause := history.Fault{Type: history.TypeFault, Trial: 2, Fault: history.FaultPause, Target: "node-2", StartNS: 150}
	restart := history.Fault{Type: history.TypeFault, Trial: 2, Fault: history.FaultRestart, Target: "node-1", StartNS: 110}
	tests := []struct {
		name   string
		ops    []history.Op
		faults []history.Fault
		lost   bool
		age    *int64
		fault  string
		trial  int
	}{
		{"kill after the ack", []history.Op{acked, get("final", "k", "", 1000, 1010, 0)}, []history.Fault{kill(2, 130)}, true, at(30), "kill", 0},
		{"first of two faults after the ack", []history.Op{acked, get("final", "k", "", 1000, 1010, 0)}, []history.Fault{pause, kill(2, 130), restart}, true, at(30), "kill", 0},
		{"pause after the ack", []history.Op{acked, get("final", "k", "", 1000, 1010, 0)}, []history.Fault{restart, pause}, true, at(50), "pause", 0},
		{"kill before the ack only", []history.Op{acked, get("final", "k", "", 1000, 1010, 0)}, []history.Fault{kill(2, 40), kill(2, 90)}, true, at(-10), "kill", 0},
		{"kill in another trial", []history.Op{acked, get("final", "k", "", 1000, 1010, 0)}, []history.Fault{kill(3, 130)}, true, nil, "", 0},
		{"another value at the final read", []history.Op{acked, get("final", "k", "w", 1000, 1010, 7)}, []history.Fault{kill(2, 130)}, true, at(30), "kill", 0},
		{"the last final read decides", []history.Op{acked, get("final", "k", "", 1000, 1010, 0), get("final", "k", "v", 1100, 1110, 1)}, nil, false, nil, "", 0},
		{"durable", []history.Op{acked, get("final", "k", "v", 1000, 1010, 1)}, []history.Fault{kill(2, 130)}, false, nil, "", 0},
		{"two puts", []history.Op{acked, put("c1", "k", "w", 200, 300, 2), get("final", "k", "", 1000, 1010, 0)}, nil, false, nil, "", 0},
		{"a failed second put", []history.Op{acked, failed(put("c1", "k", "w", 200, 300, 0)), get("final", "k", "", 1000, 1010, 0)}, nil, true, nil, "", 0},
		{"unanswered put", []history.Op{unknown(acked), get("final", "k", "", 1000, 1010, 0)}, nil, false, nil, "", 0},
		{"no final read", []history.Op{acked, get("c2", "k", "", 1000, 1010, 0)}, nil, false, nil, "", 0},
		{"unanswered final read", []history.Op{acked, unknown(get("final", "k", "", 1000, 1010, 0))}, nil, false, nil, "", 0},
		{"a later wipe of every member takes the loss", []history.Op{acked, get("final", "k", "", 1000, 1010, 0)}, []history.Fault{kill(2, 130), wipe(4, 600)}, true, at(500), "kill", 4},
		{"a wipe before the ack does not", []history.Op{acked, get("final", "k", "", 1000, 1010, 0)}, []history.Fault{wipe(1, 50), kill(2, 130)}, true, at(30), "kill", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LostWrites(tt.ops, tt.faults)
			if len(got) != map[bool]int{false: 0, true: 1}[tt.lost] {
				t.Fatalf("LostWrites = %+v, want lost %v", got, tt.lost)
			}
			if !tt.lost {
				return
			}
			lw := got[0]
			if lw.Key != "k" || lw.Write.Value != "v" || !reflect.DeepEqual(lw.AgeNS, tt.age) {
				t.Errorf("LostWrite = key %q write %q age %v, want key k write v age %v", lw.Key, lw.Write.Value, deref(lw.AgeNS), deref(tt.age))
			}
			if kind := faultKind(lw.Fault); kind != tt.fault {
				t.Errorf("fault = %q, want %q", kind, tt.fault)
			}
			if want := cmp.Or(tt.trial, 2); lw.Trial != want {
				t.Errorf("counted in trial %d, want %d", lw.Trial, want)
			}
		})
	}
}

func deref(p *int64) interface{} {
	if p == nil {
		return nil
	}
	return *p
}

func faultKind(f *history.Fault) string {
	if f == nil {
		return ""
	}
	return f.Fault
}

func wipe(trial int, start int64) history.Fault {
	f := kill(trial, start)
	f.Target = history.TargetAll
	return f
}
