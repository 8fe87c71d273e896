package report

// Lost-write age bins' upper bounds, ns.
const (
	bin10ms  = 10e6
	bin50ms  = 50e6
	bin100ms = 100e6
	bin200ms = 200e6
)

// add counts one lost write of age ageNS (nil: its trial recorded no
// fault). Bins hold their lower bound: 0 ≤ age < 10 ms, 10 ≤ age < 50 ms,
// 50 ≤ age < 100 ms, 100 ≤ age < 200 ms, age ≥ 200 ms; a negative age (the
// write was acknowledged after its trial's last fault started) has a bin
// of its own.
func (b *AgeBins) add(ageNS *int64) {
	if ageNS == nil {
		b.NoAge++
		return
	}
	switch a := *ageNS; {
	case a < 0:
		b.Negative++
	case a < bin10ms:
		b.To10++
	case a < bin50ms:
		b.To50++
	case a < bin100ms:
		b.To100++
	case a < bin200ms:
		b.To200++
	default:
		b.Over200++
	}
}

// plus is the sum of two bin counts.
func (b AgeBins) plus(o AgeBins) AgeBins {
	return AgeBins{
		Negative: b.Negative + o.Negative, To10: b.To10 + o.To10, To50: b.To50 + o.To50, To100: b.To100 + o.To100,
		To200: b.To200 + o.To200, Over200: b.Over200 + o.Over200, NoAge: b.NoAge + o.NoAge,
	}
}

// cells are the bins as table cells, in the order of ageBinLabels.
func (b AgeBins) cells() []int {
	return []int{b.Negative, b.To10, b.To50, b.To100, b.To200, b.Over200, b.NoAge}
}

// ageBinLabels name the bins in tables.
var ageBinLabels = []string{"<0", "0–10", "10–50", "50–100", "100–200", "≥200", "no age"}

// ageBinColumns name the bins in CSV columns.
var ageBinColumns = []string{"lost_negative_age", "lost_0_10ms", "lost_10_50ms", "lost_50_100ms", "lost_100_200ms", "lost_200ms_plus", "lost_no_age"}
