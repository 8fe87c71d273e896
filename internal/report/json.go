package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes the analysis as one indented JSON document. Its keys
// are the json tags of Analysis, Report and the types they hold; numbers
// that are not available (no data) are null.
func WriteJSON(w io.Writer, a *Analysis) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}
