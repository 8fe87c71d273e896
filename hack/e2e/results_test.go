package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// runHeader is the part of a results log's run record the test reads.
type runHeader struct {
	RunID     string            `json:"run_id"`
	StartedAt string            `json:"started_at"`
	History   string            `json:"history"`
	Target    string            `json:"target"`
	Store     string            `json:"store"`
	Versions  map[string]string `json:"versions"`
	Config    struct {
		Scenarios []string `json:"scenarios"`
		Repeat    int      `json:"repeat"`
	} `json:"config"`
}

// trialRecord is the part of a trial record the test reads.
type trialRecord struct {
	Trial        int    `json:"trial"`
	Scenario     string `json:"scenario"`
	Partition    int    `json:"partition"`
	StartedAt    string `json:"started_at"`
	Outcome      string `json:"outcome"`
	LeaderBefore *struct {
		Member uint64 `json:"member"`
		Pod    string `json:"pod"`
		Term   uint64 `json:"term"`
	} `json:"leader_before"`
	T struct {
		KillSent   *int64 `json:"kill_sent"`
		KillDone   *int64 `json:"kill_done"`
		NewLeader  *int64 `json:"new_leader"`
		FirstOK    *int64 `json:"first_ok"`
		VictimBack *int64 `json:"victim_back"`
	} `json:"t"`
	ElectionNS *int64 `json:"election_ns"`
	RecoveryNS *int64 `json:"recovery_ns"`
}

// at is the wall-clock time of a trial offset (ns since started_at).
func (r trialRecord) at(offset *int64) (time.Time, bool) {
	if offset == nil {
		return time.Time{}, false
	}
	start, err := time.Parse(time.RFC3339Nano, r.StartedAt)
	if err != nil {
		return time.Time{}, false
	}
	return start.Add(time.Duration(*offset)), true
}

type summaryRecord struct {
	Trials    int `json:"trials"`
	FinalRead *struct {
		Keys int `json:"keys"`
		OK   int `json:"ok"`
		Lost int `json:"lost"`
	} `json:"final_read"`
	EndedAt string `json:"ended_at"`
}

// resultsLog is a parsed results log of one run.
type resultsLog struct {
	Header  runHeader
	Trials  []trialRecord
	Summary *summaryRecord
}

func readResults(path string) (resultsLog, error) {
	f, err := os.Open(path)
	if err != nil {
		return resultsLog{}, err
	}
	defer f.Close()
	var l resultsLog
	runs := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var typ struct {
			Type string `json:"type"`
		}
		line := sc.Bytes()
		if err := json.Unmarshal(line, &typ); err != nil {
			return l, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		switch typ.Type {
		case "run":
			runs++
			err = json.Unmarshal(line, &l.Header)
		case "trial":
			var t trialRecord
			err = json.Unmarshal(line, &t)
			l.Trials = append(l.Trials, t)
		case "summary":
			l.Summary = &summaryRecord{}
			err = json.Unmarshal(line, l.Summary)
		}
		if err != nil {
			return l, fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return l, err
	}
	if runs != 1 {
		return l, fmt.Errorf("%s: %d runs, want one", path, runs)
	}
	return l, nil
}

// wall is how long the campaign ran, from its header to its summary.
func (l resultsLog) wall() time.Duration {
	if l.Summary == nil {
		return 0
	}
	start, err1 := time.Parse(time.RFC3339Nano, l.Header.StartedAt)
	end, err2 := time.Parse(time.RFC3339Nano, l.Summary.EndedAt)
	if err1 != nil || err2 != nil {
		return 0
	}
	return end.Sub(start)
}

// analysis is the part of analyze-results.go --format json the test reads.
type analysis struct {
	Reports []struct {
		Trials   int            `json:"trials"`
		Outcomes map[string]int `json:"outcomes"`
		Final    struct {
			Keys int `json:"keys"`
			Lost int `json:"lost"`
		} `json:"final_read"`
		Workload []workloadReport `json:"workload"`
	} `json:"reports"`
}

// workloadReport is the part of a run's workload section the test reads.
type workloadReport struct {
	HistoryStatus string         `json:"history_status"`
	Rechecked     bool           `json:"rechecked"`
	Verdicts      map[string]int `json:"verdicts"`
	Recorded      struct {
		Ops        int `json:"ops"`
		OK         int `json:"ok"`
		Violations int `json:"violations"`
		StaleReads int `json:"stale_reads"`
		LostWrites int `json:"lost_writes"`
	} `json:"recorded_summary"`
	Scenarios []struct {
		LostWrites int `json:"lost_writes"`
	} `json:"scenarios"`
}

// deletionLog is one "pod deletion accepted" line of the campaign's log.
type deletionLog struct {
	Partition int    `json:"partition"`
	Term      uint64 `json:"term"`
	Pod       string `json:"pod"`
	UID       string `json:"uid"`
}

// campaignDeletions reads the pods the campaign says it deleted from its
// console log (zap console lines: time, level, logger, message, JSON fields).
func campaignDeletions(consoleLog string) ([]deletionLog, error) {
	var ds []deletionLog
	for _, line := range strings.Split(consoleLog, "\n") {
		if !strings.Contains(line, "\tpod deletion accepted\t") {
			continue
		}
		var d deletionLog
		if err := json.Unmarshal([]byte(line[strings.Index(line, "{"):]), &d); err != nil {
			return nil, fmt.Errorf("campaign log line %q: %w", line, err)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

var exitLine = regexp.MustCompile(regexp.QuoteMeta(exitLinePrefix) + `(\d+)`)

// exitStatus finds the Deployment wrapper's exit line in a log line.
func exitStatus(line string) (int, bool) {
	m := exitLine.FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// leaderRow is one partition of `atomix-failover leaders`.
type leaderRow struct {
	Partition int
	Pod       string // "-" during an election
	Term      uint64
}

var raftPod = regexp.MustCompile(`^` + raftCluster + `-\d+$`)

// parseLeaders reads the table `atomix-failover leaders` prints:
// PARTITION LEADER POD/PROCESS PID ADDRESS TERM FOLLOWERS, where LEADER is
// "ID NAME" or "(election)" and FOLLOWERS may be empty; the pod column is
// found by the store's pod names.
func parseLeaders(out string) ([]leaderRow, error) {
	var rows []leaderRow
	header := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case f[0] == "PARTITION":
			header = true
			continue
		case !header:
			continue
		}
		p, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("leaders row %q: partition: %w", line, err)
		}
		pod := -1
		for i := 1; i < len(f); i++ {
			if raftPod.MatchString(f[i]) || (f[1] == "(election)" && i == 2) {
				pod = i
				break
			}
		}
		if pod < 0 || pod+3 >= len(f) {
			return nil, fmt.Errorf("leaders row %q: no pod of %s", line, raftCluster)
		}
		term, err := strconv.ParseUint(f[pod+3], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("leaders row %q: term: %w", line, err)
		}
		rows = append(rows, leaderRow{Partition: p, Pod: f[pod], Term: term})
	}
	if !header {
		return nil, fmt.Errorf("no leaders table in %q", out)
	}
	return rows, nil
}

var dryRunLine = regexp.MustCompile(`dry run: would kill (\S+) \(member (\d+)\), leader of partition (\d+) in term (\d+)`)

// parseDryRun reads `kill-leader --dry-run`'s line: the pod and term.
func parseDryRun(out string) (pod string, partition int, term uint64, err error) {
	m := dryRunLine.FindStringSubmatch(out)
	if m == nil {
		return "", 0, 0, fmt.Errorf("no dry-run line in %q", out)
	}
	partition, _ = strconv.Atoi(m[3])
	term, _ = strconv.ParseUint(m[4], 10, 64)
	return m[1], partition, term, nil
}
