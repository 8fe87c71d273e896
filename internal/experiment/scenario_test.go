package experiment

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/keyspace"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

func TestScenarios(t *testing.T) {
	tests := []struct {
		name       string
		delays     []time.Duration
		anchor     Anchor
		backToBack []bool
		fault      string
	}{
		{Immediate, []time.Duration{0, 0, 0}, AfterAck, []bool{false, false, false}, ""},
		{DuringReplication, []time.Duration{50 * ms, 100 * ms, 200 * ms}, AfterAck, []bool{false, false, false}, ""},
		{PrecisionTimed, []time.Duration{10 * ms, 25 * ms, 75 * ms}, AfterAck, []bool{false, false, false}, ""},
		{RapidSequential, []time.Duration{0, 0, 0}, AfterAck, []bool{false, true, true}, ""},
		{InFlight, []time.Duration{0, 2 * ms, 5 * ms}, AfterWriteStart, []bool{false, false, false}, ""},
		{ControlDataLoss, []time.Duration{0}, AfterAck, []bool{false}, results.FaultWipeAll},
		{KillUnderLoad, []time.Duration{0, 50 * ms, 100 * ms}, AfterAck, []bool{false, false, false}, results.FaultKillLeader},
		{PauseLeader, []time.Duration{0, 50 * ms, 100 * ms}, AfterAck, []bool{false, false, false}, results.FaultPauseLeader},
		{IsolateLeader, []time.Duration{0, 50 * ms, 100 * ms}, AfterAck, []bool{false, false, false}, results.FaultIsolateLeader},
	}
	all := Scenarios()
	if len(all) != len(tests) {
		t.Fatalf("%d scenarios, want %d", len(all), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := all[i]
			if s.Name() != tt.name {
				t.Fatalf("scenario %d is %q, want %q", i, s.Name(), tt.name)
			}
			steps := s.Steps()
			if len(steps) != len(tt.delays) {
				t.Fatalf("%d steps, want %d", len(steps), len(tt.delays))
			}
			for j, st := range steps {
				if st.Delay != tt.delays[j] || st.Anchor != tt.anchor || st.BackToBack != tt.backToBack[j] {
					t.Errorf("step %d = %+v, want delay %s anchor %s back-to-back %v", j, st, tt.delays[j], tt.anchor, tt.backToBack[j])
				}
				if want := cmp.Or(tt.fault, results.FaultKillLeader); st.fault() != want {
					t.Errorf("step %d fault %q, want %q", j, st.fault(), want)
				}
				if st.Anchor == AfterWriteStart && st.Delay > 5*ms {
					t.Errorf("in-flight delay %s beyond 5ms", st.Delay)
				}
			}
			steps[0].Delay = time.Hour
			if s.Steps()[0].Delay == time.Hour {
				t.Fatal("Steps exposes the scenario's own slice")
			}
		})
	}
}

func TestLookupScenarios(t *testing.T) {
	tests := []struct {
		names   []string
		want    []string
		wantErr bool
	}{
		{DefaultScenarios(), []string{Immediate, DuringReplication, PrecisionTimed, RapidSequential}, false},
		{[]string{" in-flight", Immediate}, []string{InFlight, Immediate}, false},
		{[]string{"bogus"}, nil, true},
		{nil, nil, true},
	}
	for _, tt := range tests {
		got, err := LookupScenarios(tt.names)
		if (err != nil) != tt.wantErr {
			t.Fatalf("LookupScenarios(%q) error = %v, want error %v", tt.names, err, tt.wantErr)
		}
		var names []string
		for _, s := range got {
			names = append(names, s.Name())
		}
		if !reflect.DeepEqual(names, tt.want) {
			t.Errorf("LookupScenarios(%q) = %q, want %q", tt.names, names, tt.want)
		}
	}
}

func mustPlan(t *testing.T, seed int64, names []string, repeat, partitions int, shuffle bool) []TrialPlan {
	t.Helper()
	s, err := LookupScenarios(names)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := Plan(seed, s, repeat, partitions, shuffle)
	if err != nil {
		t.Fatal(err)
	}
	return plans
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name       string
		seed       int64
		scenarios  []string
		repeat     int
		partitions int
		trials     int
		shuffle    bool
	}{
		{"default campaign", 1, DefaultScenarios(), 1, 3, 12, false},
		{"all nine", 1, ScenarioNames(), 1, 3, 25, false},
		{"repeat 3", 7, DefaultScenarios(), 3, 3, 36, false},
		{"five partitions", 2, DefaultScenarios(), 1, 5, 12, false},
		{"one partition", 3, []string{Immediate}, 2, 1, 6, false},
		{"default campaign shuffled", 1, DefaultScenarios(), 1, 3, 12, true},
		{"all nine shuffled, repeat 2", 4, ScenarioNames(), 2, 3, 50, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plans := mustPlan(t, tt.seed, tt.scenarios, tt.repeat, tt.partitions, tt.shuffle)
			if len(plans) != tt.trials {
				t.Fatalf("%d trials, want %d", len(plans), tt.trials)
			}
			if again := mustPlan(t, tt.seed, tt.scenarios, tt.repeat, tt.partitions, tt.shuffle); !reflect.DeepEqual(plans, again) {
				t.Fatal("same seed, different plan")
			}
			counts := map[int]int{}
			var order []string
			for i, p := range plans {
				if p.Trial != i+1 {
					t.Fatalf("trial %d numbered %d", i+1, p.Trial)
				}
				counts[p.Partition]++
				if got := keyspace.AtomixIndex(p.Key.Name, tt.partitions) + 1; got != p.Partition {
					t.Errorf("trial %d: key %s routes to %d, planned %d", p.Trial, p.Key.Name, got, p.Partition)
				}
				if got := keyspace.AtomixIndex(p.Probe.Name, tt.partitions) + 1; got != p.Partition {
					t.Errorf("trial %d: probe key %s routes to %d, planned %d", p.Trial, p.Probe.Name, got, p.Partition)
				}
				if p.SHA256Partition != p.Partition {
					t.Errorf("trial %d: SHA-256 partition %d, want %d", p.Trial, p.SHA256Partition, p.Partition)
				}
				if want, err := keyspace.Derive(tt.seed, p.Scenario, p.Trial, p.Partition, tt.partitions); err != nil || want != p.Key {
					t.Errorf("trial %d: key %+v, keyspace derives %+v (%v)", p.Trial, p.Key, want, err)
				}
				order = append(order, p.Scenario)
				if (i+1)%tt.partitions == 0 {
					seen := map[int]bool{}
					for _, q := range plans[i+1-tt.partitions : i+1] {
						seen[q.Partition] = true
					}
					if len(seen) != tt.partitions {
						t.Errorf("trials %d..%d cover partitions %v, want all %d", i+2-tt.partitions, i+1, seen, tt.partitions)
					}
				}
			}
			for p := 1; p <= tt.partitions; p++ {
				if counts[p] == 0 {
					t.Errorf("partition %d never exercised", p)
				}
			}
			var want []string
			var steps []string
			for r := 0; r < tt.repeat; r++ {
				for _, s := range tt.scenarios {
					sc, _ := LookupScenarios([]string{s})
					for _, st := range sc[0].Steps() {
						want = append(want, s)
						steps = append(steps, fmt.Sprintf("%s %+v", s, st))
					}
				}
			}
			if !tt.shuffle {
				if !reflect.DeepEqual(order, want) {
					t.Errorf("scenario order %q, want %q", order, want)
				}
				return
			}
			if reflect.DeepEqual(order, want) {
				t.Errorf("shuffled order %q is the scenario order", order)
			}
			var got []string
			for _, p := range plans {
				got = append(got, fmt.Sprintf("%s %+v", p.Scenario, p.Step))
			}
			per := len(got) / tt.repeat
			for r := 0; r < tt.repeat; r++ {
				a, b := slices.Clone(got[r*per:(r+1)*per]), slices.Clone(steps[r*per:(r+1)*per])
				slices.Sort(a)
				slices.Sort(b)
				if !reflect.DeepEqual(a, b) {
					t.Errorf("round %d runs %q, want the steps %q", r+1, a, b)
				}
			}
			for i, p := range plans {
				if p.Step.BackToBack && (i == 0 || plans[i-1].Scenario != p.Scenario) {
					t.Errorf("trial %d (%s) is back-to-back but follows %s", p.Trial, p.Scenario, plans[max(i-1, 0)].Scenario)
				}
			}
		})
	}
}

func TestPlanSeedMatters(t *testing.T) {
	a := mustPlan(t, 1, DefaultScenarios(), 1, 3, false)
	b := mustPlan(t, 2, DefaultScenarios(), 1, 3, false)
	for i := range a {
		if a[i].Key.Name == b[i].Key.Name {
			t.Fatalf("trial %d: seeds 1 and 2 share key %s", i+1, a[i].Key.Name)
		}
	}
	var pa, pb []int
	for i := range a {
		pa, pb = append(pa, a[i].Partition), append(pb, b[i].Partition)
	}
	t.Logf("seed 1 partitions %v, seed 2 partitions %v", pa, pb)
}

func TestPlanGolden(t *testing.T) {
	plans := mustPlan(t, DefaultSeed, DefaultScenarios(), 1, 3, false)
	var got []int
	for _, p := range plans {
		got = append(got, p.Partition)
	}
	want := []int{3, 1, 2, 3, 2, 1, 3, 1, 2, 1, 2, 3}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("default campaign partitions %v, want %v", got, want)
	}
	if k := plans[0].Key.Name; k != "failover-immediate-1-1000002" {
		t.Fatalf("first key %s", k)
	}
}

func TestPlanErrors(t *testing.T) {
	s := Scenarios()
	if _, err := Plan(1, s, 0, 3, false); err == nil {
		t.Error("repeat 0 accepted")
	}
	if _, err := Plan(1, s, 1, 0, false); err == nil {
		t.Error("0 partitions accepted")
	}
}
