package report

import (
	"fmt"
	"path/filepath"

	"github.com/atomix-failover/atomix-failover/internal/check"
	"github.com/atomix-failover/atomix-failover/internal/history"
)

// visualize writes porcupine's view of key's window in trial n to the
// visualization directory and returns its path.
func (rc *rechecker) visualize(n int, window []history.Op, key string) (string, error) {
	name := fmt.Sprintf("%s.trial-%d.%s.html", check.FileSafe(rc.runID), n, check.FileSafe(key))
	path := filepath.Join(rc.vizDir, name)
	var faults []history.Fault
	for _, f := range rc.faults {
		if f.Trial == n {
			faults = append(faults, f)
		}
	}
	if err := check.WriteWindowVisualizationFile(path, window, key, faults); err != nil {
		return "", fmt.Errorf("writing the visualization of trial %d: %w", n, err)
	}
	return path, nil
}
