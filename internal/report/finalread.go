package report

import (
	"fmt"
	"math"
	"strconv"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// MaxKeptLost is how many final-read lost records a report lists; all are counted.
const MaxKeptLost = 1000

// LostWrite is one lost record: an acknowledged key the end-of-campaign
// final read found missing or holding another value.
type LostWrite struct {
	Input     string `json:"input"`
	Line      int    `json:"line"`
	RunID     string `json:"run_id"`
	Trial     int    `json:"trial"`
	Key       string `json:"key"`
	Value     string `json:"value"`
	Read      string `json:"read"`
	ReadValue string `json:"read_value"`
	At        string `json:"at"`
	// Control is true when the key was written by a positive-control trial:
	// its loss is expected.
	Control bool `json:"control"`
	// TrialLost is true when the trial that wrote the key was already
	// recorded lost.
	TrialLost bool `json:"trial_lost"`
	// Counted is true when the loss counts as a lost write of its own (not
	// a control, not a trial already recorded lost).
	Counted bool `json:"counted"`
}

// FinalReadReport is the end-of-campaign final read of a report's runs.
type FinalReadReport struct {
	// RunsWith and RunsWithout count the runs whose summary has a final read and those without.
	RunsWith    int `json:"runs_with_final_read"`
	RunsWithout int `json:"runs_without_final_read"`
	// Keys, OK, Lost and Unanswered sum the summaries' final_read counts;
	// null when no run has one.
	Keys       Float `json:"keys"`
	OK         Float `json:"ok"`
	Lost       Float `json:"lost"`
	Unanswered Float `json:"unanswered"`
	// Errors are the final reads' errors, "run_id: error".
	Errors []string `json:"errors"`
	// LostRecords counts the lost records; Counted those that count as lost
	// writes, ControlRecords those of positive-control trials and
	// LostTrialRecords those of trials already recorded lost.
	LostRecords      int `json:"lost_records"`
	Counted          int `json:"counted"`
	ControlRecords   int `json:"control_records"`
	LostTrialRecords int `json:"lost_trial_records"`
	// LostWrites lists the first MaxKeptLost lost records.
	LostWrites []LostWrite `json:"lost_writes"`
}

// addLost counts one lost record.
func (f *FinalReadReport) addLost(w LostWrite) {
	f.LostRecords++
	switch {
	case w.Counted:
		f.Counted++
	case w.Control:
		f.ControlRecords++
	default:
		f.LostTrialRecords++
	}
	if len(f.LostWrites) < MaxKeptLost {
		f.LostWrites = append(f.LostWrites, w)
	}
}

// finish adds the runs' summaries.
func (f *FinalReadReport) finish(runs []RunInfo) {
	if f.LostWrites == nil {
		f.LostWrites = []LostWrite{}
	}
	f.Errors = []string{}
	var keys, ok, lost, unanswered int
	for _, run := range runs {
		fr := run.FinalRead
		if fr == nil {
			f.RunsWithout++
			continue
		}
		f.RunsWith++
		keys, ok, lost, unanswered = keys+fr.Keys, ok+fr.OK, lost+fr.Lost, unanswered+fr.Unanswered
		if fr.Error != "" {
			f.Errors = append(f.Errors, run.RunID+": "+fr.Error)
		}
	}
	f.Keys, f.OK, f.Lost, f.Unanswered = Float(math.NaN()), Float(math.NaN()), Float(math.NaN()), Float(math.NaN())
	if f.RunsWith > 0 {
		f.Keys, f.OK, f.Lost, f.Unanswered = Float(keys), Float(ok), Float(lost), Float(unanswered)
	}
}

// newLostWrite is l as listed, with what is known of the trial that wrote it.
func newLostWrite(input string, line int, l *results.Lost, m mark) LostWrite {
	return LostWrite{
		Input: input, Line: line, RunID: l.RunID, Trial: l.Trial, Key: l.Key, Value: l.Value,
		Read: l.Read, ReadValue: l.ReadValue, At: l.At,
		Control: m&markControl != 0, TrialLost: m&markLost != 0, Counted: m == 0,
	}
}

// mark records what a lost record needs to know of the trial that wrote its key.
type mark uint8

const (
	markControl mark = 1 << iota
	markLost
)

// trialRef names one trial of one run.
type trialRef struct {
	run   string
	trial int
}

func trialName(run string, trial int) string { return run + "#" + strconv.Itoa(trial) }

// noFinalRead says why a run has no final read.
func noFinalRead(run RunInfo) string {
	switch {
	case !run.HasRunRecord:
		return "no final read (no run record)"
	case run.Schema < results.SchemaVersion:
		return fmt.Sprintf("no final read (v%d log)", run.Schema)
	case !run.Complete:
		return "no final read (no summary)"
	}
	return "no final read in the summary"
}
