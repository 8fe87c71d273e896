package report

import (
	"strings"
	"testing"
)

func TestScenarioOrderFromHeader(t *testing.T) {
	tests := []struct {
		name string
		log  []string
		opts Options
		want string
	}{
		{"header order, then others by name", []string{v2Header("r", true, 1, "rapid-sequential", "immediate"),
			v2Trial("r", 1, "zeta", nil), v2Trial("r", 2, "immediate", nil), v2Trial("r", 3, "alpha", nil), v2Trial("r", 4, "rapid-sequential", nil)},
			Options{}, "rapid-sequential,immediate,alpha,zeta"},
		{"merged: the first header's order, then later headers'", []string{v2Header("r", true, 1, "in-flight", "immediate"), v2Header("s", true, 1, "during-replication", "immediate"),
			v2Trial("s", 1, "during-replication", nil), v2Trial("r", 1, "immediate", nil), v2Trial("r", 2, "in-flight", nil)},
			Options{Merge: true}, "in-flight,immediate,during-replication"},
		{"no header: by name", []string{v2Trial("r", 1, "precision-timed", nil), v2Trial("r", 2, "immediate", nil)},
			Options{}, "immediate,precision-timed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := analyzeLines(t, tt.opts, tt.log...)
			var got []string
			for _, g := range a.Reports[0].Scenarios {
				got = append(got, g.Key)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("scenario rows %v, want %s", got, tt.want)
			}
		})
	}
}
