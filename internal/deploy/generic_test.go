package deploy_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// buildImageCommand builds hack/image/main.go into dir, as hack/cluster's
// cluster.sh does, so that its exit codes can be seen (go run reports 1 for
// any failure).
func buildImageCommand(t *testing.T, dir string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("hack/image copies a Linux host's programs and libraries")
	}
	bin := filepath.Join(dir, "image")
	cmd := exec.Command("go", "build", "-o", bin, "./hack/image/main.go")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./hack/image/main.go: %v\n%s", err, out)
	}
	return bin
}

// runImageCommand runs the built command and returns its exit code and stderr.
func runImageCommand(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.Itoa(imageEpoch))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stderr.String()
	default:
		t.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
		return 0, ""
	}
}

// TestGenericImage writes an image the way hack/cluster writes its raft node
// image (hack/image -generic: a binary at another path, host programs with
// their libraries, a directory, the environment, a user) and checks the
// archive: manifest, config, every entry's kind, mode, owner and time, the
// programs at the host's paths through the host's symlinks, the ELF closure,
// and the same bytes from a second run.
func TestGenericImage(t *testing.T) {
	dir := t.TempDir()
	bin := buildImageCommand(t, dir)
	fake, err := fakeBinary()
	if err != nil {
		t.Fatal(err)
	}
	fakePath := filepath.Join(dir, "fake-node")
	if err := os.WriteFile(fakePath, fake, 0o755); err != nil {
		t.Fatal(err)
	}
	const (
		tag    = "localhost/test/generic:v1"
		binary = "/usr/local/bin/fake-node"
		env    = "PATH=/usr/local/bin:/usr/bin:/bin"
		user   = "1000:1000"
	)
	hostFiles := []string{"/bin/sh", "/bin/sleep"}
	args := []string{"-generic", "-tag", tag, "-entrypoint", `["` + binary + `", "run"]`,
		"-file", fakePath + ":" + binary, "-ldd", "-dir", "/tmp:1777", "-env", env, "-user", user}
	for _, f := range hostFiles {
		args = append(args, "-file", f)
	}
	write := func(name string) []byte {
		t.Helper()
		out := filepath.Join(dir, name)
		if code, stderr := runImageCommand(t, bin, append([]string{"-o", out}, args...)...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tarData := write("generic.tar")
	if again := write("again.tar"); !bytes.Equal(tarData, again) {
		t.Error("two runs with the same flags differ")
	}
	a, err := readArchive(tarData)
	if err != nil {
		t.Fatal(err)
	}

	checkArchiveFrame(t, a, tag)
	if cc := a.config.Config; cc.User != user || !slices.Equal(cc.Env, []string{env}) ||
		!slices.Equal(cc.Entrypoint, []string{binary, "run"}) || cc.WorkingDir != "" || cc.Cmd != nil {
		t.Errorf("config %+v", cc)
	}

	// Every entry: parents first, the fixed time, root's; only /tmp has
	// special bits; nothing but what the flags name and their parents.
	checkEntryOrderAndTime(t, a)
	for _, p := range a.order {
		h := a.layer[p].hdr
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: owner %d:%d, want root", p, h.Uid, h.Gid)
		}
		if strings.HasPrefix(p, "/etc") || strings.HasPrefix(p, "/app") {
			t.Errorf("%s is in the layer: -generic adds only what its flags name", p)
		}
	}
	for p, w := range map[string]struct {
		typ  byte
		mode int64
	}{
		"/usr/local":     {tar.TypeDir, 0o755},
		"/usr/local/bin": {tar.TypeDir, 0o755},
		binary:           {tar.TypeReg, 0o755},
		"/tmp":           {tar.TypeDir, 0o1777},
	} {
		if e, ok := a.layer[p]; !ok || e.hdr.Typeflag != w.typ || e.hdr.Mode != w.mode {
			t.Errorf("%s: in the layer %v, want type %c mode %o", p, ok, w.typ, w.mode)
		}
	}
	if !bytes.Equal(a.layer[binary].data, fake) {
		t.Errorf("%s is not the file given", binary)
	}

	checkHostFiles(t, a, hostFiles)
	checkELFClosure(t, a)
}

// TestImageFlags checks that hack/image's two modes cannot be mixed and that
// each flag's bad value is a usage error (exit 2), not an image.
func TestImageFlags(t *testing.T) {
	dir := t.TempDir()
	bin := buildImageCommand(t, dir)
	out := filepath.Join(dir, "out.tar")
	generic := []string{"-generic", "-o", out, "-tag", "x:v1", "-entrypoint", `["/x"]`, "-file", "/bin/sh"}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"generic flag without -generic", []string{"-o", out, "-file", "/bin/sh"}, 2, "-file needs -generic"},
		{"-ldd without -generic", []string{"-o", out, "-ldd"}, 2, "-ldd needs -generic"},
		{"-user without -generic", []string{"-o", out, "-user", "0"}, 2, "-user needs -generic"},
		{"project flag with -generic", append(slices.Clone(generic), "-binary", "/bin/sh"), 2, "-binary is for the project image"},
		{"-print-settings with -generic", append(slices.Clone(generic), "-print-settings"), 2, "-print-settings is for the project image"},
		{"-generic without -tag", []string{"-generic", "-o", out, "-entrypoint", `["/x"]`, "-file", "/bin/sh"}, 2, "-generic needs -tag"},
		{"-generic without -entrypoint", []string{"-generic", "-o", out, "-tag", "x:v1", "-file", "/bin/sh"}, 2, "-generic needs -entrypoint"},
		{"-generic without -file", []string{"-generic", "-o", out, "-tag", "x:v1", "-entrypoint", `["/x"]`}, 2, "-generic needs -file"},
		{"-generic without -o", []string{"-generic", "-tag", "x:v1", "-entrypoint", `["/x"]`, "-file", "/bin/sh"}, 2, "-generic needs -o"},
		{"empty entrypoint", append(slices.Clone(generic), "-entrypoint", "[]"), 2, "-entrypoint []"},
		{"shell-form entrypoint", append(slices.Clone(generic), "-entrypoint", "/x"), 2, "-entrypoint /x"},
		{"relative image path", append(slices.Clone(generic), "-file", "/bin/sh:bin/sh"), 2, `-file "/bin/sh:bin/sh"`},
		{"bad dir mode", append(slices.Clone(generic), "-dir", "/tmp:999"), 2, `-dir "/tmp:999"`},
		{"dir without mode", append(slices.Clone(generic), "-dir", "/tmp"), 2, `-dir "/tmp"`},
		{"bad env", append(slices.Clone(generic), "-env", "PATH"), 2, `-env "PATH"`},
		{"-print-settings with -o", []string{"-print-settings", "-o", out}, 2, "-print-settings takes no other flag"},
		{"-binary with -src", []string{"-o", out, "-binary", "/bin/sh", "-src", "."}, 2, "-binary and -src exclude each other"},
		{"project without -o", nil, 2, "-o is required"},
		{"an argument", []string{"-o", out, "extra"}, 2, `unexpected argument "extra"`},
		{"missing host file", append(slices.Clone(generic), "-file", "/nonexistent/file"), 1, "-file /nonexistent/file: "},
		{"a file where a dir is", append(slices.Clone(generic), "-dir", "/x:755", "-file", "/bin/sh:/x"), 1, "-file /bin/sh:/x: /x is in the layer twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := runImageCommand(t, bin, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, c.code, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}
