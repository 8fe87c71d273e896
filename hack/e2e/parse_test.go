package e2e

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseLeaders(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    []leaderRow
		wantErr string
	}{
		{name: "real output", out: `store consensus-store (kubernetes target): 3 partitions × 3 replicas
PARTITION  LEADER                 POD/PROCESS          PID  ADDRESS           TERM  FOLLOWERS
1          3 consensus-store-1-3  consensus-cluster-2  -    10.244.0.13:5678  32    1:consensus-cluster-0,2:consensus-cluster-1
2          3 consensus-store-2-3  consensus-cluster-2  -    10.244.0.13:5678  29    1:consensus-cluster-0,2:consensus-cluster-1
`, want: []leaderRow{{1, "consensus-cluster-2", 32}, {2, "consensus-cluster-2", 29}}},
		{name: "election, no followers", out: `PARTITION  LEADER      POD/PROCESS  PID  ADDRESS  TERM  FOLLOWERS
3          (election)  -            -    -        7
`, want: []leaderRow{{3, "-", 7}}},
		{name: "no table", out: "error: no store\n", wantErr: "no leaders table"},
		{name: "foreign pod", out: "PARTITION LEADER POD/PROCESS PID ADDRESS TERM FOLLOWERS\n1 3 other-0 - a:1 2\n", wantErr: "no pod of consensus-cluster"},
		{name: "bad term", out: "PARTITION LEADER POD/PROCESS PID ADDRESS TERM FOLLOWERS\n1 3 consensus-cluster-0 - a:1 x\n", wantErr: "term"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLeaders(tc.out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseDryRunAndExitLine(t *testing.T) {
	pod, p, term, err := parseDryRun("dry run: would kill consensus-cluster-2 (member 3), leader of partition 1 in term 32\n")
	if err != nil || pod != "consensus-cluster-2" || p != 1 || term != 32 {
		t.Fatalf("parseDryRun = %s %d %d %v", pod, p, term, err)
	}
	if _, _, _, err := parseDryRun("killed consensus-cluster-2"); err == nil {
		t.Fatal("a line that is no dry run parsed")
	}
	for line, want := range map[string]int{
		"atomix-failover exited with status 0; results: /app/logs/x.log": 0,
		"atomix-failover exited with status 2; results: /app/logs/x.log": 2,
	} {
		if got, ok := exitStatus(line); !ok || got != want {
			t.Errorf("exitStatus(%q) = %d, %v", line, got, ok)
		}
	}
	if _, ok := exitStatus("2026-11-27T19:21:53Z info campaign trial {}"); ok {
		t.Error("a trial line parsed as the exit line")
	}
}

func TestCampaignDeletions(t *testing.T) {
	log := "2026-11-27T19:21:53.483Z\tinfo\tkubernetes\tpod deletion accepted\t" +
		`{"namespace": "atomix-failover", "partition": 2, "term": 15, "pod": "consensus-cluster-2", "uid": "73a4", "member": 3, "led": {"2":15}}` + "\n" +
		"2026-11-27T19:22:45.687Z\tinfo\tkubernetes\tdry run: would delete pod\t" + `{"partition": 1, "term": 32, "pod": "consensus-cluster-2", "uid": "fe21"}` + "\n"
	got, err := campaignDeletions(log)
	want := []deletionLog{{Partition: 2, Term: 15, Pod: "consensus-cluster-2", UID: "73a4"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v; want %+v (a dry run deletes nothing)", got, err, want)
	}
}

// TestWatcher feeds the watcher a kubectl --output-watch-events stream: a
// leader's pod deleted and replaced, a new leader in a higher term.
func TestWatcher(t *testing.T) {
	w := newWatcher()
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	feed := func(apply func(watchEvent, time.Time) error, ms int, stream string) {
		t.Helper()
		i := 0
		err := decodeEvents(strings.NewReader(stream), func(ev watchEvent, _ time.Time) error {
			i++
			return apply(ev, at(ms+i))
		})
		if err != errStreamEnded {
			t.Fatalf("decodeEvents: %v", err)
		}
	}
	feed(w.applyReplica, 0, `{"type":"ADDED","object":{"metadata":{"name":"consensus-store-1-2","uid":"r"},"spec":{"pod":{"name":"consensus-cluster-1"}}}}
{"type":"ADDED","object":{"metadata":{"name":"consensus-store-1-3","uid":"s","labels":{"raft.atomix.io/pod":"consensus-cluster-2"}},"spec":{}}}`)
	feed(w.applyPartition, 10, `{"type":"ADDED","object":{"metadata":{"name":"consensus-store-1","labels":{"raft.atomix.io/store":"consensus-store"}},
  "spec":{"partitionID":1},"status":{"term":4,"leader":{"name":"consensus-store-1-2"}}}}`)
	feed(w.applyPod, 20, `{"type":"ADDED","object":{"metadata":{"name":"consensus-cluster-1","uid":"u1"},"status":{"conditions":[{"type":"Ready","status":"True"}]}}}`)
	feed(w.applyPod, 100, `{"type":"MODIFIED","object":{"metadata":{"name":"consensus-cluster-1","uid":"u1","deletionTimestamp":"2026-11-27T19:21:53Z"}}}
{"type":"DELETED","object":{"metadata":{"name":"consensus-cluster-1","uid":"u1"}}}
{"type":"ADDED","object":{"metadata":{"name":"consensus-cluster-1","uid":"u2"},"status":{"conditions":[{"type":"Ready","status":"False"}]}}}`)
	feed(w.applyPartition, 200, `{"type":"MODIFIED","object":{"metadata":{"name":"consensus-store-1","labels":{"raft.atomix.io/store":"consensus-store"}},"spec":{"partitionID":1},"status":{"term":5}}}
{"type":"MODIFIED","object":{"metadata":{"name":"consensus-store-1","labels":{"raft.atomix.io/store":"consensus-store"}},"spec":{"partitionID":1},"status":{"term":5,"leader":{"name":"consensus-store-1-3"}}}}
{"type":"MODIFIED","object":{"metadata":{"name":"other-1","labels":{"raft.atomix.io/store":"other"}},"spec":{"partitionID":1},"status":{"term":9,"leader":{"name":"x"}}}}`)
	feed(w.applyPod, 300, `{"type":"MODIFIED","object":{"metadata":{"name":"consensus-cluster-1","uid":"u2"},"status":{"conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"restartCount":1}]}}}`)

	if pod, term, ok := w.leaderAt(1, at(50)); !ok || pod != "consensus-cluster-1" || term != 4 {
		t.Errorf("leaderAt before the kill = %s %d %v", pod, term, ok)
	}
	if _, _, ok := w.leaderAt(1, at(201)); ok {
		t.Error("a leader during the election")
	}
	if _, _, ok := w.leaderAt(2, at(500)); ok {
		t.Error("a leader of a partition never seen")
	}
	if when, pod, ok := w.newLeaderAfter(1, 4, at(101)); !ok || pod != "consensus-cluster-2" || !when.Equal(at(202)) {
		t.Errorf("newLeaderAfter = %v %s %v", when.Sub(t0), pod, ok)
	}
	if _, _, ok := w.newLeaderAfter(1, 5, at(101)); ok {
		t.Error("a new leader after term 5 (the other store's term 9 counted?)")
	}
	if ds := w.deletions(); len(ds) != 1 || ds[0].UID != "u1" || !ds[0].At.Equal(at(101)) {
		t.Errorf("deletions = %+v", ds)
	}
	if when, uid, ok := w.readyAgain("consensus-cluster-1", "u1", at(101)); !ok || uid != "u2" || !when.Equal(at(301)) {
		t.Errorf("readyAgain = %v %s %v", when.Sub(t0), uid, ok)
	}
	if uid := w.uidAt("consensus-cluster-1", at(50)); uid != "u1" {
		t.Errorf("uidAt before the kill = %s", uid)
	}
	if p, _ := w.pod("consensus-cluster-1"); p.UID != "u2" || !p.Ready || p.Restarts != 1 {
		t.Errorf("pod = %+v", p)
	}
	if err := w.applyReplica(watchEvent{Type: "MODIFIED", Object: []byte(`{"metadata":{"name":"consensus-store-1-2"},"spec":{"pod":{"name":"consensus-cluster-0"}}}`)}, at(400)); err == nil {
		t.Error("a replica that moved to another pod was accepted")
	}
	if err := decodeEvents(strings.NewReader(`{"type":`), func(watchEvent, time.Time) error { return nil }); err == nil || err == errStreamEnded {
		t.Errorf("a torn event: %v", err)
	}
}

// TestFindLeftovers builds a fake root with one of each kind of leftover
// (the positive control) and checks an empty one has none.
func TestFindLeftovers(t *testing.T) {
	env := clusterEnv{"CLUSTER_DIR": "/tmp/c", "NETNS_PATH": "/run/netns/n", "BIN": "/cache/bin", "CGROUP_NAME": "cg",
		"CNI_NETWORK": "net", "CNI_RESULTS_DIR": "/var/lib/cni/results", "DEVICE_PLUGIN_SOCK": "/var/lib/kubelet/dp.sock",
		"CONTAINER_LOG_LINKS": "/var/log/containers"}
	empty := t.TempDir()
	for _, d := range []string{"proc/self", "sys/fs/cgroup/cpu", "var/log/containers"} {
		mkdirAll(t, filepath.Join(empty, d))
	}
	write(t, filepath.Join(empty, "proc/self/mountinfo"), "22 1 0:21 / /proc rw - proc proc rw\n")
	if l := findLeftoversIn(empty, env); !l.empty() {
		t.Fatalf("leftovers in an empty root:\n%s", l)
	}

	root := t.TempDir()
	for _, d := range []string{"proc/self", "proc/100", "proc/101", "proc/102", "proc/103", "sys/fs/cgroup/cpu/cg", "tmp/c",
		"run/netns", "var/lib/kubelet", "var/lib/cni/results", "var/log/containers", "cache/bin"} {
		mkdirAll(t, filepath.Join(root, d))
	}
	write(t, filepath.Join(root, "run/netns/n"), "")
	write(t, filepath.Join(root, "var/lib/kubelet/dp.sock"), "")
	write(t, filepath.Join(root, "var/lib/cni/results/net-abc-eth0"), "")
	write(t, filepath.Join(root, "var/lib/cni/results/other-abc-eth0"), "")
	if err := os.Symlink("/tmp/c/kubelet/pods/x/0.log", filepath.Join(root, "var/log/containers/x.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/var/log/pods/y/0.log", filepath.Join(root, "var/log/containers/y.log")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "proc/self/mountinfo"), "22 1 0:21 / /proc rw - proc proc rw\n"+
		`40 1 0:4 net:[1] /run/netns/n rw - nsfs nsfs rw`+"\n"+`41 1 0:30 / /tmp/c/kubelet/pods/x/volumes/a\040b rw - tmpfs tmpfs rw`+"\n")
	if err := os.Symlink("/cache/bin/etcd", filepath.Join(root, "proc/100/exe")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "proc/101/cmdline"), "containerd-shim-runc-v2\x00-address\x00/tmp/c/containerd/containerd.sock\x00")
	write(t, filepath.Join(root, "proc/102/cgroup"), "4:cpu:/cg/pod1/abc\n")
	write(t, filepath.Join(root, "proc/102/status"), "Name:\tsleep\nState:\tZ (zombie)\nPid:\t102\n")
	write(t, filepath.Join(root, "proc/103/cmdline"), "bash\x00-c\x00/tmp/cluster-other\x00")
	got := findLeftoversIn(root, env)
	want := leftovers{
		"namespace": {"/run/netns/n"},
		"process":   {"100 (?) runs /cache/bin/etcd", "101 (?) names the cluster dir: containerd-shim-runc-v2 -address /tmp/c/containerd/containerd.sock", "102 (Z (zombie)) in the cluster's cgroup: "},
		"mount":     {"/run/netns/n", "/tmp/c/kubelet/pods/x/volumes/a b"},
		"cgroup":    {"/sys/fs/cgroup/cpu/cg"},
		"path":      {"/tmp/c", "/var/lib/kubelet/dp.sock", "/var/lib/cni/results/net-abc-eth0", "/var/log/containers/x.log -> /tmp/c/kubelet/pods/x/0.log"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("leftovers:\n%s\nwant:\n%s", got, want)
	}
}

func mkdirAll(t *testing.T, d string) {
	t.Helper()
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
