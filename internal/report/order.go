package report

import (
	"cmp"
	"slices"
)

// scenarioRanker orders scenarios as the runs' headers list them (the
// first run's list, then scenarios only later runs name); scenarios no
// header names rank after them all (the caller sorts those by name).
func scenarioRanker(runs []RunInfo) func(string) int {
	rank := map[string]int{}
	for _, run := range runs {
		for _, s := range run.Scenarios {
			if _, ok := rank[s]; !ok {
				rank[s] = len(rank)
			}
		}
	}
	return func(s string) int {
		if i, ok := rank[s]; ok {
			return i
		}
		return len(rank)
	}
}

// sortScenarios sorts names by rank, then by name.
func sortScenarios(names []string, rank func(string) int) {
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
