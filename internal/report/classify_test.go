package report

import (
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

func TestClassify(t *testing.T) {
	yes := true
	tests := []struct {
		name           string
		tr             results.Trial
		anchor, fault  string
		control, after bool
		victim, rounds uint8
	}{
		{"v1 immediate", results.Trial{Scenario: "immediate"}, results.AnchorWriteAck, results.FaultKillLeader, false, true, victimUnknown, roundsUnknown},
		{"v1 in-flight", results.Trial{Scenario: "in-flight"}, results.AnchorWriteStart, results.FaultKillLeader, false, false, victimUnknown, roundsUnknown},
		{"v2 anchor wins", results.Trial{Scenario: "in-flight", Anchor: results.AnchorWriteAck}, results.AnchorWriteAck, results.FaultKillLeader, false, true, victimUnknown, roundsUnknown},
		{"unknown anchor", results.Trial{Scenario: "immediate", Anchor: "x"}, results.AnchorWriteAck, results.FaultKillLeader, false, true, victimUnknown, roundsUnknown},
		{"control", results.Trial{Fault: results.FaultWipeAll}, results.AnchorWriteAck, results.FaultWipeAll, true, false, victimUnknown, roundsUnknown},
		{"back to back", results.Trial{BackToBack: true, VictimBackFirst: &yes}, results.AnchorWriteAck, results.FaultKillLeader, false, false, victimBackFirst, roundsUnknown},
		{"one round", results.Trial{LeaderBefore: &results.Leader{Term: 4}, LeaderAfter: &results.Leader{Term: 5}}, results.AnchorWriteAck, results.FaultKillLeader, false, true, victimUnknown, roundsOne},
		{"three rounds", results.Trial{LeaderBefore: &results.Leader{Term: 4}, LeaderAfter: &results.Leader{Term: 7}}, results.AnchorWriteAck, results.FaultKillLeader, false, true, victimUnknown, roundsMore},
		{"term fell", results.Trial{LeaderBefore: &results.Leader{Term: 4}, LeaderAfter: &results.Leader{Term: 2}}, results.AnchorWriteAck, results.FaultKillLeader, false, true, victimUnknown, roundsUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := classify(&tt.tr)
			if k.anchor != tt.anchor || k.fault != tt.fault || k.control != tt.control || k.afterAck != tt.after || k.victimBack != tt.victim || k.rounds != tt.rounds {
				t.Errorf("classify = %+v", k)
			}
		})
	}
}
