package embeddedtest

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
)

func TestMain(m *testing.M) {
	local.RunNodeIfChild()
	// protocols/rsm v1.1.1 gives no way to stop a session's goroutine (see datapath.Path.Close).
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/atomix/atomix/protocols/rsm/pkg/client.(*SessionClient).open.func1"))
}
