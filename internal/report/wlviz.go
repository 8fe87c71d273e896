package report

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/history"
)

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// visualize writes porcupine's view of key's window in trial n to the
// visualization directory and returns its path.
func (rc *rechecker) visualize(n int, window []history.Op, key string) (string, error) {
	name := fmt.Sprintf("%s.trial-%d.%s.html", unsafeName.ReplaceAllString(rc.runID, "_"), n, unsafeName.ReplaceAllString(key, "_"))
	path := filepath.Join(rc.vizDir, name)
	var faults []history.Fault
	for _, f := range rc.faults {
		if f.Trial == n {
			faults = append(faults, f)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("writing the visualization of trial %d: %w", n, err)
	}
	err = check.WriteWindowVisualization(f, window, key, faults)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing the visualization of trial %d: %w", n, cerr)
	}
	if err != nil {
		_ = os.Remove(path)
		return "", err
	}
	return path, nil
}
