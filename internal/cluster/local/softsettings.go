package local

import (
	"fmt"
	"os"
	"path/filepath"
)

// softSettingsFile is the file dragonboat reads, from its process's working
// directory, to override its soft settings; the nodes run in the data dir.
const softSettingsFile = "dragonboat-soft-settings.json"

// softSettings makes dragonboat use one connection per pair of nodes
// instead of four (groups are spread over them by group ID). A node keeps
// its connection to a peer after that peer dies, and the first message it
// sends to the peer's next incarnation on it is lost (the old socket only
// answers with a reset). On the local target a restarted node listens on
// its old address, so with four connections per pair a connection that
// carries no traffic between a restart and the next election — the one
// between two followers of a group — loses that election's first vote (a
// split vote, another round, the term up by two): an artifact of our
// restarts, not of the failover (a Kubernetes pod comes back on a new
// address). With one connection per pair, leadership spread over two nodes
// and the in-sync check, every connection carries traffic before each kill.
const softSettings = `{"StreamConnections": 1}`

func writeSoftSettings(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, softSettingsFile), []byte(softSettings+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", softSettingsFile, err)
	}
	return nil
}
