package experiment

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/atomix-failover/atomix-failover/internal/cluster"
	"github.com/atomix-failover/atomix-failover/internal/cluster/local"
	"github.com/atomix-failover/atomix-failover/internal/keyspace"
	"github.com/atomix-failover/atomix-failover/internal/results"
)

// killRecorder remembers every kill the target confirms; it keeps the
// store's view of the data path's requests (cluster.SendObserver).
type killRecorder struct {
	*local.Store
	mu    sync.Mutex
	kills []cluster.Kill
}

func (k *killRecorder) KillLeader(ctx context.Context, p int) (cluster.Kill, error) {
	kill, err := k.Store.KillLeader(ctx, p)
	if err == nil {
		k.mu.Lock()
		k.kills = append(k.kills, kill)
		k.mu.Unlock()
	}
	return kill, err
}

// TestEndToEndLocalStore runs the five failover scenarios once against the real
// embedded Atomix Raft store and checks the results log.
func TestEndToEndLocalStore(t *testing.T) {
	log := zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	began := time.Now()
	store, err := local.Start(ctx, local.DefaultConfig(), log.Named("local"))
	if err != nil {
		t.Fatalf("starting the local store: %v", err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			t.Errorf("closing the store: %v", err)
		}
	}()
	tgt := &killRecorder{Store: store}
	w, path := newWriter(t)
	cfg := DefaultConfig()
	cfg.Scenarios = append(DefaultScenarios(), InFlight)
	r := &Runner{Target: tgt, Sink: w, Log: log.Named("campaign"), Config: cfg}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("campaign of %d trials took %s: %v", res.Trials, time.Since(began), res.Outcomes)

	lg := readLog(t, path)
	if len(lg.runs) != 1 || len(lg.trials) != 15 || len(lg.summaries) != 1 {
		t.Fatalf("log: %d runs, %d trials, %d summaries; want 1, 15, 1", len(lg.runs), len(lg.trials), len(lg.summaries))
	}
	info := store.Info()
	if lg.runs[0].Partitions != info.Partitions || lg.runs[0].Target != "local" {
		t.Errorf("run header %+v", lg.runs[0])
	}
	if len(tgt.kills) != 15 {
		t.Fatalf("%d kills confirmed by the store, want 15", len(tgt.kills))
	}
	seen := map[int]bool{}
	for i, tr := range lg.trials {
		seen[tr.Partition] = true
		if want := keyspace.AtomixIndex(tr.Key, info.Partitions) + 1; tr.Partition != want {
			t.Errorf("trial %d: partition %d, Atomix routes %s to %d", tr.Trial, tr.Partition, tr.Key, want)
		}
		k := tgt.kills[i]
		if tr.LeaderBefore == nil || k.Partition != tr.Partition || k.Victim.ID != tr.LeaderBefore.Member || k.Term != tr.LeaderBefore.Term {
			t.Errorf("trial %d: leader_before %+v, the store killed %s of partition %d in term %d", tr.Trial, tr.LeaderBefore, k.Victim, k.Partition, k.Term)
		}
		if tr.Outcome == results.OutcomeLost {
			t.Errorf("trial %d: acknowledged write lost: %+v", tr.Trial, tr)
		}
		if tr.Outcome == results.OutcomeInconclusive {
			t.Errorf("trial %d inconclusive: %s", tr.Trial, tr.Error)
			continue
		}
		checkTimestamps(t, tr)
		if tr.Scenario == InFlight && tr.T.RequestSent == nil {
			t.Errorf("trial %d: in-flight kill without request_sent", tr.Trial)
		}
		if tr.Scenario != RapidSequential && (tr.VictimBackFirst == nil || *tr.VictimBackFirst) {
			t.Errorf("trial %d: victim back before the new leader: %v", tr.Trial, tr.VictimBackFirst)
		}
		if tr.Scenario != InFlight && tr.Write.Status != results.WriteOK {
			t.Errorf("trial %d: write %+v", tr.Trial, tr.Write)
		}
	}
	if len(seen) != info.Partitions {
		t.Errorf("partitions exercised %v, want all %d", seen, info.Partitions)
	}
	if res.Lost() != 0 || lg.summaries[0].Outcomes[results.OutcomeLost] != 0 {
		t.Errorf("lost writes: %v", lg.summaries[0].Outcomes)
	}
}

// BenchmarkDefaultCampaign measures the wall time of the default 12-trial
// campaign, cold: store start, campaign, store close. Run it with -benchtime 1x.
func BenchmarkDefaultCampaign(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		began := time.Now()
		store, err := local.Start(ctx, local.DefaultConfig(), zap.NewNop())
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		started := time.Since(began)
		path := b.TempDir() + "/results.log"
		w, err := results.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		r := &Runner{Target: store, Sink: w, Log: zap.NewNop(), Config: DefaultConfig()}
		res, err := r.Run(ctx)
		_ = w.Close()
		cerr := store.Close()
		cancel()
		if err != nil || cerr != nil {
			b.Fatalf("run: %v, close: %v", err, cerr)
		}
		if res.Trials != 12 || res.Outcomes[results.OutcomeInconclusive] != 0 {
			b.Fatalf("result %+v", res)
		}
		b.ReportMetric(started.Seconds(), "start-s")
		b.ReportMetric(time.Since(began).Seconds(), "wall-s")
	}
}
