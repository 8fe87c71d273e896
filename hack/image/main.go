//go:build ignore

// Command image writes one-layer docker-archive image tars, without docker, a
// registry or a base image, from files of this (Debian) host. It is the
// project's one writer of such tars: the experiment's image, and (-generic)
// the images of hack/cluster (pause, raft controller, raft node).
//
// By default it writes the experiment's image: the one the Dockerfile's runtime
// stage describes, with the same binary, paths, user, working directory and
// entrypoint, and, copied from this host with the shared libraries ldd names
// for them, the programs that debian-slim provides and the Deployment needs:
// /bin/sh (its wrapper), sleep (the wrapper's idle loop) and tar (kubectl cp).
// From the repository root:
//
//	go run ./hack/image/main.go -o atomix-failover.tar
//	ctr -n k8s.io image import atomix-failover.tar     # or: docker load -i atomix-failover.tar
//
// It builds the binary with the Dockerfile's flags (CGO_ENABLED=1 go build
// -trimpath -ldflags="-s -w" .) unless -binary names one. -print-settings
// prints the image's settings as JSON; the main module's internal/deploy test
// checks them and a tar built by this command against the Dockerfile.
//
// With -generic it writes the image its flags describe and nothing else: -tag
// and -entrypoint (a JSON array) are required, -file copies a host file (at
// least one), -ldd the libraries of every -file, -dir adds a directory, -env
// and -user set the config:
//
//	image -generic -o pause.tar -tag localhost/pause:v1 -entrypoint '["/pause"]' -file bin/pause:/pause
//
// -file PATH (or PATH:PATH) copies PATH as the host resolves it: each symlink
// on the way (a merged /usr's /bin -> usr/bin, a library's soname link) as a
// symlink, then the file it leads to, each at its host path. -file HOST:IMAGE
// with two different paths copies the file HOST leads to as a regular file at
// IMAGE, with its permissions. Every file and directory is root's; a
// directory the layer needs and no flag names is 0755. Flags of one mode are
// usage errors (exit 2) in the other.
//
// Tars are reproducible: fixed file order and times ($SOURCE_DATE_EPOCH, else
// 0). It is not part of the main module's build (build tag ignore);
// hack/cluster/cluster.sh builds it with go build hack/image/main.go.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Settings are the facts the image shares with the Dockerfile's runtime stage.
type Settings struct {
	// Tag is the image's RepoTag: deployment.yaml's image.
	Tag string `json:"tag"`
	// Binary is where the experiment binary lives in the image.
	Binary string `json:"binary"`
	// User owns OwnedDirs and runs the entrypoint; it is in /etc/passwd.
	User Account `json:"user"`
	// WorkDir is the image's working directory.
	WorkDir string `json:"workdir"`
	// LogsDir is where the results log goes (the default --out is relative).
	LogsDir string `json:"logs_dir"`
	// OwnedDirs are created owned by User, mode 0755 (WorkDir, LogsDir).
	OwnedDirs  []string `json:"owned_dirs"`
	Entrypoint []string `json:"entrypoint"`
	// Env is the image's environment (debian's PATH; the Dockerfile sets none).
	Env []string `json:"env"`
	// HostFiles are copied from the host with their symlinks and the shared
	// libraries ldd lists for them.
	HostFiles []string `json:"host_files"`
	// Build is how the binary is built when -binary is not given.
	Build Build `json:"build"`
}

// Account is the image's unprivileged user and its group of the same name.
type Account struct {
	Name  string `json:"name"`
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Home  string `json:"home"`
	Shell string `json:"shell"`
}

// Build is the binary's go build command line: Env, then go build Flags -o
// <out> Package.
type Build struct {
	Env     []string `json:"env"`
	Flags   []string `json:"flags"`
	Package string   `json:"package"`
}

var settings = Settings{
	Tag:    "atomix-failover:local",
	Binary: "/usr/local/bin/atomix-failover",
	User: Account{
		Name: "app", UID: 65532, GID: 65532,
		Home: "/app", Shell: "/usr/sbin/nologin",
	},
	WorkDir:    "/app",
	LogsDir:    "/app/logs",
	OwnedDirs:  []string{"/app", "/app/logs"},
	Entrypoint: []string{"/usr/local/bin/atomix-failover"},
	Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	HostFiles:  []string{"/bin/sh", "/bin/sleep", "/bin/tar"},
	Build: Build{
		Env:     []string{"CGO_ENABLED=1"},
		Flags:   []string{"-trimpath", "-ldflags=-s -w"},
		Package: ".",
	},
}

// The flags of each mode; either mode's are usage errors in the other.
var (
	projectFlags = []string{"binary", "src", "print-settings"}
	genericFlags = []string{"file", "ldd", "dir", "env", "entrypoint", "user"}
)

const usage = `usage:
  go run ./hack/image/main.go -o FILE [-tag NAME:TAG] [-binary FILE | -src DIR]
  go run ./hack/image/main.go -print-settings
  go run ./hack/image/main.go -generic -o FILE -tag NAME:TAG -entrypoint JSON
      -file HOST[:IMAGE]... [-ldd] [-dir PATH:MODE]... [-env K=V]... [-user USER]
`

func main() {
	out := flag.String("o", "", "write the docker-archive tar to `file` (required)")
	tag := flag.String("tag", settings.Tag, "the image's `name:tag` (required with -generic)")
	binary := flag.String("binary", "", "project image: use this built `file` as the binary instead of building it")
	src := flag.String("src", ".", "project image: the main module's `dir`, built when -binary is not given")
	printSettings := flag.Bool("print-settings", false, "project image: print its settings as JSON and exit")
	generic := flag.Bool("generic", false, "write the image the -file, -ldd, -dir, -env, -entrypoint and -user flags describe, not the project's")
	var files, dirs, env listFlag
	flag.Var(&files, "file", "generic: copy the host file `host[:image]` (repeatable; at least one)")
	ldd := flag.Bool("ldd", false, "generic: copy the shared libraries ldd names for every -file")
	flag.Var(&dirs, "dir", "generic: add the directory `path:octal-mode` (repeatable)")
	flag.Var(&env, "env", "generic: the environment variable `K=V` (repeatable)")
	entrypoint := flag.String("entrypoint", "", "generic: the entrypoint, a `JSON` array (required)")
	user := flag.String("user", "", "generic: the `user` the entrypoint runs as")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := checkFlags(set, *generic, flag.Args()); err != nil {
		usageError(err)
	}
	switch {
	case *generic:
		g, err := parseGeneric(*tag, files, dirs, env, *entrypoint, *user, *ldd)
		if err != nil {
			usageError(err)
		}
		if err := runGeneric(g, *out); err != nil {
			fail(err)
		}
	case *printSettings:
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(settings); err != nil {
			fail(err)
		}
	default:
		s := settings
		s.Tag = *tag
		if err := runProject(s, *binary, *src, *out); err != nil {
			fail(err)
		}
	}
}

// checkFlags rejects arguments and combinations of the flags set that do not
// make one image of one mode.
func checkFlags(set map[string]bool, generic bool, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q", args[0])
	}
	if generic {
		for _, f := range projectFlags {
			if set[f] {
				return fmt.Errorf("-%s is for the project image, not for -generic", f)
			}
		}
		for _, f := range []string{"o", "tag", "entrypoint", "file"} {
			if !set[f] {
				return fmt.Errorf("-generic needs -%s", f)
			}
		}
		return nil
	}
	for _, f := range genericFlags {
		if set[f] {
			return fmt.Errorf("-%s needs -generic (without it, the project image is written)", f)
		}
	}
	switch {
	case set["print-settings"]:
		if len(set) > 1 {
			return errors.New("-print-settings takes no other flag")
		}
	case set["binary"] && set["src"]:
		return errors.New("-binary and -src exclude each other: -src is built only without -binary")
	case !set["o"]:
		return errors.New("-o is required")
	}
	return nil
}

func usageError(err error) {
	fmt.Fprintf(os.Stderr, "image: %v\n", err)
	fmt.Fprint(os.Stderr, usage)
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "image: %v\n", err)
	os.Exit(1)
}

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// genericImage is the image -generic's flags describe.
type genericImage struct {
	tag    string
	files  []hostFile
	ldd    bool // the shared libraries of every file too
	dirs   []imageDir
	config containerConfig
}

// hostFile is a -file (arg): the host's file at host, copied to image.
type hostFile struct{ arg, host, image string }

// imageDir is a -dir: root's directory at path with mode.
type imageDir struct {
	path string
	mode int64
}

// parseGeneric reads -generic's flags.
func parseGeneric(tag string, files, dirs, env []string, entrypoint, user string, ldd bool) (genericImage, error) {
	g := genericImage{tag: tag, ldd: ldd, config: containerConfig{User: user, Env: env}}
	if err := json.Unmarshal([]byte(entrypoint), &g.config.Entrypoint); err != nil || len(g.config.Entrypoint) == 0 {
		return g, fmt.Errorf("-entrypoint %s: want a JSON array of strings, not empty", entrypoint)
	}
	for _, f := range files {
		host, image, ok := strings.Cut(f, ":")
		if !ok {
			image = host
		}
		if host == "" || !cleanAbs(image) {
			return g, fmt.Errorf("-file %q: want host[:image], image a clean absolute path", f)
		}
		g.files = append(g.files, hostFile{f, host, image})
	}
	for _, d := range dirs {
		p, m, _ := strings.Cut(d, ":")
		mode, err := strconv.ParseUint(m, 8, 32)
		if !cleanAbs(p) || p == "/" || err != nil || mode > 0o7777 {
			return g, fmt.Errorf("-dir %q: want path:octal-mode, path a clean absolute path", d)
		}
		g.dirs = append(g.dirs, imageDir{p, int64(mode)})
	}
	for _, e := range env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return g, fmt.Errorf("-env %q: want K=V", e)
		}
	}
	return g, nil
}

func cleanAbs(p string) bool { return path.IsAbs(p) && path.Clean(p) == p }

// runProject writes the project's image to out, building the binary first
// unless binary names it.
func runProject(s Settings, binary, src, out string) error {
	epoch, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	if binary == "" {
		dir, err := os.MkdirTemp("", "atomix-failover-image-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		binary = filepath.Join(dir, "atomix-failover")
		if err := buildBinary(s.Build, src, binary); err != nil {
			return err
		}
	}
	l := newLayer(epoch)
	if err := fillLayer(l, s, binary); err != nil {
		return err
	}
	return writeImage(out, s.Tag, containerConfig{
		User:       fmt.Sprintf("%d:%d", s.User.UID, s.User.GID),
		Env:        s.Env,
		Entrypoint: s.Entrypoint,
		WorkingDir: s.WorkDir,
	}, l)
}

// runGeneric writes g to out.
func runGeneric(g genericImage, out string) error {
	epoch, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	l := newLayer(epoch)
	// The directories first: where a file's parent is one, its mode stays.
	for _, d := range g.dirs {
		if err := l.addDir(d.path, d.mode, 0, 0); err != nil {
			return err
		}
	}
	for _, f := range g.files {
		if err := g.addFile(l, f); err != nil {
			return fmt.Errorf("-file %s: %w", f.arg, err)
		}
	}
	return writeImage(out, g.tag, g.config, l)
}

// addFile adds f to l, and with -ldd its shared libraries.
func (g genericImage) addFile(l *layer, f hostFile) error {
	if err := l.addHostCopy(f.host, f.image); err != nil {
		return err
	}
	if !g.ldd {
		return nil
	}
	libs, err := sharedLibraries(f.host)
	if err != nil {
		return err
	}
	for _, lib := range libs {
		if err := l.addHostPath(lib); err != nil {
			return err
		}
	}
	return nil
}

func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %v", v, err)
	}
	return time.Unix(n, 0).UTC(), nil
}

func buildBinary(b Build, src, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	args := append([]string{"build"}, b.Flags...)
	args = append(args, "-o", abs, b.Package)
	cmd := exec.Command("go", args...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), b.Env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	fmt.Fprintf(os.Stderr, "building: %s go %s (in %s)\n", strings.Join(b.Env, " "), strings.Join(args, " "), src)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}

// writeImage writes the docker archive of the one layer l, tagged tag, to out
// (through a temporary file in the same directory) and reports its image ID,
// the config's sha256.
func writeImage(out, tag string, cfg containerConfig, l *layer) error {
	mtime := l.mtime
	// The layer goes to a temporary file first: its digest names it.
	layerFile, err := os.CreateTemp(filepath.Dir(out), ".layer-*.tar")
	if err != nil {
		return err
	}
	defer func() { _ = layerFile.Close(); _ = os.Remove(layerFile.Name()) }()
	hash := sha256.New()
	if err := l.writeTar(io.MultiWriter(layerFile, hash)); err != nil {
		return err
	}
	layerSize, err := layerFile.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := layerFile.Seek(0, io.SeekStart); err != nil {
		return err
	}
	layerHex := hex.EncodeToString(hash.Sum(nil))
	config, err := json.Marshal(imageConfig{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Created:      mtime.Format(time.RFC3339),
		Config:       cfg,
		RootFS:       rootFS{Type: "layers", DiffIDs: []string{"sha256:" + layerHex}},
		History:      []history{{Created: mtime.Format(time.RFC3339), CreatedBy: "hack/image/main.go"}},
	})
	if err != nil {
		return err
	}
	configSum := sha256.Sum256(config)
	configHex := hex.EncodeToString(configSum[:])
	manifest, err := json.Marshal([]manifestEntry{{
		Config:   configHex + ".json",
		RepoTags: []string{tag},
		Layers:   []string{layerHex + "/layer.tar"},
	}})
	if err != nil {
		return err
	}

	tmp, err := os.CreateTemp(filepath.Dir(out), ".image-*.tar")
	if err != nil {
		return err
	}
	defer func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }()
	tw := tar.NewWriter(tmp)
	for _, f := range []struct {
		name string
		size int64
		r    io.Reader
	}{
		{configHex + ".json", int64(len(config)), bytes.NewReader(config)},
		{layerHex + "/layer.tar", layerSize, layerFile},
		{"manifest.json", int64(len(manifest)), bytes.NewReader(manifest)},
	} {
		if err := tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeReg, Name: f.name, Size: f.size,
			Mode: 0o644, ModTime: mtime,
		}); err != nil {
			return err
		}
		if _, err := io.Copy(tw, f.r); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %s (image id sha256:%s)\n", out, tag, configHex)
	return nil
}

type imageConfig struct {
	Architecture string          `json:"architecture"`
	OS           string          `json:"os"`
	Created      string          `json:"created"`
	Config       containerConfig `json:"config"`
	RootFS       rootFS          `json:"rootfs"`
	History      []history       `json:"history"`
}

// containerConfig is the config's config; a -generic image may have no user,
// environment or working directory.
type containerConfig struct {
	User       string   `json:"User,omitempty"`
	Env        []string `json:"Env,omitempty"`
	Entrypoint []string `json:"Entrypoint"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type history struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

type manifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// fillLayer puts the image's files into l.
func fillLayer(l *layer, s Settings, binary string) error {
	root := 0
	// The binary, as COPY --from=build leaves it: root's, mode 0755.
	if err := l.addHostFile(s.Binary, binary, 0o755, root, root); err != nil {
		return err
	}
	libs, err := sharedLibraries(binary)
	if err != nil {
		return err
	}
	// The programs debian-slim provides, with their libraries.
	for _, f := range s.HostFiles {
		more, err := sharedLibraries(f)
		if err != nil {
			return err
		}
		libs = append(libs, f)
		libs = append(libs, more...)
	}
	for _, f := range libs {
		if err := l.addHostPath(f); err != nil {
			return err
		}
	}
	// groupadd + useradd --no-create-home --home-dir /app.
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/bin/sh\n%s:x:%d:%d::%s:%s\n",
		s.User.Name, s.User.UID, s.User.GID, s.User.Home, s.User.Shell)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", s.User.Name, s.User.GID)
	for _, f := range []struct{ path, data string }{
		{"/etc/passwd", passwd},
		{"/etc/group", group},
		// Go's resolver: files, then DNS (as debian's nsswitch.conf says).
		{"/etc/nsswitch.conf", "hosts: files dns\n"},
	} {
		if err := l.addFile(f.path, []byte(f.data), 0o644, root, root); err != nil {
			return err
		}
	}
	if err := l.addDir("/tmp", 0o1777, root, root); err != nil {
		return err
	}
	// mkdir -p /app/logs && chown -R 65532:65532 /app.
	for _, d := range s.OwnedDirs {
		if err := l.addDir(d, 0o755, s.User.UID, s.User.GID); err != nil {
			return err
		}
	}
	return nil
}

// sharedLibraries lists the files ldd names for file (libraries and the
// dynamic loader); none for a static executable or a script.
func sharedLibraries(file string) ([]string, error) {
	out, err := exec.Command("ldd", file).CombinedOutput()
	text := string(out)
	if err != nil {
		if strings.Contains(text, "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %v: %s", file, err, strings.TrimSpace(text))
	}
	var libs []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Contains(line, "statically linked") {
			continue
		}
		if _, right, ok := strings.Cut(line, "=>"); ok {
			line = strings.TrimSpace(right)
			if strings.HasPrefix(line, "not found") {
				return nil, fmt.Errorf("ldd %s: a library is not found: %s", file, text)
			}
		}
		if p, _, _ := strings.Cut(line, " "); strings.HasPrefix(p, "/") {
			libs = append(libs, p)
		}
		// Else the vDSO (linux-vdso.so.1 (0x...)): the kernel's, not a file.
	}
	return libs, nil
}

// layer is a layer's file tree, written as a tar in path order.
type layer struct {
	mtime   time.Time
	entries map[string]*tar.Header // by clean absolute path
	data    map[string][]byte      // a regular file's content, or
	src     map[string]string      // the host file it is read from when written
}

func newLayer(mtime time.Time) *layer {
	return &layer{mtime: mtime, entries: map[string]*tar.Header{}, data: map[string][]byte{}, src: map[string]string{}}
}

// parents adds p's parent directories (root's, 0755) where the layer has none
// and fails when one of them is a symlink or a file.
func (l *layer) parents(p string) error {
	dir := path.Dir(p)
	if dir == "/" {
		return nil
	}
	if err := l.parents(dir); err != nil {
		return err
	}
	if h, ok := l.entries[dir]; ok {
		if h.Typeflag != tar.TypeDir {
			return fmt.Errorf("%s: %s is not a directory in the layer", p, dir)
		}
		return nil
	}
	l.entries[dir] = l.header(dir, tar.TypeDir, 0o755, 0, 0)
	return nil
}

func (l *layer) header(p string, typ byte, mode int64, uid, gid int) *tar.Header {
	name := strings.TrimPrefix(p, "/")
	if typ == tar.TypeDir {
		name += "/"
	}
	return &tar.Header{Typeflag: typ, Name: name, Mode: mode, Uid: uid, Gid: gid, ModTime: l.mtime}
}

func (l *layer) add(p string, h *tar.Header) error {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return fmt.Errorf("%q is not a clean absolute path", p)
	}
	if err := l.parents(p); err != nil {
		return err
	}
	if old, ok := l.entries[p]; ok {
		switch {
		case old.Typeflag != h.Typeflag:
			return fmt.Errorf("%s is in the layer twice, as different kinds of file", p)
		case h.Typeflag == tar.TypeDir:
			// An explicit directory's owner and mode win over a parent's defaults.
		case h.Typeflag == tar.TypeSymlink && old.Linkname == h.Linkname:
			return nil
		case h.Typeflag == tar.TypeReg && old.Mode == h.Mode && old.Uid == h.Uid && old.Gid == h.Gid:
			return nil // the same file reached twice (addFile compared the contents)
		default:
			return fmt.Errorf("%s is in the layer twice, differently", p)
		}
	}
	l.entries[p] = h
	return nil
}

func (l *layer) addDir(p string, mode int64, uid, gid int) error {
	return l.add(p, l.header(p, tar.TypeDir, mode, uid, gid))
}

func (l *layer) addFile(p string, data []byte, mode int64, uid, gid int) error {
	if old, ok := l.data[p]; ok && !bytes.Equal(old, data) {
		return fmt.Errorf("%s is in the layer twice with different contents", p)
	}
	if _, ok := l.src[p]; ok {
		return fmt.Errorf("%s is in the layer twice", p)
	}
	h := l.header(p, tar.TypeReg, mode, uid, gid)
	h.Size = int64(len(data))
	if err := l.add(p, h); err != nil {
		return err
	}
	l.data[p] = data
	return nil
}

// addHostFile adds the host's regular file src at p, read when the layer is written.
func (l *layer) addHostFile(p, src string, mode int64, uid, gid int) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	if old, ok := l.src[p]; ok && old != src {
		return fmt.Errorf("%s is in the layer twice, from %s and %s", p, old, src)
	}
	if _, ok := l.data[p]; ok {
		return fmt.Errorf("%s is in the layer twice", p)
	}
	h := l.header(p, tar.TypeReg, mode, uid, gid)
	h.Size = fi.Size()
	if err := l.add(p, h); err != nil {
		return err
	}
	l.src[p] = src
	return nil
}

// addHostCopy adds a -file: the host path host as the host resolves it when
// image is the same path, else the file host leads to, at image, with its
// permissions.
func (l *layer) addHostCopy(host, image string) error {
	if host == image {
		return l.addHostPath(host)
	}
	fi, err := os.Stat(host)
	if err != nil {
		return err
	}
	return l.addHostFile(image, host, int64(fi.Mode().Perm()), 0, 0)
}

func (l *layer) addSymlink(p, target string) error {
	h := l.header(p, tar.TypeSymlink, 0o777, 0, 0)
	h.Linkname = target
	return l.add(p, h)
}

// addHostPath copies the host file at p into the layer at the same path,
// following the way the host resolves it: each symlink on the way (a merged
// /usr's /bin -> usr/bin, /bin/sh -> dash, a library's soname link) goes in as
// a symlink, then the file it leads to, so the image resolves p as the host
// does. Directories on the way are root's with the host's permissions.
func (l *layer) addHostPath(p string) error {
	const maxLinks = 40
	links := 0
	for {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("%q is not an absolute path", p)
		}
		p = filepath.Clean(p)
		next, done, err := l.step(p)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if links++; links > maxLinks {
			return fmt.Errorf("%s: too many symlinks", p)
		}
		p = next
	}
}

// step walks p's components from the root. At the first symlink it adds the
// link and returns the path with the link replaced by its target; when there
// is none it adds the directories and the file and reports done.
func (l *layer) step(p string) (next string, done bool, err error) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := "/"
	for i, part := range parts {
		cur = path.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return "", false, err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(cur)
			if err != nil {
				return "", false, err
			}
			if err := l.addSymlink(cur, target); err != nil {
				return "", false, err
			}
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(cur), target)
			}
			return path.Join(append([]string{target}, parts[i+1:]...)...), false, nil
		case fi.IsDir():
			if i == len(parts)-1 {
				return "", false, fmt.Errorf("%s is a directory, not a file", p)
			}
			if _, ok := l.entries[cur]; !ok {
				if err := l.addDir(cur, int64(fi.Mode().Perm()), 0, 0); err != nil {
					return "", false, err
				}
			}
		case fi.Mode().IsRegular():
			if i != len(parts)-1 {
				return "", false, fmt.Errorf("%s: %s is not a directory", p, cur)
			}
			return "", true, l.addHostFile(cur, cur, int64(fi.Mode().Perm()), 0, 0)
		default:
			return "", false, fmt.Errorf("%s: %s is neither a file, a directory nor a symlink", p, cur)
		}
	}
	return "", false, errors.New("unreachable")
}

// writeTar writes the layer: every entry in path order (parents first),
// numeric owners only.
func (l *layer) writeTar(w io.Writer) error {
	paths := make([]string, 0, len(l.entries))
	for p := range l.entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	tw := tar.NewWriter(w)
	for _, p := range paths {
		h := l.entries[p]
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if src, ok := l.src[p]; ok {
			if err := copyFile(tw, src, h.Size); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		} else if _, err := tw.Write(l.data[p]); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return tw.Close()
}

// copyFile copies src, which must still be size bytes long, to w.
func copyFile(w io.Writer, src string, size int64) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	n, err := io.Copy(w, io.LimitReader(f, size+1))
	if err == nil && n != size {
		err = fmt.Errorf("%s changed size while the image was written (%d bytes, then %d)", src, size, n)
	}
	return err
}
