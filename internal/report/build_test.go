package report

import (
	"strings"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

func TestSpearmanScopeAndDesign(t *testing.T) {
	trials := func(id string) []string {
		return []string{
			v2Trial(id, 1, "immediate", nil), v2Trial(id, 2, "immediate", nil), v2Trial(id, 3, "immediate", nil),
			v2Trial(id, 4, "in-flight", func(tr *results.Trial) { tr.Anchor = results.AnchorWriteStart }),
			v2Trial(id, 5, "rapid-sequential", func(tr *results.Trial) { tr.BackToBack = true }),
			v2Trial(id, 6, scenarioControl, control(true)),
		}
	}
	tests := []struct {
		name        string
		log         []string
		opts        Options
		n           int
		descriptive bool
	}{
		{"shuffled", append([]string{v2Header("r", true, 1)}, trials("r")...), Options{}, 3, false},
		{"repeated", append([]string{v2Header("r", false, 3)}, trials("r")...), Options{}, 3, false},
		{"one round in order", append([]string{v2Header("r", false, 1)}, trials("r")...), Options{}, 3, true},
		{"v1 header", append([]string{tRun1}, trials("a")...), Options{}, 3, true},
		{"no header", trials("r"), Options{}, 3, true},
		{"merged, all qualify", append(append([]string{v2Header("r", true, 1), v2Header("s", false, 2)}, trials("r")...), trials("s")...), Options{Merge: true}, 6, false},
		{"merged, one does not", append(append([]string{v2Header("r", true, 1), v2Header("s", false, 1)}, trials("r")...), trials("s")...), Options{Merge: true}, 6, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := analyzeLines(t, tt.opts, tt.log...).Reports[0].DelayVsRecovery
			if s.N != tt.n || s.Descriptive != tt.descriptive || (s.DescriptiveReason != "") != tt.descriptive {
				t.Errorf("n %d, descriptive %t (%q); want %d, %t", s.N, s.Descriptive, s.DescriptiveReason, tt.n, tt.descriptive)
			}
		})
	}
}

// In-flight trials acknowledged before their kill stay in the overall
// counts but leave the write_start rows; write latency counts acked writes only.
func TestAckBeforeKillAndWriteLatency(t *testing.T) {
	inflight := func(ackFirst bool) func(*results.Trial) {
		return func(tr *results.Trial) {
			tr.Anchor, tr.AckBeforeKill = results.AnchorWriteStart, ackFirst
			if !ackFirst {
				lat := int64(250e6)
				tr.T.WriteAck, tr.WriteLatencyNS = nil, &lat
				tr.Write.Status, tr.Outcome = results.WriteUnknown, results.OutcomeIndeterminateApplied
			}
		}
	}
	a := analyzeLines(t, Options{}, v2Header("r", true, 1),
		v2Trial("r", 1, "in-flight", inflight(true)), v2Trial("r", 2, "in-flight", inflight(false)), v2Trial("r", 3, "immediate", nil))
	r := a.Reports[0]
	row := r.Scenarios[1] // immediate, in-flight: no header, by name
	if row.Key != "in-flight" || row.Trials != 1 || row.AckBeforeKill != 1 || row.Recovery.N != 1 || row.Outcomes.IndeterminateApplied != 1 {
		t.Errorf("in-flight row %+v", row)
	}
	if r.Outcomes.Durable != 2 || r.AckBeforeKill != 1 {
		t.Errorf("overall: durable %d, ack before kill %d; want 2, 1", r.Outcomes.Durable, r.AckBeforeKill)
	}
	if r.WriteLatency.N != 2 || r.WriteLatency.Max != 2 || r.WriteLatency.Missing != 0 {
		t.Errorf("write latency %+v, want the two acked writes (2 ms each)", r.WriteLatency)
	}
	var keys []string
	for _, g := range r.Delays {
		keys = append(keys, g.Key)
	}
	if got := strings.Join(keys, ","); got != "0 ms after ack,0 ms after write start" {
		t.Errorf("delay rows %s", got)
	}
}
