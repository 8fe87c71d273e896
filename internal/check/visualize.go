package check

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/anishathalye/porcupine"

	"github.com/atomix-failover/atomix-failover/internal/history"
)

// ErrNoOperations is returned when the history has no operation on the key.
var ErrNoOperations = errors.New("no operations on key")

// ErrTooManyOps is returned for a key with more than DefaultMaxOpsPerKey operations.
var ErrTooManyOps = errors.New("too many operations")

const (
	faultColor    = "#f6c1c1"
	recoveryColor = "#c1f0c8"
	recoveryTag   = "recovery"
)

// WriteVisualization writes porcupine's HTML view of one key's history, annotated with faults and recoveries.
func WriteVisualization(w io.Writer, ops []history.Op, key string, faults []history.Fault) error {
	return writeVisualization(w, ops, key, faults, false)
}

// WriteWindowVisualization is WriteVisualization of a window cut by TrialOps (the key's state unknown at its start).
func WriteWindowVisualization(w io.Writer, ops []history.Op, key string, faults []history.Fault) error {
	return writeVisualization(w, ops, key, faults, true)
}

func writeVisualization(w io.Writer, ops []history.Op, key string, faults []history.Fault, open bool) error {
	keyOps := groupByKey(ops)[key]
	if len(keyOps) == 0 {
		return fmt.Errorf("check: visualize %q: %w", key, ErrNoOperations)
	}
	pops, err := operations(keyOps)
	if err != nil {
		return fmt.Errorf("check: visualize %q: %w", key, err)
	}
	if len(pops) > DefaultMaxOpsPerKey {
		return fmt.Errorf("check: visualize %q: %d operations: %w", key, len(pops), ErrTooManyOps)
	}
	b := &budget{left: visualizationSteps(len(pops)), open: open}
	_, info := porcupine.CheckOperationsVerbose(b.model(), pops, DefaultTimeout)
	info.AddAnnotations(annotations(keyOps, faults))
	if err := porcupine.Visualize(modelFrom(state{open: open}), info, w); err != nil {
		return fmt.Errorf("check: visualize %q: %w", key, err)
	}
	return nil
}

// visualizationSteps bounds the search as Check does, counting also the
// partial linearization (one int per operation) porcupine may keep per step.
func visualizationSteps(n int) int64 {
	return max(1, DefaultMemoryLimit/(entryBytes(n)+8*int64(n)))
}

// annotations mark each fault (restarts and heals as recoveries) and the
// key's first answered operation invoked after each kill, pause or partition.
func annotations(ops []history.Op, faults []history.Fault) []porcupine.Annotation {
	var out []porcupine.Annotation
	for _, f := range faults {
		out = append(out, faultAnnotation(f))
		if !disruptive(f.Fault) {
			continue
		}
		if op, ok := firstOKAfter(ops, f.StartNS); ok {
			out = append(out, porcupine.Annotation{
				Tag:             recoveryTag,
				Start:           *op.CompleteNS,
				Description:     "first ok after " + f.Fault,
				Details:         fmt.Sprintf("%s %s by client %s, %d ns after the %s of %s", op.Op, op.Key, op.Client, *op.CompleteNS-f.StartNS, f.Fault, f.Target),
				BackgroundColor: recoveryColor,
			})
		}
	}
	return out
}

func faultAnnotation(f history.Fault) porcupine.Annotation {
	a := porcupine.Annotation{
		Tag:             f.Target,
		Start:           f.StartNS,
		End:             f.StartNS,
		Description:     f.Fault,
		Details:         fmt.Sprintf("trial %d, partition %d, %s of %s at %d ns", f.Trial, f.Partition, f.Fault, f.Target, f.StartNS),
		BackgroundColor: faultColor,
	}
	if a.Tag == "" {
		a.Tag = "fault"
	}
	if f.EndNS != nil {
		a.End = *f.EndNS
		a.Details += fmt.Sprintf(" to %d ns", *f.EndNS)
	}
	if !disruptive(f.Fault) {
		a.BackgroundColor = recoveryColor
	}
	return a
}

// firstOKAfter is the first answered operation invoked at or after t.
func firstOKAfter(ops []history.Op, t int64) (history.Op, bool) {
	var first history.Op
	found := false
	for _, op := range ops {
		if answered(op) && op.InvokeNS >= t && (!found || *op.CompleteNS < *first.CompleteNS) {
			first, found = op, true
		}
	}
	return first, found
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileSafe replaces every run of characters a file name should not hold with "_".
func FileSafe(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// WriteWindowVisualizationFile writes WriteWindowVisualization to a new
// file at path; a file it could not finish is removed.
func WriteWindowVisualizationFile(path string, ops []history.Op, key string, faults []history.Fault) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("check: visualize %q: %w", key, err)
	}
	err = WriteWindowVisualization(f, ops, key, faults)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("check: visualize %q: %w", key, cerr)
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}
