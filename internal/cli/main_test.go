package cli

import (
	"os"
	"testing"

	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
)

func TestMain(m *testing.M) {
	local.RunNodeIfChild()
	os.Exit(m.Run())
}
