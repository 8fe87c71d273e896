package results

import "strings"

// Outcome is the outcome rule: the class a trial record's own facts give it
// (DESIGN.md "Outcome classes"), in this order:
//
//  1. an acknowledged write read back missing or changed is lost, whatever
//     else happened;
//  2. a trial stopped by the campaign's interruption, whose kill was never
//     sent, or that did not start from a healthy store (settle_error) tested
//     no clean failover: inconclusive;
//  3. a read-back that got no answer is inconclusive (censored);
//  4. an acknowledged write read back is durable;
//  5. an unacknowledged write is indeterminate (applied or absent by the
//     read-back) only when the store was seen to recover (a successful probe,
//     t.first_ok); otherwise inconclusive.
func Outcome(t *Trial) string {
	acked := t.Write.Status == WriteOK
	readBack := t.Verify.Status == VerifyOK
	absent := t.Verify.Status == VerifyMissing || t.Verify.Status == VerifyMismatch
	switch {
	case acked && absent:
		return OutcomeLost
	case t.wasInterrupted(), t.T.KillSent == nil, t.SettleError != "":
		return OutcomeInconclusive
	case !readBack && !absent:
		return OutcomeInconclusive
	case acked:
		return OutcomeDurable
	case t.T.FirstOK == nil:
		return OutcomeInconclusive
	case readBack:
		return OutcomeIndeterminateApplied
	default:
		return OutcomeIndeterminateAbsent
	}
}

// wasInterrupted reads the interruption flag, or the error prefix that
// version 1 logs used for it.
func (t *Trial) wasInterrupted() bool {
	return t.Interrupted || t.Error == "interrupted" || strings.HasPrefix(t.Error, "interrupted;")
}
