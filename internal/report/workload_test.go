package report

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atomix-failover/atomix-failover/internal/results"
)

// fileLines reads path's lines.
func fileLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// workloadCopy copies the workload fixture to a temporary directory, the
// history written by history (nil: left out), and returns the log's path.
func workloadCopy(t *testing.T, log []string, history func([]string) string) string {
	t.Helper()
	dir := t.TempDir()
	if history != nil {
		if err := os.WriteFile(filepath.Join(dir, "workload.history.ndjson"), []byte(history(fileLines(t, workloadHistory))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "workload.ndjson")
	if err := os.WriteFile(path, []byte(lines(log...)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func wholeHistory(ls []string) string { return lines(ls...) }

// writeWorkloadRun writes a history h.jsonl and a results log to a
// temporary directory and returns the log's path.
func writeWorkloadRun(t *testing.T, hist, log string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "h.jsonl"), []byte(hist), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// analyzeWorkload analyzes the log at path and returns its only run's workload.
func analyzeWorkload(t *testing.T, path string, opts Options) (*Analysis, *RunWorkload) {
	t.Helper()
	a, err := Analyze([]Input{{Name: path, R: mustOpen(t, path), Dir: filepath.Dir(path)}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Reports) != 1 || len(a.Reports[0].Workload) != 1 {
		t.Fatalf("%d reports; want one with one workload", len(a.Reports))
	}
	return a, &a.Reports[0].Workload[0]
}

// The fixture's numbers, from testdata/genfixture/workload.go: faults at
// 200 ms after each trial's start; recovered at the first ok (650, 560 ms)
// or, without one, at the heal (600 ms); the lost write 5 ms old.
func TestWorkloadFixtureNumbers(t *testing.T) {
	a, w := analyzeWorkload(t, workloadFixture, Options{})
	if a.WarningCount != 0 || w.HistoryStatus != HistoryAnalyzed || w.HistoryOps != 365 || w.HistoryFaults != 4 {
		t.Fatalf("warnings %v, history %s %d ops %d faults", a.Warnings, w.HistoryStatus, w.HistoryOps, w.HistoryFaults)
	}
	want := []struct {
		verdict     string
		stale, lost int
		recovered   float64
		by          string
	}{
		{results.VerdictViolation, 0, 1, 650, RecoveredFirstOK},
		{results.VerdictLinearizable, 0, 0, 560, RecoveredFirstOK},
		{results.VerdictViolation, 1, 0, 600, RecoveredHeal},
	}
	for i, wt := range w.Trials {
		x := want[i]
		if wt.Verdict != x.verdict || wt.VerdictSource != SourceRecheck || wt.RecordedVerdict != x.verdict || wt.StaleReads != x.stale ||
			wt.LostWrites != x.lost || wt.FaultStart != 200 || float64(wt.Recovered) != x.recovered || wt.RecoveredBy != x.by {
			t.Errorf("trial %d: %+v", wt.Trial, wt)
		}
		ws := wt.Windows
		if ws.Before.Ops+ws.During.Ops+ws.After.Ops != ws.All.Ops || ws.All.Ops != wt.Ops || wt.Clients != 3 {
			t.Errorf("trial %d: windows %+v do not add up to %d ops", wt.Trial, ws, wt.Ops)
		}
	}
	if l := w.Trials[0].Lost; len(l) != 1 || l[0].AgeMS != 5 || l[0].Source != "both" || w.Trials[0].LostByAge.To10 != 1 {
		t.Errorf("lost writes %+v, bins %+v", l, w.Trials[0].LostByAge)
	}
	if a.Violations() != 2 || a.WorkloadLost() != 1 {
		t.Errorf("violations %d, lost %d; want 2 and 1", a.Violations(), a.WorkloadLost())
	}
}

func TestWorkloadTornHistory(t *testing.T) {
	path := workloadCopy(t, fileLines(t, workloadFixture), func(ls []string) string {
		last := ls[len(ls)-1]
		return lines(append(append(append([]string{}, ls[:10]...), `{"type":"op","run_id":`), ls[10:len(ls)-1]...)...) + last[:len(last)/2]
	})
	a, w := analyzeWorkload(t, path, Options{})
	hist := filepath.Join(filepath.Dir(path), "workload.history.ndjson")
	if !hasWarning(a, hist+":11: malformed record") || !hasWarning(a, hist+":370: torn last line") {
		t.Errorf("warnings %v", a.Warnings)
	}
	if w.HistoryStatus != HistoryAnalyzed || w.HistoryOps != 364 || w.HistoryWarnings != 2 {
		t.Errorf("history %s, %d ops, %d warnings", w.HistoryStatus, w.HistoryOps, w.HistoryWarnings)
	}
	if w.Trials[2].Verdict != results.VerdictViolation || w.Trials[1].Verdict != results.VerdictLinearizable {
		t.Errorf("the rest was not analyzed: %+v", w.Verdicts)
	}
}

func TestWorkloadMissingHistory(t *testing.T) {
	path := workloadCopy(t, fileLines(t, workloadFixture), nil)
	a, w := analyzeWorkload(t, path, Options{})
	hist := filepath.Join(filepath.Dir(path), "workload.history.ndjson")
	if !hasWarning(a, "history log "+hist+" not available") || w.HistoryStatus != HistoryNotAvailable {
		t.Fatalf("warnings %v, status %s", a.Warnings, w.HistoryStatus)
	}
	for _, wt := range w.Trials {
		if wt.VerdictSource != SourceRecorded || wt.Verdict != wt.RecordedVerdict || wt.Ops != 0 || wt.Windows.All.Throughput.OK() {
			t.Errorf("trial %d: %+v", wt.Trial, wt)
		}
	}
	if a.Violations() != 2 || a.WorkloadLost() != 1 {
		t.Errorf("recorded checks must still count: violations %d, lost %d", a.Violations(), a.WorkloadLost())
	}
	var out bytes.Buffer
	if err := WriteText(&out, a); err != nil || !strings.Contains(out.String(), "history not available") {
		t.Errorf("text report (%v) does not say the history is not available", err)
	}
}

// A trial without a check record or a history: unknown, never linearizable.
func TestWorkloadNoCheckNoHistory(t *testing.T) {
	log := fileLines(t, workloadFixture)
	path := workloadCopy(t, []string{log[0], log[1]}, nil)
	_, w := analyzeWorkload(t, path, Options{})
	if wt := w.Trials[0]; wt.Verdict != results.VerdictUnknown || wt.VerdictSource != SourceNone || wt.Reason != ReasonNoHistory {
		t.Errorf("%+v", wt)
	}
}

func TestWorkloadRecheckDisagreement(t *testing.T) {
	log := fileLines(t, workloadFixture)
	for i, l := range log {
		if strings.Contains(l, `"type":"check"`) && strings.Contains(l, `"trial":3`) {
			log[i] = strings.Replace(strings.Replace(l, `"verdict":"violation"`, `"verdict":"linearizable"`, 1), `"stale_reads":1`, `"stale_reads":0`, 1)
		}
	}
	a, w := analyzeWorkload(t, workloadCopy(t, log, wholeHistory), Options{})
	if !hasWarning(a, "trial 3: the re-check disagrees with the recorded check: verdict violation (recorded linearizable); 1 stale reads (recorded 0)") {
		t.Errorf("warnings %v", a.Warnings)
	}
	if wt := w.Trials[2]; wt.Verdict != results.VerdictViolation || !wt.CountsAsViolation {
		t.Errorf("trial 3 %+v", wt)
	}
}

func TestWorkloadHistoryTooLarge(t *testing.T) {
	a, w := analyzeWorkload(t, workloadFixture, Options{MaxHistoryOps: 100})
	if w.HistoryStatus != HistoryTooLarge || !hasWarning(a, "more than 100 operations") {
		t.Fatalf("status %s, warnings %v", w.HistoryStatus, a.Warnings)
	}
	for _, wt := range w.Trials {
		if wt.Verdict != results.VerdictUnknown || wt.Reason != ReasonHistoryTooLarge || wt.Ops != 0 {
			t.Errorf("trial %d: %+v", wt.Trial, wt)
		}
	}
	if a.Violations() != 2 {
		t.Errorf("the recorded violations must still count: %d", a.Violations())
	}
}

func TestWorkloadCheckTimeoutIsUnknown(t *testing.T) {
	a, w := analyzeWorkload(t, workloadFixture, Options{CheckTimeout: time.Nanosecond})
	for _, wt := range w.Trials {
		if wt.Verdict != results.VerdictUnknown || !strings.Contains(wt.Reason, "timeout") {
			t.Errorf("trial %d: %s (%s), want unknown (timeout)", wt.Trial, wt.Verdict, wt.Reason)
		}
	}
	if !hasWarning(a, "trial 2: the re-check disagrees with the recorded check: verdict unknown: timeout") {
		t.Errorf("warnings %v", a.Warnings)
	}
}

func TestWorkloadNoRecheck(t *testing.T) {
	_, w := analyzeWorkload(t, workloadFixture, Options{NoRecheck: true})
	if w.Rechecked || w.HistoryStatus != HistoryAnalyzed {
		t.Fatalf("rechecked %t, status %s", w.Rechecked, w.HistoryStatus)
	}
	for _, wt := range w.Trials {
		if wt.VerdictSource != SourceRecorded || wt.RecheckVerdict != "" || wt.Ops == 0 {
			t.Errorf("trial %d: %+v", wt.Trial, wt)
		}
	}
}

// A small clean workload run: no violation, no lost write, exit 0.
func TestWorkloadCleanRun(t *testing.T) {
	hist := lines(
		`{"type":"op","run_id":"c","trial":1,"client":"c1","op":"put","key":"k","value":"a","version":3,"invoke_ns":100,"complete_ns":200,"status":"ok"}`,
		`{"type":"fault","run_id":"c","trial":1,"fault":"kill","target":"n1","start_ns":250,"end_ns":260}`,
		`{"type":"op","run_id":"c","trial":1,"client":"c2","op":"get","key":"k","read":"a","version":3,"invoke_ns":300,"complete_ns":400,"status":"ok"}`,
		`{"type":"op","run_id":"c","trial":1,"client":"final","op":"get","key":"k","read":"a","version":3,"invoke_ns":900,"complete_ns":950,"status":"ok"}`,
	)
	log := writeWorkloadRun(t, hist, lines(`{"type":"run","run_id":"c","schema":2,"history":"h.jsonl","workload":{"clients":2}}`,
		`{"type":"trial","run_id":"c","trial":1,"scenario":"kill-under-load","clock_ns":0,"t":{"kill_sent":250,"first_ok":400},"write":{"status":"ok"},"verify":{"status":"ok"},"outcome":"durable"}`,
		`{"type":"check","run_id":"c","trial":1,"scenario":"kill-under-load","verdict":"linearizable","ops":2,"keys":1,"stale_reads":0,"check_ns":1}`))
	var out, errOut bytes.Buffer
	res, err := Execute(Config{Logs: []string{log}}, nil, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if res.Violations != 0 || res.WorkloadLost != 0 || res.Lost != 0 || res.Warnings != 0 {
		t.Errorf("result %+v; stderr %s", res, errOut.String())
	}
	if !strings.Contains(out.String(), "linearizable 1, violation 0, unknown 0") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestWorkloadExecuteResult(t *testing.T) {
	var out, errOut bytes.Buffer
	res, err := Execute(Config{Logs: []string{workloadFixture}, Format: "csv"}, nil, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if res.Violations != 2 || res.WorkloadLost != 1 || res.Lost != 0 {
		t.Errorf("result %+v", res)
	}
	for _, want := range []string{"workload violation: run 20261210T100000Z-local-s11 trial 3", `workload lost write: run 20261210T100000Z-local-s11 trial 1 key "wl/wo-c1-lost" age 5.00 ms`} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || len(rows[0]) != len(CSVColumns)+len(WorkloadCSVColumns) || len(rows[1]) != len(rows[0]) {
		t.Fatalf("%d rows of %d columns", len(rows), len(rows[0]))
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	if r := rows[1]; r[col["workload_verdict"]] != "violation" || r[col["lost_0_10ms"]] != "1" || r[col["recovered_ns"]] != "650000000" || r[col["fault_start_ns"]] != "200000000" {
		t.Errorf("trial 1 row %v", r)
	}
}

// A CSV whose first trial has no workload keeps its columns and says which runs lack them.
func TestWorkloadCSVNarrow(t *testing.T) {
	var out, errOut bytes.Buffer
	if _, err := Execute(Config{Logs: []string{fixtureV2, workloadFixture}, Format: "csv"}, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	header := strings.SplitN(out.String(), "\n", 2)[0]
	if header != strings.Join(CSVColumns, ",") || !strings.Contains(errOut.String(), "run 20261210T100000Z-local-s11 has a workload, but the CSV's first trial had none") {
		t.Errorf("header %q; stderr %s", header, errOut.String())
	}
}

// Links to the visualizations are relative to the report file.
func TestWorkloadLinks(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sub", "report.json")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Analyze([]Input{{Name: workloadFixture, R: mustOpen(t, workloadFixture), Dir: abs}}, Options{LinkDir: filepath.Dir(out)})
	if err != nil {
		t.Fatal(err)
	}
	link := a.Reports[0].Workload[0].Trials[2].Visualization
	target := filepath.Join(filepath.Dir(out), filepath.FromSlash(link))
	if filepath.IsAbs(link) || target != filepath.Join(abs, "workload.20261210T100000Z-local-s11.trial-3.wl_hot-p2-0.html") {
		t.Errorf("link %q resolves to %q", link, target)
	}
}

// A violation the check records do not visualize is visualized by the
// re-check beside the report file, and linked.
func TestWorkloadRecheckVisualizes(t *testing.T) {
	log := fileLines(t, workloadFixture)
	for i, l := range log {
		if strings.Contains(l, `"type":"check"`) {
			log[i] = regexp.MustCompile(`,"visualization":"[^"]*"`).ReplaceAllString(l, "")
		}
	}
	path := workloadCopy(t, log, wholeHistory)
	out := filepath.Join(t.TempDir(), "report.html")
	var stdout, stderr bytes.Buffer
	if _, err := Execute(Config{Logs: []string{path}, Format: "html", Out: out}, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	report, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"20261210T100000Z-local-s11.trial-1.wl_wo-c1-lost.html", "20261210T100000Z-local-s11.trial-3.wl_hot-p2-0.html"} {
		viz, err := os.ReadFile(filepath.Join(filepath.Dir(out), name))
		if err != nil || !bytes.Contains(viz, []byte("<html")) {
			t.Errorf("visualization %s: %v", name, err)
		}
		if !bytes.Contains(report, []byte(`href="`+name+`"`)) {
			t.Errorf("the report does not link %s", name)
		}
	}
	// Without a directory to write to, a warning.
	a, _ := analyzeWorkload(t, path, Options{VisualizationDir: filepath.Join(t.TempDir(), "absent")})
	if !hasWarning(a, "trial 3: writing the visualization of trial 3") {
		t.Errorf("warnings %v", a.Warnings)
	}
}
