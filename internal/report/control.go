package report

import "github.com/atomix-failover/atomix-failover/internal/results"

// Verdicts of the positive control.
const (
	ControlNone         = "none"
	ControlWorks        = "detection works"
	ControlFailed       = "failed"
	ControlInconclusive = "inconclusive"
)

// Control is the positive control: trials whose fault (wipe-all) loses the
// acknowledged write by construction, to show that the detector sees a
// loss. They are kept out of every failover statistic.
type Control struct {
	Trials   int      `json:"trials"`
	Outcomes Outcomes `json:"outcomes"`
	// Detected counts control trials recorded lost; Missed those recorded
	// durable (the detector did not see the loss).
	Detected int `json:"detected"`
	Missed   int `json:"missed"`
	// MissedTrials lists the missed trials as "run_id#trial" (at most MaxKeptLost).
	MissedTrials []string `json:"missed_trials"`
	// Verdict is "none" (no control trial), "failed" (a trial missed),
	// "detection works" (at least one detected, none missed) or
	// "inconclusive" (no control trial decided).
	Verdict string `json:"verdict"`
}

func (c *Control) add(t *results.Trial) {
	c.Trials++
	c.Outcomes.add(t.Outcome)
	switch t.Outcome {
	case results.OutcomeLost:
		c.Detected++
	case results.OutcomeDurable:
		c.Missed++
		if len(c.MissedTrials) < MaxKeptLost {
			c.MissedTrials = append(c.MissedTrials, trialName(t.RunID, t.Trial))
		}
	}
}

// finish sets the verdict.
func (c *Control) finish() {
	if c.MissedTrials == nil {
		c.MissedTrials = []string{}
	}
	switch {
	case c.Trials == 0:
		c.Verdict = ControlNone
	case c.Missed > 0:
		c.Verdict = ControlFailed
	case c.Detected > 0:
		c.Verdict = ControlWorks
	default:
		c.Verdict = ControlInconclusive
	}
}
