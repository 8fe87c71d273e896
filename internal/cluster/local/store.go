// Package local runs a real embedded Atomix Raft store: raft-node child
// processes of this binary on 127.0.0.1, the Atomix runtime and sidecar in
// process, leaders tracked from the nodes' Watch streams.
package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/atomix/atomix/runtime/pkg/logging"
	raftv1 "github.com/atomix/atomix/stores/raft/api/v1"
	sdkclient "github.com/atomix/go-sdk/pkg/client"
	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
)

// Store is a running embedded Atomix Raft store. It implements cluster.Target.
type Store struct {
	cfg     Config
	log     *zap.Logger
	exe     string
	dataDir string
	// ownsDataDir is true when the store created dataDir (and may remove it whole).
	ownsDataDir bool
	specs       []nodeSpec
	tracker     *tracker

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards procs, nodes, began, back, data, client and the client
	// registry (clients, nextClient, clientsClosed); killMu
	// serialises kills and wipes; a wipe holds restartMu for writing, a
	// restart for reading, and wipes counts the wipes, so that a restart
	// scheduled before a wipe never starts a node beside the wipe's.
	mu        sync.Mutex
	killMu    sync.Mutex
	restartMu sync.RWMutex
	wipes     int
	procs     []*process
	nodes     []*nodeConn
	// began and back are when each node's current incarnation started and
	// when it had bootstrapped every group (zero until then).
	began []time.Time
	back  []time.Time
	// lastTransfer is when the health wait last asked for a leadership transfer.
	lastTransfer time.Time

	// links are the Raft link and client proxies (nil without LinkProxies).
	links *links

	sends  *sendHub
	data   *dataPath
	client *sdkclient.Client
	// clients are the data paths opened by OpenClient (clients.go);
	// clientsClosed is set once Close has released them.
	clients       map[*clientPath]struct{}
	nextClient    int
	clientsClosed bool

	closeOnce sync.Once
	closeErr  error
}

var _ cluster.Target = (*Store)(nil)

// quietAtomix sets the in-process Atomix runtime's log level once: the
// protocol client's session goroutines outlive a store (see datapath.Path.Close)
// and read the level while they log.
var quietAtomix sync.Once

// Start starts the store and returns once every partition has a leader and
// the data path is connected. On error everything started is stopped, every
// child reaped, and the data dir removed unless KeepData.
func Start(ctx context.Context, cfg Config, log *zap.Logger) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	quietAtomix.Do(func() { logging.SetLevel(logging.ErrorLevel) })
	exe := cfg.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("finding this program's executable: %w", err)
		}
	}
	s := &Store{cfg: cfg, log: log, exe: exe, tracker: newTracker(cfg.Partitions), sends: newSendHub()}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.start(ctx); err != nil {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, err
	}
	return s, nil
}

func (s *Store) start(ctx context.Context) error {
	began := time.Now()
	sctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	if err := s.prepareDataDir(); err != nil {
		return err
	}
	if err := writeSoftSettings(s.dataDir); err != nil {
		return err
	}
	if s.cfg.LinkProxies {
		var err error
		if s.links, err = listenLinks(s.cfg.Replicas); err != nil {
			return err
		}
	}
	ports, err := s.pickNodePorts()
	if err != nil {
		return err
	}
	if s.links != nil {
		s.links.start(s.specs)
	}
	s.procs = make([]*process, len(s.specs))
	s.nodes = make([]*nodeConn, len(s.specs))
	s.began = make([]time.Time, len(s.specs))
	s.back = make([]time.Time, len(s.specs))
	if err := s.startAll(sctx); err != nil {
		return err
	}
	if err := s.connectDataPath(sctx, ports[len(ports)-1]); err != nil {
		return err
	}
	s.wg.Add(1)
	go s.reconfigureLoop()
	s.log.Info("embedded Atomix Raft store ready",
		zap.Int("replicas", s.cfg.Replicas), zap.Int("partitions", s.cfg.Partitions),
		zap.String("data_dir", s.dataDir), zap.Bool("link_proxies", s.links != nil), zap.Duration("startup", time.Since(began)))
	return nil
}

// pickNodePorts picks every node's ports and the sidecar's, and fills in
// the nodes' specs; it returns the ports, the sidecar's last.
func (s *Store) pickNodePorts() ([]int, error) {
	labels := make([]string, 0, 2*s.cfg.Replicas+1)
	for i := 1; i <= s.cfg.Replicas; i++ {
		labels = append(labels, fmt.Sprintf("node-%d raft port", i), fmt.Sprintf("node-%d API port", i))
	}
	labels = append(labels, "sidecar port")
	ports, err := pickPorts(s.cfg.BasePort, labels)
	if err != nil {
		return nil, err
	}
	for i := 0; i < s.cfg.Replicas; i++ {
		name := fmt.Sprintf("node-%d", i+1)
		s.specs = append(s.specs, nodeSpec{
			ID: uint64(i + 1), Name: name,
			RaftPort: ports[2*i], APIPort: ports[2*i+1],
			DataDir: filepath.Join(s.dataDir, name),
			LogPath: filepath.Join(s.dataDir, name+".log"),
		})
	}
	return ports, nil
}

// startAll starts every node and waits until every partition has a leader.
func (s *Store) startAll(ctx context.Context) error {
	errs := make([]error, len(s.specs))
	var wg sync.WaitGroup
	for i := range s.specs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.startNode(ctx, i)
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.waitAllLeaders(ctx)
}

func (s *Store) prepareDataDir() error {
	if s.cfg.DataDir == "" {
		if _, err := removeStaleDataDirs(os.TempDir(), s.log); err != nil {
			s.log.Warn("removing stale data dirs", zap.Error(err))
		}
		dir, err := os.MkdirTemp("", tempDataDirPattern)
		if err != nil {
			return fmt.Errorf("creating temp data dir: %w", err)
		}
		s.dataDir, s.ownsDataDir = dir, true
		if err := writeOwner(dir); err != nil {
			return err
		}
		if s.cfg.KeepData {
			return markKept(dir)
		}
		return nil
	}
	dir, err := filepath.Abs(s.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("--data-dir %s: %w", s.cfg.DataDir, err)
	}
	_, err = os.Stat(dir)
	created := os.IsNotExist(err)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--data-dir %s: %w", s.cfg.DataDir, err)
	}
	s.dataDir, s.ownsDataDir = dir, created
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("--data-dir %s is not writable: %w", s.cfg.DataDir, err)
	}
	_ = probe.Close()
	_ = os.Remove(probe.Name())
	return nil
}

// removeData removes what the store wrote: the whole data dir when the store
// created it, else only the nodes' directories and logs inside it.
func (s *Store) removeData() error {
	if s.ownsDataDir {
		return os.RemoveAll(s.dataDir)
	}
	errs := []error{os.RemoveAll(filepath.Join(s.dataDir, softSettingsFile))}
	for _, spec := range s.specs {
		errs = append(errs, os.RemoveAll(spec.DataDir), os.RemoveAll(spec.LogPath))
	}
	return errors.Join(errs...)
}

// pickPorts returns one port on 127.0.0.1 per label: base, base+1, … when
// base > 0 (each checked free), else free ports chosen by the kernel.
func pickPorts(base int, labels []string) ([]int, error) {
	ls := make([]net.Listener, 0, len(labels))
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, len(labels))
	for i, label := range labels {
		addr := "127.0.0.1:0"
		if base > 0 {
			addr = fmt.Sprintf("127.0.0.1:%d", base+i)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("%s: %s is not available: %w", label, addr, err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startNode starts (or restarts) node i: process, connection, watch stream,
// bootstrap of every group.
func (s *Store) startNode(ctx context.Context, i int) error {
	spec := s.specs[i]
	began := time.Now()
	p, err := startProcess(ctx, s.exe, spec, s.cfg.RTT)
	if err != nil {
		return err
	}
	nc, err := dialNode(spec, p)
	if err != nil {
		p.kill()
		return err
	}
	s.mu.Lock()
	if s.ctx.Err() != nil {
		// Close has begun and will not see this process: reap it here.
		s.mu.Unlock()
		p.kill()
		nc.close()
		return fmt.Errorf("%s: store is closing", spec.Name)
	}
	s.procs[i], s.nodes[i] = p, nc
	s.began[i], s.back[i] = began, time.Time{}
	s.mu.Unlock()
	s.tracker.memberUp(spec.ID)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.watch(nc)
	}()
	if err := s.bootstrap(ctx, nc); err != nil {
		return err
	}
	s.mu.Lock()
	if s.procs[i] == p {
		s.back[i] = time.Now()
	}
	s.mu.Unlock()
	s.tracker.poke()
	s.log.Debug("node started", zap.String("node", spec.Name), zap.Int("pid", p.pid),
		zap.String("api", spec.apiAddress()), zap.String("raft", spec.raftAddress()))
	return nil
}

// watch drains the node's Watch stream into the tracker until the stream ends.
func (s *Store) watch(nc *nodeConn) {
	err := nc.watch(func(e leaderEvent) {
		if !nc.proc.alive() {
			return
		}
		changed := s.tracker.apply(e)
		s.log.Debug("leader report", zap.Int("partition", e.Group), zap.Uint64("term", e.Term),
			zap.Uint64("leader", e.Leader), zap.String("reported_by", nc.spec.Name), zap.Bool("view_changed", changed))
	})
	if err != nil && s.ctx.Err() == nil && !nc.proc.stopping.Load() {
		s.log.Warn("watch stream ended", zap.String("node", nc.spec.Name), zap.Error(err))
	}
}

func (s *Store) bootstrap(ctx context.Context, nc *nodeConn) error {
	members := directMembers(s.specs)
	if s.links != nil {
		var err error
		if members, err = s.links.members(nc.spec); err != nil {
			return fmt.Errorf("%s: member list: %w", nc.spec.Name, err)
		}
	}
	cfg := raftv1.RaftConfig{ElectionRTT: s.cfg.ElectionRTT, HeartbeatRTT: s.cfg.HeartbeatRTT,
		SnapshotEntries: s.cfg.snapshotEntries, CompactionOverhead: s.cfg.compactionOverhead}
	for g := 1; g <= s.cfg.Partitions; g++ {
		if err := nc.bootstrapGroup(ctx, g, members, cfg); err != nil {
			return fmt.Errorf("%s: bootstrapping group %d: %w%s", nc.spec.Name, g, err, logTail(nc.spec.LogPath))
		}
	}
	return nil
}

func (s *Store) waitAllLeaders(ctx context.Context) error {
	view, err := s.tracker.waitFor(ctx, func(v map[int]groupState) bool {
		for _, g := range v {
			if g.Leader == 0 {
				return false
			}
		}
		return true
	})
	if err != nil {
		var missing []string
		for id, g := range view {
			if g.Leader == 0 {
				missing = append(missing, fmt.Sprintf("group %d (term %d)", id, g.Term))
			}
		}
		sort.Strings(missing)
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("stopped waiting for a leader of %s: %w", strings.Join(missing, ", "), err)
		}
		return fmt.Errorf("no leader elected for %s after %s: %w", strings.Join(missing, ", "), s.cfg.StartTimeout, err)
	}
	return nil
}

// Info describes the store.
func (s *Store) Info() cluster.Info {
	return cluster.Info{Target: "local", Store: "embedded", Partitions: s.cfg.Partitions, Replicas: s.cfg.Replicas,
		RestartPolicy: s.cfg.Restart.String(),
		Versions:      map[string]string{"atomix/stores/raft": "v0.7.0", "atomix/go-sdk": "v0.13.3", "dragonboat": "v3.3.5"}}
}

// DataDir is the directory holding the nodes' data and logs.
func (s *Store) DataDir() string { return s.dataDir }

// PIDs returns the process IDs of the live node processes.
func (s *Store) PIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pids []int
	for _, p := range s.procs {
		if p != nil && p.alive() {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// Close closes every client opened by OpenClient, stops the data path,
// kills and reaps every node, waits for every goroutine, and removes the
// data dir unless KeepData.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	errs := []error{s.releaseClients(true), s.disconnectDataPath()}
	s.cancel()
	s.mu.Lock()
	procs := append([]*process(nil), s.procs...)
	nodes := append([]*nodeConn(nil), s.nodes...)
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		if p != nil {
			wg.Add(1)
			go func(p *process) {
				defer wg.Done()
				p.stop(2 * time.Second)
			}(p)
		}
	}
	wg.Wait()
	for _, nc := range nodes {
		if nc != nil {
			nc.close()
		}
	}
	s.wg.Wait()
	if s.links != nil {
		s.links.close()
	}
	if s.dataDir != "" && !s.cfg.KeepData {
		if err := s.removeData(); err != nil {
			errs = append(errs, fmt.Errorf("removing data dir %s: %w", s.dataDir, err))
		}
	} else if s.dataDir != "" {
		s.log.Info("kept data dir", zap.String("data_dir", s.dataDir))
	}
	return errors.Join(errs...)
}
