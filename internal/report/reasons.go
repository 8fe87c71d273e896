package report

import (
	"cmp"
	"slices"
)

// MaxReasons is how many distinct retarget reasons are counted apart; the
// others are pooled as OtherReason.
const MaxReasons = 100

// Reasons without their own text.
const (
	NoReason    = "(no reason recorded)"
	OtherReason = "(other reasons)"
)

// reasonCounter counts trials by reason, with a bounded number of reasons.
type reasonCounter map[string]int

func (c *reasonCounter) add(reason string) {
	if *c == nil {
		*c = reasonCounter{}
	}
	if reason == "" {
		reason = NoReason
	}
	if _, ok := (*c)[reason]; !ok && len(*c) >= MaxReasons {
		reason = OtherReason
	}
	(*c)[reason]++
}

// list is the reasons, most frequent first, then by text.
func (c reasonCounter) list() []ReasonCount {
	out := make([]ReasonCount, 0, len(c))
	for r, n := range c {
		out = append(out, ReasonCount{Reason: r, Trials: n})
	}
	slices.SortFunc(out, func(x, y ReasonCount) int {
		return cmp.Or(cmp.Compare(y.Trials, x.Trials), cmp.Compare(x.Reason, y.Reason))
	})
	return out
}
