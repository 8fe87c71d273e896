package report

// groupPool accumulates one scenario's trials.
type groupPool struct {
	g       WorkloadGroup
	unavail []float64
	windows [4]Window
	lengths [4]int64
	had     [4]bool
}

// workloadGroups pools the trials by scenario, in the order rank gives:
// counts add up; a phase pools the trials whose phase has a length (a
// censored trial has no after, a trial without a fault record no before,
// during or after): throughput is their ok operations over their summed
// lengths, the error rate their failed and unknown operations over their
// operations; unavailability is the median and maximum over every client of
// every trial.
func workloadGroups(trials []WorkloadTrial, rank func(string) int) []WorkloadGroup {
	pools := map[string]*groupPool{}
	var names []string
	for i := range trials {
		t := &trials[i]
		p := pools[t.Scenario]
		if p == nil {
			p = &groupPool{g: WorkloadGroup{Scenario: t.Scenario}}
			pools[t.Scenario] = p
			names = append(names, t.Scenario)
		}
		p.add(t)
	}
	sortScenarios(names, rank)
	out := make([]WorkloadGroup, 0, len(names))
	for _, name := range names {
		out = append(out, pools[name].finish())
	}
	return out
}

func (p *groupPool) add(t *WorkloadTrial) {
	g := &p.g
	g.Trials++
	g.Verdicts.add(t.Verdict)
	g.StaleReads += t.StaleReads
	g.LostWrites += t.LostWrites
	g.LostByAge = g.LostByAge.plus(t.LostByAge)
	p.unavail = append(p.unavail, t.unavailability...)
	for i, w := range t.Windows.list() {
		if !w.hasLength {
			continue
		}
		pw := &p.windows[i]
		pw.Ops, pw.OK, pw.Fail, pw.Unknown = pw.Ops+w.Ops, pw.OK+w.OK, pw.Fail+w.Fail, pw.Unknown+w.Unknown
		p.lengths[i] += w.lengthNS
		p.had[i] = true
	}
}

func (p *groupPool) finish() WorkloadGroup {
	g := p.g
	g.Clients = len(p.unavail)
	g.UnavailabilityP50, g.UnavailabilityMax = medianMax(p.unavail)
	for i := range p.windows {
		length := int64(-1)
		if p.had[i] {
			length = p.lengths[i]
		}
		p.windows[i].finish(length)
	}
	g.Windows = Windows{All: p.windows[0], Before: p.windows[1], During: p.windows[2], After: p.windows[3]}
	return g
}

// list is the windows in the order all, before, during, after.
func (w Windows) list() [4]Window { return [4]Window{w.All, w.Before, w.During, w.After} }
