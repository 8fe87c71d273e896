// Package experiment runs failover campaigns: it plans trials from the
// scenarios and a seed, drives the trial protocol against a cluster.Target
// (write, precisely timed leader kill, election and recovery measurement,
// verification) and appends one results record per trial.
package experiment

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/keyspace"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// Anchor is the moment a trial's kill delay is measured from.
type Anchor int

const (
	// AfterAck times the kill from the write's acknowledgement (or its error).
	AfterAck Anchor = iota
	// AfterWriteStart times the kill from the moment the write was issued.
	AfterWriteStart
)

// String names the anchor as the record does (results.Anchor*).
func (a Anchor) String() string {
	if a == AfterWriteStart {
		return results.AnchorWriteStart
	}
	return results.AnchorWriteAck
}

// Step is one planned trial of a scenario.
type Step struct {
	// Delay is the wait between the anchor and the kill.
	Delay time.Duration
	// Anchor is what Delay is measured from.
	Anchor Anchor
	// BackToBack skips waiting for the cluster to be healthy before this step.
	BackToBack bool
	// Fault is the fault injected (results.Fault*; empty: kill the leader).
	Fault string
}

// fault is the step's fault, results.FaultKillLeader by default.
func (s Step) fault() string {
	if s.Fault == "" {
		return results.FaultKillLeader
	}
	return s.Fault
}

// Scenario is a named schedule of trials.
type Scenario interface {
	// Name is the scenario's name on the command line and in the log.
	Name() string
	// Steps are the scenario's trials, in order.
	Steps() []Step
}

// Scenario names (DESIGN.md, "Scenarios").
const (
	Immediate         = "immediate"
	DuringReplication = "during-replication"
	PrecisionTimed    = "precision-timed"
	RapidSequential   = "rapid-sequential"
	InFlight          = "in-flight"
	// ControlDataLoss is the positive control: every node killed and
	// restarted on empty data dirs after the ack, so the write is lost by
	// construction. Never in the default campaign.
	ControlDataLoss = "control-data-loss"
	// KillUnderLoad kills the leader while the workload runs.
	KillUnderLoad = "kill-under-load"
	// PauseLeader freezes the leader (SIGSTOP) for Config.FaultDuration while the workload runs.
	PauseLeader = "pause-leader"
	// IsolateLeader cuts the leader off from its peers (Config.IsolateFrom)
	// for Config.FaultDuration while the workload runs.
	IsolateLeader = "isolate-leader"
)

// loadScenarios run only with the workload.
var loadScenarios = map[string]bool{KillUnderLoad: true, PauseLeader: true, IsolateLeader: true}

// NeedsWorkload reports whether one of the named scenarios implies the workload.
func NeedsWorkload(names []string) bool {
	for _, n := range names {
		if loadScenarios[strings.TrimSpace(n)] {
			return true
		}
	}
	return false
}

// NeedsIsolation reports whether one of the named scenarios cuts links.
func NeedsIsolation(names []string) bool {
	for _, n := range names {
		if strings.TrimSpace(n) == IsolateLeader {
			return true
		}
	}
	return false
}

type schedule struct {
	name  string
	steps []Step
}

func (s schedule) Name() string  { return s.name }
func (s schedule) Steps() []Step { return append([]Step(nil), s.steps...) }

func afterAck(delays ...time.Duration) []Step { return faultAfterAck("", delays...) }

func faultAfterAck(fault string, delays ...time.Duration) []Step {
	steps := make([]Step, len(delays))
	for i, d := range delays {
		steps[i] = Step{Delay: d, Anchor: AfterAck, Fault: fault}
	}
	return steps
}

const ms = time.Millisecond

// Scenarios returns the five scenarios of DESIGN.md, in its order, the
// positive control and the three scenarios under load.
func Scenarios() []Scenario {
	return []Scenario{
		schedule{Immediate, afterAck(0, 0, 0)},
		schedule{DuringReplication, afterAck(50*ms, 100*ms, 200*ms)},
		schedule{PrecisionTimed, afterAck(10*ms, 25*ms, 75*ms)},
		schedule{RapidSequential, []Step{
			{Anchor: AfterAck},
			{Anchor: AfterAck, BackToBack: true},
			{Anchor: AfterAck, BackToBack: true},
		}},
		schedule{InFlight, []Step{
			{Delay: 0, Anchor: AfterWriteStart},
			{Delay: 2 * ms, Anchor: AfterWriteStart},
			{Delay: 5 * ms, Anchor: AfterWriteStart},
		}},
		schedule{ControlDataLoss, []Step{{Anchor: AfterAck, Fault: results.FaultWipeAll}}},
		schedule{KillUnderLoad, afterAck(0, 50*ms, 100*ms)},
		schedule{PauseLeader, faultAfterAck(results.FaultPauseLeader, 0, 50*ms, 100*ms)},
		schedule{IsolateLeader, faultAfterAck(results.FaultIsolateLeader, 0, 50*ms, 100*ms)},
	}
}

// DefaultScenarios names the default campaign: the first four scenarios, 12 trials.
func DefaultScenarios() []string {
	return []string{Immediate, DuringReplication, PrecisionTimed, RapidSequential}
}

// ScenarioNames names every scenario.
func ScenarioNames() []string {
	all := Scenarios()
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name()
	}
	return names
}

// LookupScenarios returns the named scenarios in the given order.
func LookupScenarios(names []string) ([]Scenario, error) {
	byName := map[string]Scenario{}
	for _, s := range Scenarios() {
		byName[s.Name()] = s
	}
	var out []Scenario
	for _, n := range names {
		s, ok := byName[strings.TrimSpace(n)]
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (want one of %s)", n, strings.Join(ScenarioNames(), ", "))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenarios (want some of %s)", strings.Join(ScenarioNames(), ", "))
	}
	return out, nil
}

// TrialPlan is one trial fully determined before the campaign starts.
type TrialPlan struct {
	// Trial is the 1-based trial number within the run.
	Trial int
	// Scenario names the trial's scenario.
	Scenario string
	// Step is the scenario step: delay, anchor, back-to-back.
	Step Step
	// Partition is the partition ID (1-based) of the key.
	Partition int
	// Key is the key written and verified.
	Key keyspace.Key
	// Probe is the key the recovery probe writes, in the same partition.
	Probe keyspace.Key
	// SHA256Partition is the partition ID SHA-256 alone picks for Key.
	SHA256Partition int
}

// pcgStream is the second PCG seed word; the first is the campaign seed.
const pcgStream = 0x61746f6d6978

// ProbeScenario is the scenario name under which probe keys are derived.
const ProbeScenario = "probe"

// shuffleStream is the PCG stream of the trial-order shuffle, apart from the
// partition draws so that --shuffle does not change how partitions are drawn.
const shuffleStream = 0x73687566666c65

// block is a run of trials that stays together: one step, or a whole
// back-to-back scenario such as rapid-sequential.
type block struct {
	scenario string
	steps    []Step
}

// blocks splits a round of the scenarios into blocks, in order.
func blocks(scenarios []Scenario) []block {
	var out []block
	for _, s := range scenarios {
		steps := s.Steps()
		for i := 0; i < len(steps); {
			j := i + 1
			for j < len(steps) && steps[j].BackToBack {
				j++
			}
			out = append(out, block{scenario: s.Name(), steps: steps[i:j]})
			i = j
		}
	}
	return out
}

// Plan lays out a campaign: Repeat rounds of the scenarios in order (with
// shuffle, each round's trials in an order drawn from the seed, back-to-back
// trials kept together), each trial's partition drawn so that every block of
// P consecutive trials covers every partition once, in an order fixed by the
// seed.
func Plan(seed int64, scenarios []Scenario, repeat, partitions int, shuffle bool) ([]TrialPlan, error) {
	if repeat < 1 {
		return nil, fmt.Errorf("repeat %d: want at least 1", repeat)
	}
	if partitions < 1 {
		return nil, fmt.Errorf("partitions %d: want at least 1", partitions)
	}
	src := rand.NewPCG(uint64(seed), pcgStream)
	shuffler := rand.NewPCG(uint64(seed), shuffleStream)
	var order []int
	var plans []TrialPlan
	for round := 0; round < repeat; round++ {
		bs := blocks(scenarios)
		if shuffle {
			reordered := make([]block, len(bs))
			for i, j := range perm(shuffler, len(bs)) {
				reordered[i] = bs[j]
			}
			bs = reordered
		}
		for _, b := range bs {
			for _, step := range b.steps {
				if len(order) == 0 {
					order = perm(src, partitions)
				}
				p := order[0] + 1
				order = order[1:]
				n := len(plans) + 1
				key, err := keyspace.Derive(seed, b.scenario, n, p, partitions)
				if err != nil {
					return nil, fmt.Errorf("deriving the key of trial %d: %w", n, err)
				}
				probe, err := keyspace.Derive(seed, ProbeScenario, n, p, partitions)
				if err != nil {
					return nil, fmt.Errorf("deriving the probe key of trial %d: %w", n, err)
				}
				plans = append(plans, TrialPlan{
					Trial:           n,
					Scenario:        b.scenario,
					Step:            step,
					Partition:       p,
					Key:             key,
					Probe:           probe,
					SHA256Partition: keyspace.SHA256Index(key.Name, partitions) + 1,
				})
			}
		}
	}
	return plans, nil
}

// perm returns a permutation of 0..n-1 drawn from src (Fisher–Yates over
// PCG output, whose sequence the math/rand/v2 package fixes for each seed).
func perm(src *rand.PCG, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(src.Uint64() % uint64(i+1))
		out[i], out[j] = out[j], out[i]
	}
	return out
}
