package report

import (
	"fmt"
	"math"
)

// Success is the success rate durable / (durable + lost) with its Wilson
// 95% interval, the exact upper bound on the loss rate and, when no write
// was lost, the zero-failure bounds.
type Success struct {
	Durable int   `json:"durable"`
	Lost    int   `json:"lost"`
	Decided int   `json:"decided"`
	Rate    Float `json:"rate"`
	Low     Float `json:"wilson95_low"`
	High    Float `json:"wilson95_high"`
	// LossUpperCP is the upper limit of the exact two-sided 95%
	// (Clopper–Pearson) interval on the loss rate lost / decided; null
	// without decided trials.
	LossUpperCP Float `json:"clopper_pearson95_loss_upper"`
	// LossUpper is the rule-of-three 95% upper bound 3/n on the loss rate;
	// null unless there are at least MinRuleOfThreeN decided trials and no
	// losses, LossUpperReason then saying why.
	LossUpper       Float  `json:"rule_of_three_loss_upper"`
	LossUpperReason string `json:"rule_of_three_omitted"`
	// Needed99 and Needed999 are the numbers of trials, all without loss,
	// needed to claim success ≥ 99% and ≥ 99.9% at 95% confidence; null
	// when a write was lost.
	Needed99  Float `json:"zero_loss_trials_needed_99"`
	Needed999 Float `json:"zero_loss_trials_needed_99_9"`
}

func newSuccess(o Outcomes) Success {
	nan := Float(math.NaN())
	s := Success{Durable: o.Durable, Lost: o.Lost, Decided: o.Durable + o.Lost,
		Rate: nan, Low: nan, High: nan, LossUpperCP: nan, LossUpper: nan, Needed99: nan, Needed999: nan}
	if s.Decided > 0 {
		s.Rate = Float(float64(s.Durable) / float64(s.Decided))
		lo, hi := Wilson(s.Durable, s.Decided, Z95)
		s.Low, s.High = Float(lo), Float(hi)
		s.LossUpperCP = Float(ClopperPearsonUpper(s.Lost, s.Decided, Conf95))
	}
	switch {
	case s.Decided == 0:
		s.LossUpperReason = "no decided trials"
	case s.Lost > 0:
		s.LossUpperReason = "losses observed"
	case s.Decided < MinRuleOfThreeN:
		s.LossUpperReason = fmt.Sprintf("n < %d", MinRuleOfThreeN)
	default:
		s.LossUpper = Float(RuleOfThree(s.Decided))
	}
	if s.Lost == 0 {
		s.Needed99 = Float(TrialsNeeded(0.99, Conf95))
		s.Needed999 = Float(TrialsNeeded(0.999, Conf95))
	}
	return s
}
