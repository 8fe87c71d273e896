package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// v2Header is a schema 2 run header.
func v2Header(id string, shuffle bool, repeat int, scenarios ...string) string {
	b, _ := json.Marshal(results.Run{Type: results.TypeRun, RunID: id, Schema: results.SchemaVersion,
		Shuffle: shuffle, Repeat: repeat, Scenarios: scenarios, Partitions: 1, Replicas: 3})
	return string(b)
}

// v2Trial is a durable after-ack trial of run id; edit changes it.
func v2Trial(id string, n int, scenario string, edit func(*results.Trial)) string {
	at := func(ms int64) *int64 { v := ms * 1e6; return &v }
	tr := results.Trial{Type: results.TypeTrial, RunID: id, Trial: n, Scenario: scenario, Partition: 1,
		Key: "k" + scenario, Value: "v", Anchor: results.AnchorWriteAck, Fault: results.FaultKillLeader,
		T:     results.Timestamps{WriteStart: at(0), WriteAck: at(2), KillSent: at(3 + int64(n)), NewLeader: at(300), FirstOK: at(400 + int64(n)), End: at(500)},
		Write: results.Write{Status: results.WriteOK}, Verify: results.Verify{Status: results.VerifyOK, Attempts: 1},
		Outcome: results.OutcomeDurable,
	}
	if edit != nil {
		edit(&tr)
	}
	b, _ := json.Marshal(tr)
	return string(b)
}

func lostRecord(id string, trial int) string {
	b, _ := json.Marshal(results.Lost{Type: results.TypeLost, RunID: id, Trial: trial, Key: "k", Value: "v", Read: results.VerifyMissing})
	return string(b)
}

func summary(id string, trials int, fr *results.FinalRead) string {
	b, _ := json.Marshal(results.Summary{Type: results.TypeSummary, RunID: id, Trials: trials, FinalRead: fr})
	return string(b)
}

func analyzeLines(t *testing.T, opts Options, ls ...string) *Analysis {
	t.Helper()
	a, err := Analyze([]Input{{Name: "log", R: strings.NewReader(lines(ls...))}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func control(lost bool) func(*results.Trial) {
	return func(tr *results.Trial) {
		tr.Fault = results.FaultWipeAll
		if lost {
			tr.Verify.Status, tr.Outcome = results.VerifyMissing, results.OutcomeLost
		}
	}
}

func hasWarning(a *Analysis, part string) bool {
	for _, w := range a.Warnings {
		if strings.Contains(w.String(), part) {
			return true
		}
	}
	return false
}
