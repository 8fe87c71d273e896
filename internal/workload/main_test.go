package workload

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
)

func TestMain(m *testing.M) {
	local.RunNodeIfChild()
	// rsm v1.1.1 never stops a session's request loop (see internal/cluster/local).
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/atomix/atomix/protocols/rsm/pkg/client.(*SessionClient).open.func1"))
}
