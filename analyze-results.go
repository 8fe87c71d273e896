//go:build ignore

// Command analyze-results reports on a results log:
//
//	go run analyze-results.go LOG... [--format text|markdown|json|csv|html] [--run ID] [--merge] [--out FILE]
//
// It is `go run . analyze` under another name (see internal/cli and internal/report).
package main

import (
	"context"
	"os"

	"github.com/atomix-failover/atomix-failover/internal/cli"
)

func main() {
	args := append([]string{"analyze"}, os.Args[1:]...)
	os.Exit(cli.Run(context.Background(), args, cli.Streams{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
