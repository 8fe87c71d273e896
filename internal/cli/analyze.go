package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func newAnalyzeCommand(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "analyze LOG...",
		Short: "Report on a results log (the same report as `go run analyze-results.go LOG`)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageError(errors.New("the analyzer is not implemented yet"))
		},
	}
}
