package check

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

func TestWriteVisualization(t *testing.T) {
	restart := history.Fault{Type: history.TypeFault, Trial: 1, Fault: history.FaultRestart, Target: "node-1", StartNS: 60, EndNS: at(70)}
	faults := []history.Fault{kill(1, 45), restart}
	tests := []struct {
		name string
		ops  []history.Op
		want []string
	}{
		{
			name: "linearizable",
			ops:  concat(cleanKey("k1"), cleanKey("k2")),
			want: []string{`put(\"k1-a\") → ok@3`, `cas(\"k1-c\" if @7) → ok@9`, `\"k1-c\"@9`, `"Tag":"node-1"`, `"Description":"kill"`, `"Description":"restart"`, `"Description":"first ok after kill"`, `"Tag":"recovery"`, "client final, trial 0, ok"},
		},
		{
			name: "violation with an unanswered put",
			ops: []history.Op{
				put("c1", "k1", "a", 0, 10, 1),
				unknown(put("c2", "k1", "b", 20, 0, 0)),
				get("c2", "k1", "", 50, 55, 0),
			},
			want: []string{`put(\"b\") → unknown`, `get() → absent`, "context deadline exceeded", `"Description":"kill"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteVisualization(&buf, tt.ops, "k1", faults); err != nil {
				t.Fatal(err)
			}
			html := buf.String()
			if !strings.Contains(html, "<html") {
				t.Fatalf("no <html> in %d bytes", len(html))
			}
			for _, w := range tt.want {
				if !strings.Contains(html, w) {
					t.Errorf("visualization lacks %s", w)
				}
			}
			if strings.Contains(html, "k2-a") {
				t.Error("visualization shows another key")
			}
		})
	}
}

func TestWriteVisualizationErrors(t *testing.T) {
	tests := []struct {
		name string
		ops  []history.Op
		want error
	}{
		{"no operations on the key", cleanKey("k2"), ErrNoOperations},
		{"unsupported operation", []history.Op{{Op: "delete", Key: "k1", Status: history.StatusOK, CompleteNS: at(1)}}, ErrUnsupportedOp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteVisualization(&bytes.Buffer{}, tt.ops, "k1", nil)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteVisualizationWriterError(t *testing.T) {
	if err := WriteVisualization(failingWriter{}, cleanKey("k1"), "k1", nil); !errors.Is(err, errWrite) {
		t.Errorf("err = %v, want %v", err, errWrite)
	}
}
