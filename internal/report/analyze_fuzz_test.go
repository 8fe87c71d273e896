package report

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// FuzzAnalyze checks that no input makes the analyzer or a renderer panic:
// every input gives a report or an ErrBadInput error.
func FuzzAnalyze(f *testing.F) {
	fixtureLog, err := os.ReadFile(fixture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixtureLog)
	fixtureLogV2, err := os.ReadFile(fixtureV2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixtureLogV2)
	workloadLog, err := os.ReadFile(workloadFixture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(workloadLog)
	workloadHist, err := os.ReadFile(workloadHistory)
	if err != nil {
		f.Fatal(err)
	}
	// Every history named is the workload fixture's: no input reads a file.
	openHistory := func(string) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(workloadHist)), nil }
	f.Add([]byte(lines(tRun1, tTrialA1, tTrialA2, tSumA)))
	f.Add([]byte(lines(tTrialB1, tTrialB2)))
	f.Add([]byte(`{"type":"trial","run_id":"x","outcome":"durable","delay_ns":-9223372036854775808,"t":{"kill_sent":9223372036854775807,"first_ok":-9223372036854775808,"write_ack":5},"leader_before":{"term":18446744073709551615},"leader_after":{"term":1}}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Analyze([]Input{{Name: "fuzz", R: bytes.NewReader(data)}}, Options{OpenHistory: openHistory})
		if err != nil {
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("error without ErrBadInput: %v", err)
			}
			return
		}
		for _, write := range []func(io.Writer, *Analysis) error{WriteText, WriteMarkdown, WriteJSON, WriteHTML} {
			if err := write(io.Discard, a); err != nil {
				t.Fatalf("rendering: %v", err)
			}
		}
	})
}
