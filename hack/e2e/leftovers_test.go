package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// leftovers is what of a cluster exists, by kind: process, mount,
// namespace, cgroup, path.
type leftovers map[string][]string

func (l leftovers) empty() bool {
	for _, v := range l {
		if len(v) > 0 {
			return false
		}
	}
	return true
}

func (l leftovers) String() string {
	kinds := make([]string, 0, len(l))
	for k := range l {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	for _, k := range kinds {
		for _, v := range l[k] {
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
	}
	return b.String()
}

// findLeftovers looks, from /proc, /sys/fs/cgroup and the file system, for
// anything of the cluster env describes: processes running its binaries or
// naming its directory, in its cgroup or its network namespace; mounts under
// its directory or of its namespace; the namespace; its cgroups; its
// directory, and the files it leaves in the fixed paths (REAL-CLUSTER.md).
func findLeftovers(env clusterEnv) leftovers {
	return findLeftoversIn("/", env)
}

// findLeftoversIn is findLeftovers with /proc, /sys and the fixed paths
// under root (a test's fake tree).
func findLeftoversIn(root string, env clusterEnv) leftovers {
	at := func(p string) string { return filepath.Join(root, p) }
	dir := env["CLUSTER_DIR"]
	l := leftovers{}
	add := func(kind, what string) { l[kind] = append(l[kind], what) }

	netnsInode := ""
	if fi, err := os.Stat(at(env["NETNS_PATH"])); err == nil {
		add("namespace", env["NETNS_PATH"])
		netnsInode = inode(fi)
	}
	self := strconv.Itoa(os.Getpid())
	procs, _ := os.ReadDir(at("/proc"))
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil || (root == "/" && p.Name() == self) {
			continue
		}
		dir := at(filepath.Join("/proc", p.Name()))
		if why := clusterProcess(dir, env, netnsInode); why != "" {
			add("process", fmt.Sprintf("%s (%s) %s", p.Name(), processState(dir), why))
		}
	}
	for _, m := range mountPoints(at("/proc/self/mountinfo")) {
		if m == env["NETNS_PATH"] || m == dir || strings.HasPrefix(m, dir+"/") {
			add("mount", m)
		}
	}
	cgroups, _ := filepath.Glob(at("/sys/fs/cgroup/*/" + env["CGROUP_NAME"]))
	if _, err := os.Stat(at("/sys/fs/cgroup/" + env["CGROUP_NAME"])); err == nil {
		cgroups = append(cgroups, at("/sys/fs/cgroup/"+env["CGROUP_NAME"]))
	}
	for _, c := range cgroups {
		add("cgroup", strings.TrimPrefix(c, strings.TrimSuffix(root, "/")))
	}
	if _, err := os.Lstat(at(dir)); err == nil {
		add("path", dir)
	}
	if _, err := os.Lstat(at(env["DEVICE_PLUGIN_SOCK"])); err == nil {
		add("path", env["DEVICE_PLUGIN_SOCK"])
	}
	results, _ := filepath.Glob(at(filepath.Join(env["CNI_RESULTS_DIR"], env["CNI_NETWORK"]+"-*")))
	for _, r := range results {
		add("path", strings.TrimPrefix(r, strings.TrimSuffix(root, "/")))
	}
	links, _ := os.ReadDir(at(env["CONTAINER_LOG_LINKS"]))
	for _, e := range links {
		p := filepath.Join(env["CONTAINER_LOG_LINKS"], e.Name())
		if target, err := os.Readlink(at(p)); err == nil && strings.HasPrefix(target, dir+"/") {
			add("path", p+" -> "+target)
		}
	}
	return l
}

// clusterProcess says why the process at procDir belongs to the cluster, or "".
func clusterProcess(procDir string, env clusterEnv, netnsInode string) string {
	dir := env["CLUSTER_DIR"]
	if exe, err := os.Readlink(filepath.Join(procDir, "exe")); err == nil && strings.HasPrefix(exe, env["BIN"]+"/") {
		return "runs " + exe
	}
	cmdline, _ := os.ReadFile(filepath.Join(procDir, "cmdline"))
	args := strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")
	if strings.Contains(args, dir+"/") || strings.HasSuffix(args, dir) {
		return "names the cluster dir: " + args
	}
	if cg, err := os.ReadFile(filepath.Join(procDir, "cgroup")); err == nil && strings.Contains(string(cg), "/"+env["CGROUP_NAME"]) {
		return "in the cluster's cgroup: " + args
	}
	if netnsInode != "" {
		if fi, err := os.Stat(filepath.Join(procDir, "ns/net")); err == nil && inode(fi) == netnsInode {
			return "in the cluster's network namespace: " + args
		}
	}
	return ""
}

// processState is the State line of /proc/PID/status ("Z (zombie)"), or "?".
func processState(procDir string) string {
	status, err := os.ReadFile(filepath.Join(procDir, "status"))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "State:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// waitNoLeftovers polls findLeftovers for up to d: processes that down
// killed can still be zombies for a moment, until their new parent reaps
// them (seen: two, gone within a second). It returns what is left at the end.
func waitNoLeftovers(env clusterEnv, d time.Duration) leftovers {
	deadline := time.Now().Add(d)
	for {
		l := findLeftovers(env)
		if l.empty() || time.Now().After(deadline) {
			return l
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// mountPoints lists the mount points of a mountinfo file.
func mountPoints(mountinfo string) []string {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil
	}
	defer f.Close()
	var ms []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 {
			ms = append(ms, unescapeMount(fields[4]))
		}
	}
	return ms
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// inode identifies a file (a namespace) by device and inode.
func inode(fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return strconv.FormatUint(uint64(st.Dev), 10) + ":" + strconv.FormatUint(st.Ino, 10)
}
