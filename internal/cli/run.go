package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

func newRunCommand(s Streams, logger loggerFunc) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the failover campaign (the default command)",
		Args:  cobra.NoArgs,
	}
	tf := addTargetFlags(cmd.Flags())
	_ = tf
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return usageError(errors.New("the campaign is not implemented yet; try `leaders` or `kill-leader`"))
	}
	return cmd
}
