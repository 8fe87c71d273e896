package local

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// parentEnv makes the test binary act as a parent that starts a store,
// prints its node PIDs and data dir, and waits for a signal.
const parentEnv = "ATOMIX_FAILOVER_TEST_PARENT"

func TestMain(m *testing.M) {
	RunNodeIfChild()
	if os.Getenv(parentEnv) != "" {
		os.Exit(runTestParent())
	}
	goleak.VerifyTestMain(m, atomixSessionGoroutines...)
}

func runTestParent() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := DefaultConfig()
	cfg.StartTimeout = 30 * time.Second
	s, err := Start(ctx, cfg, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Printf("dir %s\n", s.DataDir())
	for _, pid := range s.PIDs() {
		fmt.Printf("pid %d\n", pid)
	}
	fmt.Println("ready")
	<-ctx.Done()
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// atomixSessionGoroutines are the protocol client's per-session goroutines,
// which protocols/rsm v1.1.1 gives no way to stop (see datapath.Path.Close).
var atomixSessionGoroutines = []goleak.Option{
	goleak.IgnoreTopFunction("github.com/atomix/atomix/protocols/rsm/pkg/client.(*SessionClient).open.func1"),
}
