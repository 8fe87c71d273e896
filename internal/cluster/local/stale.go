package local

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
)

const (
	// tempDataDirPattern names the data dirs the store creates with os.MkdirTemp.
	tempDataDirPattern = "atomix-failover-raft-*"
	// ownerFileName holds "<pid> <start time in clock ticks>\n" of the process owning a data dir.
	ownerFileName = ".owner"
	// keepFileName marks a data dir kept on purpose (KeepData): never removed as stale.
	keepFileName = ".keep"
	// unownedGrace is how long a data dir without an owner file must have been
	// untouched before it counts as stale.
	unownedGrace = 10 * time.Minute
)

var errMalformedOwner = errors.New("malformed " + ownerFileName)

type dirOwner struct {
	pid   int
	start uint64
}

// writeOwner records this process, with its start time so that a reused PID
// is not mistaken for it, as the owner of dir.
func writeOwner(dir string) error {
	pid := os.Getpid()
	start, _, err := procStart(pid)
	if err != nil {
		return fmt.Errorf("recording the owner of data dir %s: %w", dir, err)
	}
	if err := writeFileAtomic(dir, ownerFileName, fmt.Appendf(nil, "%d %d\n", pid, start)); err != nil {
		return fmt.Errorf("recording the owner of data dir %s: %w", dir, err)
	}
	return nil
}

// markKept marks dir as kept on purpose, so that removeStaleDataDirs never
// removes it once its owner has exited.
func markKept(dir string) error {
	if err := writeFileAtomic(dir, keepFileName, []byte("kept by atomix-failover --keep-data\n")); err != nil {
		return fmt.Errorf("marking data dir %s as kept: %w", dir, err)
	}
	return nil
}

func writeFileAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if werr != nil {
		_ = os.Remove(f.Name())
	}
	return werr
}

func readOwner(dir string) (dirOwner, error) {
	b, err := os.ReadFile(filepath.Join(dir, ownerFileName))
	if err != nil {
		return dirOwner{}, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return dirOwner{}, fmt.Errorf("%w: %.40q", errMalformedOwner, b)
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return dirOwner{}, fmt.Errorf("%w: pid %.20q", errMalformedOwner, f[0])
	}
	start, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return dirOwner{}, fmt.Errorf("%w: start time %.20q", errMalformedOwner, f[1])
	}
	return dirOwner{pid: pid, start: start}, nil
}

// procStart returns the start time (field 22, clock ticks since boot) and the
// state (field 3) of process pid from /proc/pid/stat.
func procStart(pid int) (start uint64, state byte, err error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, err
	}
	return parseProcStat(pid, b)
}

func parseProcStat(pid int, b []byte) (start uint64, state byte, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat start time: %w", pid, err)
	}
	return start, f[0][0], nil
}

// ownerAlive reports whether o still runs. When that cannot be told (its
// /proc entry is hidden or unreadable) it is taken to be alive.
func ownerAlive(o dirOwner) (alive bool, reason string) {
	start, state, err := procStart(o.pid)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if errors.Is(syscall.Kill(o.pid, 0), syscall.ESRCH) {
			return false, "owner exited"
		}
		return true, "owner hidden in /proc but alive"
	case err != nil:
		return true, "owner unreadable in /proc"
	case start != o.start:
		return false, "owner exited, its pid reused"
	case state == 'Z' || state == 'X':
		return false, "owner exited (zombie)"
	}
	return true, "owner alive"
}

// removeStaleDataDirs removes the data dirs parent/atomix-failover-raft-* left
// behind by stores whose process died without cleaning up. A dir is stale when
// its owner (see writeOwner) has exited, or, for a dir without an owner file,
// when it and its entries have not been modified for unownedGrace. A stale dir
// is still left alone when some process names it in its command line, has its
// working directory or an open file in it, or when it is marked kept, is not
// a directory, or belongs to another user.
func removeStaleDataDirs(parent string, log *zap.Logger) (removed []string, err error) {
	if log == nil {
		log = zap.NewNop()
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, fmt.Errorf("listing %s for stale data dirs: %w", parent, err)
	}
	var errs []error
	for _, e := range entries {
		if ok, _ := filepath.Match(tempDataDirPattern, e.Name()); !ok {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		ok, err := removeIfStale(dir, time.Now(), log)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			removed = append(removed, dir)
		}
	}
	return removed, errors.Join(errs...)
}

func removeIfStale(dir string, now time.Time, log *zap.Logger) (bool, error) {
	st, err := os.Lstat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("checking stale data dir %s: %w", dir, err)
	}
	if !st.IsDir() {
		return false, nil
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); !ok || int(sys.Uid) != os.Geteuid() {
		log.Debug("data dir of another user left alone", zap.String("dir", dir))
		return false, nil
	}
	if _, err := os.Lstat(filepath.Join(dir, keepFileName)); err == nil {
		return false, nil
	}
	ownerPID := zap.Skip()
	var reason string
	o, err := readOwner(dir)
	switch {
	case err == nil:
		var alive bool
		if alive, reason = ownerAlive(o); alive {
			return false, nil
		}
		ownerPID = zap.Int("owner_pid", o.pid)
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, errMalformedOwner):
		age := now.Sub(lastModified(dir, st.ModTime()))
		if age < unownedGrace {
			return false, nil
		}
		reason = fmt.Sprintf("no owner, untouched for %s", age.Round(time.Second))
	default:
		return false, fmt.Errorf("reading the owner of data dir %s: %w", dir, err)
	}
	pid, how, err := findDirUser(dir)
	if err != nil {
		return false, fmt.Errorf("checking whether a process uses data dir %s: %w", dir, err)
	}
	if pid != 0 {
		log.Info("stale data dir still in use: left alone", zap.String("dir", dir), ownerPID,
			zap.String("reason", reason), zap.Int("user_pid", pid), zap.String("used_by", how))
		return false, nil
	}
	freed := diskUsage(dir)
	if err := os.RemoveAll(dir); err != nil {
		return false, fmt.Errorf("removing stale data dir %s: %w", dir, err)
	}
	log.Info("removed stale data dir", zap.String("dir", dir), zap.Int64("freed_bytes", freed), ownerPID,
		zap.String("reason", reason))
	return true, nil
}

// lastModified is the newest modification time of dir (whose own is
// dirMtime) and of its direct entries: a running node's log is one of them.
func lastModified(dir string, dirMtime time.Time) time.Time {
	latest := dirMtime
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().After(latest) {
			latest = info.ModTime()
		}
	}
	return latest
}

// diskUsage is the space allocated to the files under dir, in bytes.
func diskUsage(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if sys, ok := info.Sys().(*syscall.Stat_t); ok {
				total += sys.Blocks * 512
			}
		}
		return nil
	})
	return total
}

// findDirUser returns a live process that names dir (or a path under it) in
// its command line, or has its working directory or an open file there, and
// how it uses it; pid is 0 when none does. Processes whose /proc entries
// cannot be read (other users') are checked by command line only.
func findDirUser(dir string) (pid int, how string, err error) {
	paths := []string{filepath.Clean(dir)}
	if resolved, err := filepath.EvalSymlinks(dir); err == nil && resolved != paths[0] {
		paths = append(paths, resolved)
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, "", err
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid <= 0 {
			continue
		}
		base := filepath.Join("/proc", p.Name())
		if cmdline, err := os.ReadFile(filepath.Join(base, "cmdline")); err == nil {
			for _, arg := range bytes.Split(cmdline, []byte{0}) {
				if refersTo(string(arg), paths) {
					return pid, "command line", nil
				}
			}
		}
		if cwd, err := os.Readlink(filepath.Join(base, "cwd")); err == nil && refersTo(cwd, paths) {
			return pid, "working directory", nil
		}
		fds, _ := os.ReadDir(filepath.Join(base, "fd"))
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(base, "fd", fd.Name())); err == nil && refersTo(target, paths) {
				return pid, "open file " + target, nil
			}
		}
	}
	return 0, "", nil
}

// refersTo reports whether s contains one of paths as a whole path or a
// prefix of a longer one.
func refersTo(s string, paths []string) bool {
	for _, p := range paths {
		for rest := s; ; {
			i := strings.Index(rest, p)
			if i < 0 {
				break
			}
			rest = rest[i+len(p):]
			if rest == "" || rest[0] == '/' || strings.HasPrefix(rest, " (deleted)") {
				return true
			}
		}
	}
	return false
}
