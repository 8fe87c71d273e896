package local

import (
	"context"
	"errors"
	"fmt"
	"time"

	rsmapiv1 "github.com/atomix/atomix/protocols/rsm/api/v1"
	"go.uber.org/zap"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/datapath"
)

// connectDataPath starts the in-process runtime and sidecar on port and the
// go-sdk client that talks to it.
func (s *Store) connectDataPath(ctx context.Context, port int) error {
	data, err := datapath.Start(ctx, port, s.protocolConfig(), sendOptions(s.sends)...)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.data = data
	s.client = datapath.NewSDKClient(data)
	s.mu.Unlock()
	return nil
}

// protocolConfig names each partition's leader and live followers for the
// protocol client, at their client proxies when the store has them.
func (s *Store) protocolConfig() rsmapiv1.ProtocolConfig {
	view, _ := s.tracker.snapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := rsmapiv1.ProtocolConfig{}
	for g := 1; g <= s.cfg.Partitions; g++ {
		pc := rsmapiv1.PartitionConfig{PartitionID: rsmapiv1.PartitionID(g)}
		for i, spec := range s.specs {
			if p := s.procs[i]; p == nil || !p.alive() {
				continue
			}
			addr := spec.apiAddress()
			if s.links != nil {
				addr = s.links.apiAddress(i)
			}
			if spec.ID == view[g].Leader {
				pc.Leader = addr
			} else {
				pc.Followers = append(pc.Followers, addr)
			}
		}
		cfg.Partitions = append(cfg.Partitions, pc)
	}
	return cfg
}

// reconfigureLoop reconfigures every data path, the store's own and every
// open client's, on every leadership change.
func (s *Store) reconfigureLoop() {
	defer s.wg.Done()
	for {
		_, changed := s.tracker.snapshot()
		s.reconfigureAll()
		select {
		case <-s.ctx.Done():
			return
		case <-changed:
		}
	}
}

// reconfigureAll points every registered data path at the current leaders.
func (s *Store) reconfigureAll() {
	paths := s.dataPaths()
	if len(paths) == 0 {
		return
	}
	config := s.protocolConfig()
	for _, p := range paths {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		applied, err := p.data.Configure(ctx, config)
		cancel()
		if err != nil && s.ctx.Err() == nil {
			s.log.Warn("reconfiguring the data path", zap.String("data_path", p.name), zap.Error(err))
		} else if applied {
			s.log.Debug("data path reconfigured", zap.String("data_path", p.name))
		}
	}
}

// Map opens the named map through the in-process sidecar.
func (s *Store) Map(ctx context.Context, name string) (cluster.Map, error) {
	s.mu.Lock()
	client := s.client
	s.mu.Unlock()
	if client == nil {
		return nil, fmt.Errorf("opening map %q: the data path is down (a wipe did not finish)", name)
	}
	return datapath.OpenMap(ctx, client, name)
}

// disconnectDataPath closes the go-sdk client, stops the sidecar and closes
// every protocol-client connection to the nodes.
func (s *Store) disconnectDataPath() error {
	s.mu.Lock()
	client, data := s.client, s.data
	s.mu.Unlock()
	var errs []error
	if client != nil {
		if err := client.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing go-sdk client: %w", err))
		}
	}
	if data != nil {
		if err := data.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stopping the sidecar: %w", err))
		}
	}
	return errors.Join(errs...)
}
