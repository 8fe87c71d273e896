package report

import (
	"os"
	"strings"
	"testing"
)

// analyzeFile analyzes one log file.
func analyzeFile(t *testing.T, path string, opts Options) *Analysis {
	t.Helper()
	a, err := Analyze([]Input{{Name: path, R: mustOpen(t, path)}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The v2 fixture's numbers, worked out by hand from the trial table in
// testdata/genfixture/v2.go.
func TestV2FixtureNumbers(t *testing.T) {
	a := analyzeFile(t, fixtureV2, Options{})
	if len(a.Reports) != 1 {
		t.Fatalf("%d reports", len(a.Reports))
	}
	r := &a.Reports[0]
	split, group := splitRow, groupRow
	tests := []struct {
		name      string
		got, want float64
	}{
		{"trials", float64(r.Trials), 12},
		{"failover trials", float64(r.FailoverTrials), 11},
		{"durable (control not pooled)", float64(r.Outcomes.Durable), 7},
		{"lost trials (control not pooled)", float64(r.Outcomes.Lost), 0},
		{"indeterminate applied (recorded, not the rule's)", float64(r.Outcomes.IndeterminateApplied), 1},
		{"inconclusive", float64(r.Outcomes.Inconclusive), 2},
		{"outcome rule disagreements", float64(r.OutcomeRuleDisagreements), 1},
		// The final read's loss counts as a loss of its (durable) trial: 1 of 7.
		{"success: lost (final read)", float64(r.Success.Lost), 1},
		{"success: durable", float64(r.Success.Durable), 6},
		// P(X ≤ 1 | n = 7, p) = 0.025, solved by bisection on the binomial CDF.
		{"Clopper–Pearson 1/7", float64(r.Success.LossUpperCP), 0.5787231970431952},
		{"rule of three not given (losses)", b2f(r.Success.LossUpper.OK()), 0},
		{"control trials", float64(r.PositiveControl.Trials), 1},
		{"control detected", float64(r.PositiveControl.Detected), 1},
		{"final read keys (since the wipe)", float64(r.FinalRead.Keys), 6},
		{"final read unanswered", float64(r.FinalRead.Unanswered), 1},
		{"lost records", float64(r.FinalRead.LostRecords), 1},
		{"lost records counted", float64(r.FinalRead.Counted), 1},
		{"Analysis.Lost (final read + control)", float64(a.Lost()), 2},
		// Recovery: 400 450 500 520 560 580 700 1000 (control's 2500 not pooled).
		{"recovery n", float64(r.Recovery.N), 8},
		{"recovery mean", float64(r.Recovery.Mean), 4710.0 / 8},
		{"recovery median", float64(r.Recovery.Median), 540},
		{"recovery p95 not estimated", b2f(r.Recovery.P95.OK()), 0},
		// Censored: trial 12 at 4 (interrupted: its last timestamp), 9 at
		// 8995.7 (end), 8 at 30000 (verify timeout). From 10 at risk at 400,
		// Ŝ = 0.9, 0.8, 0.7, 0.6, then 0.5 exactly at 560 until 580: (560 + 580)/2.
		{"KM median", float64(r.RecoveryKM.Median), 570},
		{"KM censored", float64(r.RecoveryKM.Censored), 3},
		{"election n", float64(r.Election.N), 9},
		{"election max (control's 2000 not pooled)", float64(r.Election.Max), 900},
		{"write latency over acked writes", float64(r.WriteLatency.N), 9},
		{"write latency max (no 250 ms deadline)", float64(r.WriteLatency.Max), 3},
		{"settle n (not back-to-back, not control)", float64(r.Settle.N), 9},
		{"settle mean", float64(r.Settle.Mean), 8650.0 / 9},
		{"leader age n", float64(r.LeaderAge.N), 11},
		{"victim back n", float64(r.VictimBack.N), 9},
		{"victim back missing", float64(r.VictimBack.Missing), 2},
		{"victim back mean", float64(r.VictimBack.Mean), 6000.0 / 9},
		{"Spearman n (after-ack, not back-to-back)", float64(r.DelayVsRecovery.N), 5},
		{"Spearman rho: 1 − 6·8/(5·24)", float64(r.DelayVsRecovery.Rho), 0.6},
		{"Spearman inferential (shuffle, repeat 2)", b2f(r.DelayVsRecovery.Descriptive), 0},
		{"victim back first: trials", float64(split(r.ByVictimBack, "victim back first").Trials), 4},
		{"victim back first: election median", float64(split(r.ByVictimBack, "victim back first").Election.Median), 475},
		{"new leader first: recovery median", float64(split(r.ByVictimBack, "new leader first").Recovery.Median), 515},
		{"victim back unknown: trials", float64(split(r.ByVictimBack, "unknown").Trials), 3},
		{"1 round: trials", float64(split(r.ByRounds, "1").Trials), 7},
		{"1 round: recovery mean", float64(split(r.ByRounds, "1").Recovery.Mean), 625},
		{"≥ 2 rounds: trials", float64(split(r.ByRounds, "≥ 2").Trials), 1},
		{"rounds unknown: trials", float64(split(r.ByRounds, "unknown").Trials), 3},
		{"ack before kill", float64(r.AckBeforeKill), 1},
		{"in-flight row: trials (ack before kill left out)", float64(group(r.Scenarios, "in-flight").Trials), 2},
		{"in-flight row: ack before kill", float64(group(r.Scenarios, "in-flight").AckBeforeKill), 1},
		{"0 ms after write start: trials", float64(group(r.Delays, "0 ms after write start").Trials), 0},
		{"0 ms after ack: trials (control not pooled)", float64(group(r.Delays, "0 ms after ack").Trials), 5},
		{"retargeted", float64(r.Terms.Retargeted), 1},
		{"interrupted trials", float64(r.InterruptedTrials), 1},
		{"unhealthy start", float64(r.UnhealthyStart), 1},
	}
	for _, tt := range tests {
		if !near(tt.got, tt.want, 1e-9) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// The v2 fixture's scenario rows follow its header; its one warning is the
// disagreement of trial 9 with the outcome rule, with its line number.
func TestV2FixtureOrderAndWarnings(t *testing.T) {
	a := analyzeFile(t, fixtureV2, Options{})
	r := &a.Reports[0]
	var scenarios []string
	for _, g := range r.Scenarios {
		scenarios = append(scenarios, g.Key)
	}
	if got := strings.Join(scenarios, ","); got != "during-replication,immediate,in-flight,rapid-sequential" {
		t.Errorf("scenario rows %s, want the header's order without the control", got)
	}
	if rr := r.Terms.RetargetReasons; len(rr) != 1 || rr[0].Reason != "leader moved between the write and the kill" {
		t.Errorf("retarget reasons %+v", rr)
	}
	if w := a.Warnings; len(w) != 1 || w[0].Line != 10 || !strings.Contains(w[0].Msg, "trial 9: recorded outcome indeterminate_applied, the outcome rule gives inconclusive") {
		t.Errorf("warnings %v, want the disagreement of trial 9 on line 10", w)
	}
}

// splitRow is the row of rows with key.
func splitRow(rows []SplitRow, key string) SplitRow {
	for _, row := range rows {
		if row.Key == key {
			return row
		}
	}
	return SplitRow{}
}

// groupRow is the row of gs with key.
func groupRow(gs []Group, key string) Group {
	for _, g := range gs {
		if g.Key == key {
			return g
		}
	}
	return Group{}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// The v1 fixture still analyses, with the v1 anchor rule and no final read.
func TestV1FixtureStillReadable(t *testing.T) {
	a := analyzeFile(t, fixture, Options{})
	for _, r := range a.Reports {
		if r.FinalRead.RunsWith != 0 || r.FinalRead.Keys.OK() || r.PositiveControl.Verdict != ControlNone {
			t.Errorf("%s: final read %+v, control %q", r.Title, r.FinalRead, r.PositiveControl.Verdict)
		}
	}
	var text strings.Builder
	if err := WriteText(&text, a); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(text.String(), "no final read (v1 log)"); n != 3 {
		t.Errorf("%d runs say no final read (v1 log), want 3", n)
	}
	if _, err := os.Stat(fixture); err != nil {
		t.Fatal(err)
	}
}
