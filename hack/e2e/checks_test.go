package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// outcomes are the verdicts a trial can have (DESIGN.md, outcome classes).
var outcomes = []string{"durable", "lost", "indeterminate_applied", "indeterminate_absent", "inconclusive"}

// trialNumbers are one trial's times after the kill was sent: what the
// watcher saw (pod gone, new leader in the RaftPartition, replacement pod
// ready) beside what the tool measured (election, recovery = first write).
type trialNumbers struct {
	Trial        int           `json:"trial"`
	Scenario     string        `json:"scenario"`
	Partition    int           `json:"partition"`
	Victim       string        `json:"victim"`
	Outcome      string        `json:"outcome"`
	PodGone      time.Duration `json:"pod_gone_ns"`
	NewLeader    time.Duration `json:"new_leader_ns"`
	FirstOK      time.Duration `json:"first_ok_ns"`
	PodBack      time.Duration `json:"pod_back_ns"`
	ToolElection time.Duration `json:"tool_election_ns"`
	ToolRecovery time.Duration `json:"tool_recovery_ns"`
}

// checkCampaign asserts what a campaign must show and returns the
// per-trial numbers: every trial has a verdict and none lost a write; every
// kill deleted the pod the watcher saw leading the trial's partition, the
// one the campaign says it deleted; every deleted pod came back. It adds
// the deleted pods' UIDs to killed.
func checkCampaign(t *testing.T, log resultsLog, a analysis, console string, w *watcher, killed map[string]bool) []trialNumbers {
	t.Helper()
	if log.Header.Target != "kubernetes" || log.Header.Store != store {
		t.Errorf("run header: target %q store %q", log.Header.Target, log.Header.Store)
	}
	if dp := log.Header.Versions["data-path"]; dp == "" {
		t.Errorf("run header: no data-path in versions %v", log.Header.Versions)
	} else {
		t.Logf("data path: %s", dp)
	}
	if log.Summary == nil {
		t.Fatal("results log: no summary record")
	}
	r := a.Reports[0]
	if len(log.Trials) == 0 || r.Trials != len(log.Trials) || log.Summary.Trials != len(log.Trials) {
		t.Errorf("trials: %d in the log, %d in the summary, %d in the report", len(log.Trials), log.Summary.Trials, r.Trials)
	}
	for _, tr := range log.Trials {
		if !slices.Contains(outcomes, tr.Outcome) {
			t.Errorf("trial %d: outcome %q is no verdict", tr.Trial, tr.Outcome)
		}
	}
	if r.Outcomes["lost"] != 0 || r.Final.Lost != 0 || log.Summary.FinalRead == nil || log.Summary.FinalRead.Lost != 0 {
		t.Errorf("lost writes: %d trials, final read %d lost (report), %+v (summary)", r.Outcomes["lost"], r.Final.Lost, log.Summary.FinalRead)
	}
	deleted, err := campaignDeletions(console)
	if err != nil {
		t.Fatal(err)
	}
	var ns []trialNumbers
	for _, tr := range log.Trials {
		sent, ok := tr.at(tr.T.KillSent)
		if !ok {
			continue
		}
		n, uid, err := checkKill(tr, sent, deleted, w)
		if err != nil {
			t.Errorf("trial %d (%s, partition %d): %v", tr.Trial, tr.Scenario, tr.Partition, err)
			continue
		}
		killed[uid] = true
		ns = append(ns, n)
	}
	if len(ns) == 0 {
		t.Error("no trial killed a leader")
	}
	return ns
}

// checkOnlyKillsDeleted asserts that every pod deletion the watcher saw in
// the namespace was a trial's kill.
func checkOnlyKillsDeleted(t *testing.T, w *watcher, killed map[string]bool) {
	t.Helper()
	for _, d := range w.deletions() {
		if !killed[d.UID] {
			t.Errorf("pod %s (UID %s) was deleted at %s, but no trial killed it", d.Name, d.UID, d.At.Format(time.RFC3339Nano))
		}
	}
}

// checkWorkload asserts that a campaign under load gave every trial a
// verdict of the re-check and lost no write; violations and stale reads are
// findings about the store, logged, not failures of the tool.
func checkWorkload(t *testing.T, log resultsLog, a analysis) {
	t.Helper()
	if len(a.Reports[0].Workload) != 1 {
		t.Fatalf("report: %d workload sections, want 1", len(a.Reports[0].Workload))
	}
	wl := a.Reports[0].Workload[0]
	if wl.HistoryStatus != "analyzed" || !wl.Rechecked {
		t.Errorf("history %q, rechecked %v: want analyzed and re-checked", wl.HistoryStatus, wl.Rechecked)
	}
	verdicts := 0
	for _, n := range wl.Verdicts {
		verdicts += n
	}
	if verdicts != len(log.Trials) || wl.Verdicts["unknown"] != 0 {
		t.Errorf("verdicts %v for %d trials: want one each, none unknown", wl.Verdicts, len(log.Trials))
	}
	lost := 0
	for _, sc := range wl.Scenarios {
		lost += sc.LostWrites
	}
	if lost != 0 || wl.Recorded.LostWrites != 0 {
		t.Errorf("lost workload writes: %d re-checked, %d recorded", lost, wl.Recorded.LostWrites)
	}
	t.Logf("workload: %d operations (%d ok), verdicts %v, stale reads %d, violations %d",
		wl.Recorded.Ops, wl.Recorded.OK, wl.Verdicts, wl.Recorded.StaleReads, wl.Recorded.Violations)
}

// checkKill matches one trial's kill with the campaign's deletion line and
// the watcher's observations.
func checkKill(tr trialRecord, sent time.Time, deleted []deletionLog, w *watcher) (trialNumbers, string, error) {
	n := trialNumbers{Trial: tr.Trial, Scenario: tr.Scenario, Partition: tr.Partition, Outcome: tr.Outcome}
	if tr.LeaderBefore == nil || tr.LeaderBefore.Pod == "" {
		return n, "", fmt.Errorf("a kill without leader_before")
	}
	n.Victim = tr.LeaderBefore.Pod
	var d *deletionLog
	for i := range deleted {
		if deleted[i].Partition == tr.Partition && deleted[i].Term == tr.LeaderBefore.Term && deleted[i].Pod == n.Victim {
			d = &deleted[i]
		}
	}
	if d == nil {
		return n, "", fmt.Errorf("no 'pod deletion accepted' line for pod %s in term %d", n.Victim, tr.LeaderBefore.Term)
	}
	var gone time.Time
	for _, x := range w.deletions() {
		if x.UID == d.UID {
			gone = x.At
		}
	}
	if gone.IsZero() {
		return n, "", fmt.Errorf("the watcher never saw pod %s (UID %s) deleted", d.Pod, d.UID)
	}
	if w.uidAt(d.Pod, sent) != d.UID {
		return n, "", fmt.Errorf("pod %s had UID %s when the kill was sent, the campaign deleted %s", d.Pod, w.uidAt(d.Pod, sent), d.UID)
	}
	before := sent
	if gone.Before(before) {
		before = gone
	}
	pod, term, ok := w.leaderAt(tr.Partition, before)
	if !ok || pod != n.Victim || term != tr.LeaderBefore.Term {
		return n, "", fmt.Errorf("killed %s in term %d, but the watcher saw partition %d led by %q in term %d", n.Victim, tr.LeaderBefore.Term, tr.Partition, pod, term)
	}
	n.PodGone = gone.Sub(sent)
	if at, _, ok := w.newLeaderAfter(tr.Partition, tr.LeaderBefore.Term, sent); ok {
		n.NewLeader = at.Sub(sent)
	} else {
		return n, "", fmt.Errorf("the watcher saw no new leader of partition %d after term %d", tr.Partition, tr.LeaderBefore.Term)
	}
	back, _, ok := w.readyAgain(d.Pod, d.UID, gone)
	if !ok {
		return n, "", fmt.Errorf("deleted pod %s never came back ready", d.Pod)
	}
	n.PodBack = back.Sub(sent)
	if at, ok := tr.at(tr.T.FirstOK); ok {
		n.FirstOK = at.Sub(sent)
	}
	if tr.ElectionNS != nil {
		n.ToolElection = time.Duration(*tr.ElectionNS)
	}
	if tr.RecoveryNS != nil {
		n.ToolRecovery = time.Duration(*tr.RecoveryNS)
	}
	return n, d.UID, nil
}

// checkBystander asserts the bystander pod lived through the campaign.
func checkBystander(t *testing.T, w *watcher, uid string) {
	t.Helper()
	for _, d := range w.deletions() {
		if d.Name == bystanderPod {
			t.Errorf("bystander pod deleted at %s", d.At.Format(time.RFC3339Nano))
		}
	}
	p, ok := w.pod(bystanderPod)
	if !ok || p.UID != uid || !p.Ready || p.Restarts != 0 {
		t.Errorf("bystander pod at the end: %+v, want UID %s, ready, no restarts", p, uid)
	}
}

// numbers are the run's measurements, printed and written beside the artifacts.
type numbers struct {
	Build     time.Duration  `json:"cluster_build_ns"`
	Up        time.Duration  `json:"cluster_up_ns"`
	Image     time.Duration  `json:"image_build_and_load_ns"`
	RunScript time.Duration  `json:"run_sh_ns"`
	Campaign  time.Duration  `json:"campaign_ns"`
	Down      time.Duration  `json:"cluster_down_ns"`
	Trials    []trialNumbers `json:"trials"`
	// LoadCampaign and LoadTrials are the kill-under-load campaign's.
	LoadCampaign time.Duration  `json:"load_campaign_ns"`
	LoadTrials   []trialNumbers `json:"load_trials"`
}

// report logs the numbers as a table and writes them to numbers.json.
func (n numbers) report(t *testing.T, dir string) {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster build %s, cluster up %s, image build+load %s, run.sh %s, campaign %s, campaign under load %s, cluster down %s\n",
		r(n.Build), r(n.Up), r(n.Image), r(n.RunScript), r(n.Campaign), r(n.LoadCampaign), r(n.Down))
	fmt.Fprintf(&b, "%-5s %-20s %-4s %-20s %-8s %9s %10s %9s %9s %13s %13s\n", "trial", "scenario", "part", "victim", "outcome",
		"pod gone", "new leader", "first ok", "pod back", "tool election", "tool recovery")
	for _, x := range append(append([]trialNumbers(nil), n.Trials...), n.LoadTrials...) {
		fmt.Fprintf(&b, "%-5d %-20s %-4d %-20s %-8s %9s %10s %9s %9s %13s %13s\n", x.Trial, x.Scenario, x.Partition, x.Victim, x.Outcome,
			r(x.PodGone), r(x.NewLeader), r(x.FirstOK), r(x.PodBack), r(x.ToolElection), r(x.ToolRecovery))
	}
	b.WriteString("(times after the kill was sent; pod gone, new leader and pod back as the test's own watcher saw them)\n")
	t.Logf("numbers:\n%s", b.String())
	raw, _ := json.MarshalIndent(n, "", "  ")
	_ = os.WriteFile(filepath.Join(dir, "numbers.json"), raw, 0o644)
	_ = os.WriteFile(filepath.Join(dir, "numbers.txt"), []byte(b.String()), 0o644)
}

func r(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Millisecond).String()
}
