package results

import "testing"

func TestOutcome(t *testing.T) {
	at := func(v int64) *int64 { return &v }
	killed := Timestamps{KillSent: at(1)}
	recovered := Timestamps{KillSent: at(1), FirstOK: at(2)}
	tests := []struct {
		name string
		tr   Trial
		want string
	}{
		{"acked, read back", Trial{Write: Write{Status: WriteOK}, Verify: Verify{Status: VerifyOK}, T: killed}, OutcomeDurable},
		{"acked, missing", Trial{Write: Write{Status: WriteOK}, Verify: Verify{Status: VerifyMissing}, T: killed}, OutcomeLost},
		{"acked, other value", Trial{Write: Write{Status: WriteOK}, Verify: Verify{Status: VerifyMismatch}, T: killed}, OutcomeLost},
		{"acked, missing, no kill", Trial{Write: Write{Status: WriteOK}, Verify: Verify{Status: VerifyMissing}}, OutcomeLost},
		{"acked, missing, interrupted", Trial{Write: Write{Status: WriteOK}, Verify: Verify{Status: VerifyMissing}, T: killed, Interrupted: true}, OutcomeLost},
		{"acked, read back, no kill", Trial{Write: Write{Status: WriteOK}, Verify: Verify{Status: VerifyOK}}, OutcomeInconclusive},
		{"acked, read back, interrupted", Trial{Write: Write{Status: WriteOK}, Verify: Verify{Status: VerifyOK}, T: killed, Interrupted: true}, OutcomeInconclusive},
		{"v1 interrupted error", Trial{Write: Write{Status: WriteOK}, Verify: Verify{Status: VerifyOK}, T: killed, Error: "interrupted; kill: x"}, OutcomeInconclusive},
		{"acked, read back, unhealthy start", Trial{Write: Write{Status: WriteOK}, Verify: Verify{Status: VerifyOK}, T: killed, SettleError: "x"}, OutcomeInconclusive},
		{"acked, missing, unhealthy start", Trial{Write: Write{Status: WriteOK}, Verify: Verify{Status: VerifyMissing}, T: killed, SettleError: "x"}, OutcomeLost},
		{"acked, no answer", Trial{Write: Write{Status: WriteOK}, Verify: Verify{Status: VerifyError}, T: killed}, OutcomeInconclusive},
		{"unknown, applied, recovered", Trial{Write: Write{Status: WriteUnknown}, Verify: Verify{Status: VerifyOK}, T: recovered}, OutcomeIndeterminateApplied},
		{"unknown, absent, recovered", Trial{Write: Write{Status: WriteUnknown}, Verify: Verify{Status: VerifyMissing}, T: recovered}, OutcomeIndeterminateAbsent},
		{"error, other value, recovered", Trial{Write: Write{Status: WriteError}, Verify: Verify{Status: VerifyMismatch}, T: recovered}, OutcomeIndeterminateAbsent},
		{"unknown, applied, no probe success", Trial{Write: Write{Status: WriteUnknown}, Verify: Verify{Status: VerifyOK}, T: killed}, OutcomeInconclusive},
		{"unknown, absent, no probe success", Trial{Write: Write{Status: WriteUnknown}, Verify: Verify{Status: VerifyMissing}, T: killed}, OutcomeInconclusive},
		{"unknown, no answer", Trial{Write: Write{Status: WriteUnknown}, Verify: Verify{Status: VerifyError}, T: recovered}, OutcomeInconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Outcome(&tt.tr); got != tt.want {
				t.Errorf("Outcome = %s, want %s", got, tt.want)
			}
		})
	}
}
