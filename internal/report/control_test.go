package report

import (
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

func TestPositiveControl(t *testing.T) {
	tests := []struct {
		name    string
		trials  []string
		verdict string
		lost    int // Analysis.Lost: a detected control loss counts
		warning string
	}{
		{"detected", []string{v2Trial("r", 1, "immediate", nil), v2Trial("r", 2, scenarioControl, control(true))},
			ControlWorks, 1, ""},
		{"missed", []string{v2Trial("r", 1, scenarioControl, control(false)), v2Trial("r", 2, scenarioControl, control(true))},
			ControlFailed, 1, "positive control failed: detector did not see the loss in 1 of 2 control trials (r#1)"},
		{"undecided", []string{v2Trial("r", 1, scenarioControl, func(tr *results.Trial) {
			control(false)(tr)
			tr.Verify.Status, tr.Outcome = results.VerifyError, results.OutcomeInconclusive
		})}, ControlInconclusive, 0, ""},
		{"none", []string{v2Trial("r", 1, "immediate", nil)}, ControlNone, 0, ""},
		{"control scenario without the fault", []string{v2Trial("r", 1, scenarioControl, func(tr *results.Trial) {
			tr.Verify.Status, tr.Outcome = results.VerifyMissing, results.OutcomeLost
		})}, ControlNone, 1, "scenario control-data-loss without fault wipe-all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := analyzeLines(t, Options{}, append([]string{v2Header("r", true, 1)}, tt.trials...)...)
			r := a.Reports[0]
			if r.PositiveControl.Verdict != tt.verdict || a.Lost() != tt.lost {
				t.Errorf("verdict %q, lost %d; want %q, %d", r.PositiveControl.Verdict, a.Lost(), tt.verdict, tt.lost)
			}
			if r.PositiveControl.Trials > 0 && (r.Recovery.N != r.FailoverTrials || r.Election.N != r.FailoverTrials) {
				t.Errorf("control trials pooled into the timings: recovery n %d, election n %d, %d failover trials", r.Recovery.N, r.Election.N, r.FailoverTrials)
			}
			if tt.warning != "" && !hasWarning(a, tt.warning) {
				t.Errorf("no warning %q in %v", tt.warning, a.Warnings)
			}
		})
	}
}
