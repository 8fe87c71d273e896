package deploy_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/atomix-failover/atomix-failover/internal/cli"
)

// imageEpoch is the SOURCE_DATE_EPOCH the test image is built with.
const imageEpoch = 1700000000

// builderSettings is the part of hack/image's -print-settings the test reads.
type builderSettings struct {
	Tag       string   `json:"tag"`
	Binary    string   `json:"binary"`
	LogsDir   string   `json:"logs_dir"`
	HostFiles []string `json:"host_files"`
	Build     goBuild  `json:"build"`
}

// goRunImage runs hack/image/main.go from the module root.
func goRunImage(args ...string) ([]byte, error) {
	cmd := exec.Command("go", append([]string{"run", "./hack/image/main.go"}, args...)...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.Itoa(imageEpoch))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go run ./hack/image/main.go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// fakeBinary is the test's stand-in for atomix-failover: the host's true (a
// small dynamically linked program, so its libraries must come along) with a
// marker appended, which makes its bytes unique in the layer.
func fakeBinary() ([]byte, error) {
	b, err := os.ReadFile("/bin/true")
	if err != nil {
		return nil, err
	}
	return append(b, "\x00atomix-failover fake binary\x00"...), nil
}

var built struct {
	once     sync.Once
	tar      []byte
	fake     []byte
	settings builderSettings
	err      error
}

// buildImage runs hack/image once per test binary, on the fake binary.
func buildImage(t *testing.T) ([]byte, []byte, builderSettings) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("hack/image copies a Linux host's programs and libraries")
	}
	built.once.Do(func() {
		built.tar, built.fake, built.err = buildImageTar()
		if built.err != nil {
			return
		}
		var out []byte
		if out, built.err = goRunImage("-print-settings"); built.err == nil {
			built.err = json.Unmarshal(out, &built.settings)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.tar, built.fake, built.settings
}

func buildImageTar() (tarData, fake []byte, err error) {
	dir, err := os.MkdirTemp("", "deploy-image-test-")
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	fake, err = fakeBinary()
	if err != nil {
		return nil, nil, err
	}
	bin := filepath.Join(dir, "fake-atomix-failover")
	if err := os.WriteFile(bin, fake, 0o755); err != nil {
		return nil, nil, err
	}
	out := filepath.Join(dir, "image.tar")
	if _, err := goRunImage("-o", out, "-binary", bin); err != nil {
		return nil, nil, err
	}
	tarData, err = os.ReadFile(out)
	return tarData, fake, err
}

// archive is a docker-archive tar, read back.
type archive struct {
	manifest   []manifestEntry
	configName string
	configRaw  []byte
	config     imageConfig
	layerRaw   []byte
	layer      map[string]layerEntry // by clean absolute path
	order      []string              // layer entries in tar order
}

type manifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

type imageConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		User       string
		Env        []string
		Entrypoint []string
		Cmd        []string
		WorkingDir string
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

type layerEntry struct {
	hdr  *tar.Header
	data []byte
}

func readTar(b []byte) (map[string][]byte, []*tar.Header, error) {
	files := map[string][]byte{}
	var hdrs []*tar.Header
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, hdrs, nil
		}
		if err != nil {
			return nil, nil, err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, nil, err
		}
		if _, dup := files[h.Name]; dup {
			return nil, nil, fmt.Errorf("%s is in the tar twice", h.Name)
		}
		files[h.Name] = data
		hdrs = append(hdrs, h)
	}
}

func readArchive(b []byte) (*archive, error) {
	files, _, err := readTar(b)
	if err != nil {
		return nil, err
	}
	a := &archive{layer: map[string]layerEntry{}}
	if err := json.Unmarshal(files["manifest.json"], &a.manifest); err != nil {
		return nil, fmt.Errorf("manifest.json: %v", err)
	}
	if len(a.manifest) != 1 || len(a.manifest[0].Layers) != 1 {
		return nil, fmt.Errorf("manifest.json %+v: want one image of one layer", a.manifest)
	}
	a.configName = a.manifest[0].Config
	var ok bool
	if a.configRaw, ok = files[a.configName]; !ok {
		return nil, fmt.Errorf("config %s is not in the archive", a.configName)
	}
	if err := json.Unmarshal(a.configRaw, &a.config); err != nil {
		return nil, fmt.Errorf("%s: %v", a.configName, err)
	}
	if a.layerRaw, ok = files[a.manifest[0].Layers[0]]; !ok {
		return nil, fmt.Errorf("layer %s is not in the archive", a.manifest[0].Layers[0])
	}
	lf, lh, err := readTar(a.layerRaw)
	if err != nil {
		return nil, fmt.Errorf("layer: %v", err)
	}
	for _, h := range lh {
		p := path.Clean("/" + h.Name)
		if _, dup := a.layer[p]; dup {
			return nil, fmt.Errorf("layer: %s is in it twice", p)
		}
		a.layer[p] = layerEntry{hdr: h, data: lf[h.Name]}
		a.order = append(a.order, p)
	}
	return a, nil
}

// resolve follows symlinks in the layer, as the container's kernel would.
func (a *archive) resolve(p string) (string, layerEntry, error) {
	for links := 0; links <= 40; {
		parts := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
		cur := "/"
		restarted := false
		for i, part := range parts {
			cur = path.Join(cur, part)
			e, ok := a.layer[cur]
			if !ok {
				return "", layerEntry{}, fmt.Errorf("%s: %s is not in the layer", p, cur)
			}
			if e.hdr.Typeflag == tar.TypeSymlink {
				target := e.hdr.Linkname
				if !path.IsAbs(target) {
					target = path.Join(path.Dir(cur), target)
				}
				p = path.Join(append([]string{target}, parts[i+1:]...)...)
				links++
				restarted = true
				break
			}
			if i == len(parts)-1 {
				return cur, e, nil
			}
			if e.hdr.Typeflag != tar.TypeDir {
				return "", layerEntry{}, fmt.Errorf("%s: %s is not a directory", p, cur)
			}
		}
		if !restarted {
			return "/", layerEntry{}, nil
		}
	}
	return "", layerEntry{}, fmt.Errorf("%s: too many symlinks", p)
}

// table reads a colon-separated file of the layer (/etc/passwd, /etc/group) as lines of fields.
func (a *archive) table(name string) [][]string {
	var out [][]string
	for _, l := range strings.Split(string(a.layer[name].data), "\n") {
		if l != "" {
			out = append(out, strings.Split(l, ":"))
		}
	}
	return out
}

// facts reads an image the way the Dockerfile's facts are read: binary is the
// experiment binary's content, found by content.
func (a *archive) facts(binary []byte) (imageFacts, error) {
	f := imageFacts{
		WorkDir:    a.config.Config.WorkingDir,
		Entrypoint: a.config.Config.Entrypoint,
		OwnedDirs:  map[string]owner{},
		Commands:   map[string]bool{},
	}
	var bins []string
	for _, p := range a.order {
		e := a.layer[p]
		if e.hdr.Typeflag == tar.TypeReg && bytes.Equal(e.data, binary) {
			bins = append(bins, p)
			f.BinaryOwner = owner{e.hdr.Uid, e.hdr.Gid}
		}
		if e.hdr.Typeflag == tar.TypeDir && (e.hdr.Uid != 0 || e.hdr.Gid != 0) {
			f.OwnedDirs[p] = owner{e.hdr.Uid, e.hdr.Gid}
		}
	}
	if len(bins) != 1 {
		return f, fmt.Errorf("the binary is in the layer %d times (%v), want once", len(bins), bins)
	}
	f.Binary = bins[0]

	users := map[string]account{}
	for _, l := range a.table("/etc/passwd") {
		if len(l) != 7 {
			return f, fmt.Errorf("/etc/passwd line %v", l)
		}
		uid, err1 := strconv.Atoi(l[2])
		gid, err2 := strconv.Atoi(l[3])
		if err := errors.Join(err1, err2); err != nil {
			return f, fmt.Errorf("/etc/passwd line %v: %v", l, err)
		}
		users[l[0]] = account{Name: l[0], UID: uid, GID: gid, Home: l[5], Shell: l[6]}
	}
	groups := map[string]int{}
	for _, l := range a.table("/etc/group") {
		if len(l) != 4 {
			return f, fmt.Errorf("/etc/group line %v", l)
		}
		gid, err := strconv.Atoi(l[2])
		if err != nil {
			return f, fmt.Errorf("/etc/group line %v: %v", l, err)
		}
		groups[l[0]] = gid
	}
	u, err := resolveUser(a.config.Config.User, users, groups)
	if err != nil {
		return f, fmt.Errorf("config User: %v", err)
	}
	f.User = u
	for name, acc := range users {
		if acc.UID == u.UID && name != "root" {
			f.Account = acc
		}
	}

	for _, e := range a.config.Config.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			f.Path = v
		}
	}
	for _, c := range requiredCommands {
		for _, dir := range strings.Split(f.Path, ":") {
			if _, e, err := a.resolve(path.Join(dir, c)); err == nil && e.hdr.Typeflag == tar.TypeReg && e.hdr.Mode&0o111 != 0 {
				f.Commands[c] = true
				break
			}
		}
	}
	return f, nil
}

func readDockerfile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dockerFacts parses a Dockerfile's runtime stage and its build command.
func dockerFacts(text string) (imageFacts, goBuild, error) {
	df, err := parseDockerfile(text)
	if err != nil {
		return imageFacts{}, goBuild{}, err
	}
	f, copySrc, err := df.runtimeFacts()
	if err != nil {
		return f, goBuild{}, err
	}
	b, err := df.buildCommand()
	if err != nil {
		return f, b, err
	}
	if copySrc != b.out {
		return f, b, fmt.Errorf("the runtime stage copies %s, the build stage writes %s", copySrc, b.out)
	}
	return f, b, nil
}

// TestImageAgreesWithDockerfile builds the image with hack/image and checks it
// against the Dockerfile's runtime stage: binary path and owner, user and its
// account, workdir, entrypoint, the directories the user owns (the logs dir
// among them), PATH, and sh, sleep and tar on it; and the binary's go build
// command against the build stage's.
func TestImageAgreesWithDockerfile(t *testing.T) {
	docker, build, err := dockerFacts(readDockerfile(t))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	tarData, fake, settings := buildImage(t)
	a, err := readArchive(tarData)
	if err != nil {
		t.Fatal(err)
	}
	image, err := a.facts(fake)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Dockerfile: %+v", docker)
	t.Logf("image:      %+v", image)
	for _, d := range disagreements(docker, image) {
		t.Error(d)
	}

	// The binary: built the same way, where the Entrypoint and PATH find it.
	if fmt.Sprint(build.Env, build.Flags, build.Package) != fmt.Sprint(settings.Build.Env, settings.Build.Flags, settings.Build.Package) {
		t.Errorf("go build: Dockerfile %v %v %s, hack/image %v %v %s",
			build.Env, build.Flags, build.Package, settings.Build.Env, settings.Build.Flags, settings.Build.Package)
	}
	for name, f := range map[string]imageFacts{"Dockerfile": docker, "image": image} {
		if len(f.Entrypoint) == 0 || f.Entrypoint[0] != f.Binary {
			t.Errorf("%s: entrypoint %q does not run the binary %s", name, f.Entrypoint, f.Binary)
		}
		if !slices.Contains(strings.Split(f.Path, ":"), path.Dir(f.Binary)) {
			t.Errorf("%s: PATH %s lacks %s: the Deployment's wrapper runs atomix-failover by name", name, f.Path, path.Dir(f.Binary))
		}
		// The binary's default --out is relative to the workdir.
		logs := path.Join(f.WorkDir, path.Dir(cli.DefaultOut))
		if f.OwnedDirs[logs] != f.User {
			t.Errorf("%s: the logs dir %s (workdir + --out's %s) is owned by %v, want the user %v",
				name, logs, cli.DefaultOut, f.OwnedDirs[logs], f.User)
		}
		if f.User.UID == 0 {
			t.Errorf("%s: runs as root", name)
		}
		for _, c := range requiredCommands {
			if !f.Commands[c] {
				t.Errorf("%s: no %s on PATH", name, c)
			}
		}
	}
	if want := path.Join(image.WorkDir, path.Dir(cli.DefaultOut)); settings.LogsDir != want {
		t.Errorf("hack/image LogsDir %s, want %s", settings.LogsDir, want)
	}
	if settings.Binary != image.Binary {
		t.Errorf("hack/image Binary %s, the binary is at %s", settings.Binary, image.Binary)
	}
}

// TestAgreementCatchesDrift changes the Dockerfile the ways it could drift and
// checks that the comparison (or the parse) fails on each.
func TestAgreementCatchesDrift(t *testing.T) {
	orig := readDockerfile(t)
	base, baseBuild, err := dockerFacts(orig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, old, new, want string }{
		{"user", "USER 65532:65532", "USER 1000:1000", "user: Dockerfile 1000:1000"},
		{"user by name", "USER 65532:65532", "USER app", ""},
		{"uid", "--uid 65532", "--uid 1000", "user account"},
		{"home", "--home-dir /app", "--home-dir /home/app", "user account"},
		{"workdir", "WORKDIR /app", "WORKDIR /srv", "workdir"},
		{"entrypoint", `ENTRYPOINT ["/usr/local/bin/atomix-failover"]`, `ENTRYPOINT ["/usr/local/bin/atomix-failover", "run"]`, "entrypoint"},
		{"entrypoint shell form", `ENTRYPOINT ["/usr/local/bin/atomix-failover"]`, `ENTRYPOINT /usr/local/bin/atomix-failover`, "exec (JSON) form"},
		{"binary path", "/out/atomix-failover /usr/local/bin/atomix-failover", "/out/atomix-failover /usr/bin/atomix-failover", "binary path"},
		{"binary owner", "COPY --from=build", "COPY --chown=65532:65532 --from=build", "want COPY --from=build"},
		{"logs dir", "mkdir -p /app/logs", "mkdir -p /app/results", "not owned by root"},
		{"owner of logs", "chown -R 65532:65532 /app", "chown -R 65532:65532 /app/logs", "not owned by root"},
		{"distroless", "FROM debian:${DEBIAN_RELEASE}-slim", "FROM gcr.io/distroless/base-debian12", "does not know what it provides"},
		{"env", "WORKDIR /app", "ENV PATH=/app/bin\nWORKDIR /app", "does not mirror it"},
		{"a package", "&& mkdir -p /app/logs", "&& apt-get install -y curl && mkdir -p /app/logs", "apt-get"},
		{"copied binary", "-o /out/atomix-failover .", "-o /out/other .", "copies /out/atomix-failover"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(orig, c.old) {
				t.Fatalf("the Dockerfile no longer has %q: update this case", c.old)
			}
			facts, _, err := dockerFacts(strings.Replace(orig, c.old, c.new, 1))
			var got []string
			if err != nil {
				got = []string{err.Error()}
			} else {
				got = disagreements(facts, base) // base: what the image has today
			}
			joined := strings.Join(got, "\n")
			switch {
			case c.want == "" && len(got) > 0:
				t.Errorf("an equivalent Dockerfile disagrees: %s", joined)
			case c.want != "" && !strings.Contains(joined, c.want):
				t.Errorf("want a disagreement with %q, got %q", c.want, joined)
			}
		})
	}
	t.Run("build flags", func(t *testing.T) {
		_, b, err := dockerFacts(strings.Replace(orig, `-ldflags="-s -w"`, `-ldflags="-s"`, 1))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(b.Flags) == fmt.Sprint(baseBuild.Flags) {
			t.Errorf("changed -ldflags not seen: %v", b.Flags)
		}
	})
}

// TestImageArchive checks the archive itself: manifest, config, and every
// layer entry's path, kind, mode, owner and content.
func TestImageArchive(t *testing.T) {
	tarData, fake, settings := buildImage(t)
	a, err := readArchive(tarData)
	if err != nil {
		t.Fatal(err)
	}
	checkArchiveFrame(t, a, settings.Tag)
	c := a.config
	if c.Config.User != "65532:65532" || c.Config.WorkingDir != "/app" ||
		!slices.Equal(c.Config.Entrypoint, []string{"/usr/local/bin/atomix-failover"}) || c.Config.Cmd != nil {
		t.Errorf("config %+v", c.Config)
	}

	// Every entry: parents first, the fixed time, no special bits, root's
	// unless it is /app or /app/logs.
	checkEntryOrderAndTime(t, a)
	for _, p := range a.order {
		h := a.layer[p].hdr
		switch h.Typeflag {
		case tar.TypeDir, tar.TypeReg, tar.TypeSymlink:
		default:
			t.Errorf("%s: type %c", p, h.Typeflag)
		}
		if (h.Uid != 0 || h.Gid != 0) && p != "/app" && p != "/app/logs" {
			t.Errorf("%s: owner %d:%d, want root", p, h.Uid, h.Gid)
		}
	}
	want := map[string]struct {
		typ  byte
		mode int64
		uid  int
	}{
		"/usr/local/bin/atomix-failover": {tar.TypeReg, 0o755, 0},
		"/app":                           {tar.TypeDir, 0o755, 65532},
		"/app/logs":                      {tar.TypeDir, 0o755, 65532},
		"/tmp":                           {tar.TypeDir, 0o1777, 0},
		"/etc/passwd":                    {tar.TypeReg, 0o644, 0},
		"/etc/group":                     {tar.TypeReg, 0o644, 0},
	}
	for p, w := range want {
		e, ok := a.layer[p]
		if !ok {
			t.Errorf("%s is not in the layer", p)
			continue
		}
		if e.hdr.Typeflag != w.typ || e.hdr.Mode != w.mode || e.hdr.Uid != w.uid || e.hdr.Gid != w.uid {
			t.Errorf("%s: type %c mode %o owner %d:%d, want type %c mode %o owner %d:%d",
				p, e.hdr.Typeflag, e.hdr.Mode, e.hdr.Uid, e.hdr.Gid, w.typ, w.mode, w.uid, w.uid)
		}
	}
	if !bytes.Equal(a.layer["/usr/local/bin/atomix-failover"].data, fake) {
		t.Error("/usr/local/bin/atomix-failover is not the binary given")
	}
	if got := string(a.layer["/etc/passwd"].data); !strings.Contains(got, "\napp:x:65532:65532::/app:/usr/sbin/nologin\n") {
		t.Errorf("/etc/passwd %q lacks the app user", got)
	}

	checkHostFiles(t, a, settings.HostFiles)
	// Every ELF file finds its loader and libraries in the layer.
	checkELFClosure(t, a)
}

// checkArchiveFrame checks what every image of hack/image shares: the tag,
// the config named by its sha256, the platform, and the one layer's digest.
func checkArchiveFrame(t *testing.T, a *archive, tag string) {
	t.Helper()
	if !slices.Equal(a.manifest[0].RepoTags, []string{tag}) {
		t.Errorf("RepoTags %v, want [%s]", a.manifest[0].RepoTags, tag)
	}
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	if a.configName != sum(a.configRaw)+".json" {
		t.Errorf("config named %s, its sha256 is %s", a.configName, sum(a.configRaw))
	}
	c := a.config
	if c.OS != "linux" || c.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s, want linux/%s", c.OS, c.Architecture, runtime.GOARCH)
	}
	if c.RootFS.Type != "layers" || !slices.Equal(c.RootFS.DiffIDs, []string{"sha256:" + sum(a.layerRaw)}) {
		t.Errorf("rootfs %+v, want the layer's sha256 %s", c.RootFS, sum(a.layerRaw))
	}
}

// checkEntryOrderAndTime checks every layer entry: parents first, the fixed
// time, no special bits but /tmp's.
func checkEntryOrderAndTime(t *testing.T, a *archive) {
	t.Helper()
	mtime := time.Unix(imageEpoch, 0)
	for i, p := range a.order {
		h := a.layer[p].hdr
		if parent := path.Dir(p); parent != "/" {
			if j := slices.Index(a.order, parent); j < 0 || j > i || a.layer[parent].hdr.Typeflag != tar.TypeDir {
				t.Errorf("%s: parent %s is not a directory before it", p, parent)
			}
		}
		if !h.ModTime.Equal(mtime) {
			t.Errorf("%s: mtime %v, want SOURCE_DATE_EPOCH %v", p, h.ModTime, mtime)
		}
		if h.Mode&^0o777 != 0 && p != "/tmp" {
			t.Errorf("%s: mode %o has special bits", p, h.Mode)
		}
	}
}

// checkHostFiles checks the host's programs are in the layer byte for byte,
// executable, at the host's paths through the host's symlinks.
func checkHostFiles(t *testing.T, a *archive, files []string) {
	t.Helper()
	for _, f := range files {
		real, err := filepath.EvalSymlinks(f)
		if err != nil {
			t.Fatal(err)
		}
		hostData, err := os.ReadFile(real)
		if err != nil {
			t.Fatal(err)
		}
		got, e, err := a.resolve(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if got != real || !bytes.Equal(e.data, hostData) || e.hdr.Mode&0o111 == 0 {
			t.Errorf("%s resolves to %s (mode %o) in the image, to %s on the host, or its content differs", f, got, e.hdr.Mode, real)
		}
	}
}

// checkELFClosure resolves, for every ELF file of the layer, its PT_INTERP
// and DT_NEEDED libraries the way a loader without ld.so.cache searches.
func checkELFClosure(t *testing.T, a *archive) {
	t.Helper()
	triplet := map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}[runtime.GOARCH]
	dirs := []string{"/lib/" + triplet, "/usr/lib/" + triplet, "/lib64", "/usr/lib64", "/lib", "/usr/lib"}
	checked := 0
	for _, p := range a.order {
		e := a.layer[p]
		if e.hdr.Typeflag != tar.TypeReg || !bytes.HasPrefix(e.data, []byte(elf.ELFMAG)) {
			continue
		}
		f, err := elf.NewFile(bytes.NewReader(e.data))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		checked++
		for _, prog := range f.Progs {
			if prog.Type != elf.PT_INTERP {
				continue
			}
			b, err := io.ReadAll(prog.Open())
			if err != nil {
				t.Errorf("%s: PT_INTERP: %v", p, err)
				continue
			}
			if _, _, err := a.resolve(strings.TrimRight(string(b), "\x00")); err != nil {
				t.Errorf("%s: its loader: %v", p, err)
			}
		}
		libs, err := f.ImportedLibraries()
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		for _, lib := range libs {
			found := false
			for _, d := range dirs {
				if _, le, err := a.resolve(path.Join(d, lib)); err == nil && le.hdr.Typeflag == tar.TypeReg {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s needs %s, which is in none of %v in the layer", p, lib, dirs)
			}
		}
		_ = f.Close()
	}
	if checked < 4 {
		t.Errorf("%d ELF files in the layer, want the binary, sh, sleep, tar and their libraries", checked)
	}
}

// TestImageReproducible: the same inputs give the same bytes.
func TestImageReproducible(t *testing.T) {
	first, _, _ := buildImage(t)
	second, _, err := buildImageTar()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("two builds of the same binary differ")
	}
}

// TestImageRuns unpacks the layer and runs, chrooted into it as the image's
// user and workdir with its PATH, what the pod runs: the wrapper's sh and
// sleep, a write to the logs dir, kubectl cp's tar, and the binary by path
// and by name. It needs root (chroot); CI runs as root.
func TestImageRuns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chroot")
	}
	tarData, _, _ := buildImage(t)
	a, err := readArchive(tarData)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range a.order {
		e := a.layer[p]
		dst := filepath.Join(root, filepath.FromSlash(p))
		var err error
		switch e.hdr.Typeflag {
		case tar.TypeDir:
			err = os.Mkdir(dst, 0o700)
		case tar.TypeReg:
			err = os.WriteFile(dst, e.data, 0o600)
		case tar.TypeSymlink:
			err = os.Symlink(e.hdr.Linkname, dst)
		}
		if err == nil {
			err = os.Lchown(dst, e.hdr.Uid, e.hdr.Gid)
		}
		if err == nil && e.hdr.Typeflag != tar.TypeSymlink {
			err = os.Chmod(dst, os.FileMode(e.hdr.Mode&0o777)|modeBits(e.hdr.Mode))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	c := a.config.Config
	var uid, gid uint32
	if _, err := fmt.Sscanf(c.User, "%d:%d", &uid, &gid); err != nil {
		t.Fatalf("config User %q: %v", c.User, err)
	}
	script := `set -e
test "$(pwd)" = /app
echo probe > logs/probe
tar cf - -C /app/logs probe > /tmp/probe.tar
test "$(tar tf /tmp/probe.tar)" = probe
sleep 0
` + c.Entrypoint[0] + `
atomix-failover
echo ok`
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = c.WorkingDir
	cmd.Env = c.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Chroot:     root,
		Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}},
	}
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.EPERM) {
		t.Skipf("chroot not permitted here: %v", err)
	}
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("in the image as %s: %v\n%s", c.User, err, out)
	}
}

func modeBits(m int64) os.FileMode {
	var fm os.FileMode
	if m&0o1000 != 0 {
		fm |= os.ModeSticky
	}
	return fm
}

// TestImageFitsDeployment checks the image against deployment.yaml's
// container: its image name, the wrapper's interpreter, the user it runs as
// and the logs volume's mount point.
func TestImageFitsDeployment(t *testing.T) {
	tarData, _, settings := buildImage(t)
	a, err := readArchive(tarData)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var dep *appsv1.Deployment
	for _, doc := range strings.Split(string(b), "\n---") {
		var kind struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &kind); err != nil {
			t.Fatal(err)
		}
		if kind.Kind == "Deployment" {
			dep = &appsv1.Deployment{}
			if err := yaml.Unmarshal([]byte(doc), dep); err != nil {
				t.Fatal(err)
			}
		}
	}
	if dep == nil || len(dep.Spec.Template.Spec.Containers) == 0 {
		t.Fatal("deployment.yaml has no Deployment with a container")
	}
	c := dep.Spec.Template.Spec.Containers[0]
	if c.Image != settings.Tag {
		t.Errorf("the container runs image %s, hack/image tags %s", c.Image, settings.Tag)
	}
	if len(c.Command) > 0 {
		if _, e, err := a.resolve(c.Command[0]); err != nil || e.hdr.Typeflag != tar.TypeReg || e.hdr.Mode&0o111 == 0 {
			t.Errorf("the container's command %s is not an executable in the image: %v", c.Command[0], err)
		}
	}
	var uid, gid int64
	if _, err := fmt.Sscanf(a.config.Config.User, "%d:%d", &uid, &gid); err != nil {
		t.Fatalf("config User %q: %v", a.config.Config.User, err)
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil && *sc.RunAsUser != uid {
			t.Errorf("runAsUser %d, the image's user %d", *sc.RunAsUser, uid)
		}
		if sc.RunAsGroup != nil && *sc.RunAsGroup != gid {
			t.Errorf("runAsGroup %d, the image's group %d", *sc.RunAsGroup, gid)
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.MountPath == settings.LogsDir {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("no volume mounted at the image's logs dir %s (the root filesystem is read-only)", settings.LogsDir)
	}
}
