// Package cli implements the atomix-failover command line: the campaign
// runner, leader inspection, manual leader kills and the analyzer.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Exit statuses (DESIGN.md, "Command line").
const (
	ExitOK        = 0
	ExitViolation = 1
	ExitUsage     = 2
	// ExitInterrupted: stopped by SIGINT or SIGTERM without a durability
	// violation (128 + SIGINT, as shells report it).
	ExitInterrupted = 130
)

// ExitError carries an exit status out of a command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// interrupted turns the error of a command stopped by SIGINT or SIGTERM (ctx
// cancelled) into exit 130, unless it records a durability violation.
func interrupted(ctx context.Context, err error) error {
	var exit *ExitError
	if err == nil || ctx.Err() == nil || (errors.As(err, &exit) && (exit.Code == ExitViolation || exit.Code == ExitInterrupted)) {
		return err
	}
	return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("interrupted: %w", err)}
}

// usageError marks err as bad usage or an unreachable target (exit 2).
func usageError(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// Streams are the standard streams a command writes to.
type Streams struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Run executes the command line args (without the program name) and returns the exit status.
func Run(ctx context.Context, args []string, s Streams) int {
	root := newRoot(s)
	root.SetArgs(args)
	root.SetIn(s.Stdin)
	root.SetOut(s.Stdout)
	root.SetErr(s.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			_, _ = fmt.Fprintf(s.Stderr, "atomix-failover: %v\n", exit.Err)
		}
		return exit.Code
	}
	_, _ = fmt.Fprintf(s.Stderr, "atomix-failover: %v\n", err)
	return ExitUsage
}

func newRoot(s Streams) *cobra.Command {
	var logLevel string
	root := &cobra.Command{
		Use:           "atomix-failover",
		Short:         "Measure whether an Atomix Raft store keeps acknowledged writes when a partition leader dies",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	logger := func() (*zap.Logger, error) { return newLogger(s.Stderr, logLevel) }

	run := newRunCommand(s, logger)
	root.AddCommand(run, newLeadersCommand(s, logger), newKillLeaderCommand(s, logger), newAnalyzeCommand(s))
	// With no subcommand the root runs the default campaign, with the run command's flags.
	root.Flags().AddFlagSet(run.Flags())
	root.RunE = run.RunE
	root.Args = cobra.NoArgs
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return root
}

func newLogger(w io.Writer, level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, usageError(fmt.Errorf("--log-level: %w", err))
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	enc.EncodeDuration = zapcore.StringDurationEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), lvl)
	return zap.New(core), nil
}

// Main is the whole program behind main.go.
// SIGINT and SIGTERM cancel the command's context: the current work is
// finished or abandoned cleanly and every child process is reaped. A second
// signal ends the process at once (its nodes die with it, by their
// parent-death signal; the next run removes the data dir left behind).
func Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := Run(ctx, os.Args[1:], Streams{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
