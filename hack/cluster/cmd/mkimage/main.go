// Command mkimage writes a one-layer docker-archive image tar (manifest.json,
// a config and one layer), without a registry or a base image, for
// `ctr image import`. Files are copied from this host; with -ldd, the shared
// libraries `ldd` names for each copied program are copied too.
//
//	mkimage -o out.tar -tag localhost/x:v1 -entrypoint '["/x"]' -file /path/x:/x -dir /tmp:1777
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

type entry struct {
	name   string // path in the image, no leading slash
	mode   int64
	dir    bool
	link   string // symlink target
	source string // host file to copy
}

func main() {
	out := flag.String("o", "", "output `tar` (required)")
	tag := flag.String("tag", "", "image `name:tag` (required)")
	entrypoint := flag.String("entrypoint", "", "JSON array")
	user := flag.String("user", "", "user to run as")
	var files, dirs, env list
	flag.Var(&files, "file", "`host:image` file to copy (repeatable)")
	flag.Var(&dirs, "dir", "`path:octal-mode` directory to create (repeatable)")
	flag.Var(&env, "env", "`K=V` environment (repeatable)")
	ldd := flag.Bool("ldd", false, "copy the shared libraries ldd lists for every -file")
	flag.Parse()
	if *out == "" || *tag == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *tag, *entrypoint, *user, files, dirs, env, *ldd); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(out, tag, entrypoint, user string, files, dirs, env []string, ldd bool) error {
	entries := map[string]*entry{}
	addDir := func(p string, mode int64) {
		for d := strings.Trim(p, "/"); d != "." && d != ""; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = &entry{name: d, mode: 0o755, dir: true}
			}
		}
		if d := strings.Trim(p, "/"); d != "" && d != "." {
			entries[d].mode = mode
		}
	}
	var addFile func(src, dst string) error
	addFile = func(src, dst string) error {
		st, err := os.Lstat(src)
		if err != nil {
			return err
		}
		dst = strings.Trim(dst, "/")
		addDir(path.Dir(dst), 0o755)
		if st.Mode()&os.ModeSymlink == 0 {
			entries[dst] = &entry{name: dst, mode: int64(st.Mode().Perm()), source: src}
			return nil
		}
		// Keep a host symlink (e.g. /lib64/ld-linux-x86-64.so.2) and copy
		// what it points to at the same path.
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		entries[dst] = &entry{name: dst, link: target}
		abs := target
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(filepath.Dir(src), target)
		}
		if _, ok := entries[strings.Trim(abs, "/")]; ok {
			return nil
		}
		return addFile(abs, abs)
	}
	for _, d := range dirs {
		p, m, ok := strings.Cut(d, ":")
		mode, err := strconv.ParseInt(m, 8, 64)
		if !ok || err != nil {
			return fmt.Errorf("bad -dir %q", d)
		}
		addDir(p, mode)
	}
	for _, f := range files {
		src, dst, ok := strings.Cut(f, ":")
		if !ok {
			dst = src
		}
		if err := addFile(src, dst); err != nil {
			return err
		}
		if ldd {
			libs, err := sharedLibs(src)
			if err != nil {
				return err
			}
			for _, l := range libs {
				if err := addFile(l, l); err != nil {
					return err
				}
			}
		}
	}

	layer, err := layerTar(entries)
	if err != nil {
		return err
	}
	layerSum := sha256.Sum256(layer)
	layerID := hex.EncodeToString(layerSum[:])
	cfg := map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      time.Unix(0, 0).UTC().Format(time.RFC3339),
		"config":       map[string]any{"Env": env, "User": user},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerID}},
	}
	if entrypoint != "" {
		var ep []string
		if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil {
			return fmt.Errorf("-entrypoint: %w", err)
		}
		cfg["config"].(map[string]any)["Entrypoint"] = ep
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgSum := sha256.Sum256(cfgJSON)
	cfgName := hex.EncodeToString(cfgSum[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{
		"Config": cfgName, "RepoTags": []string{tag}, "Layers": []string{layerID + "/layer.tar"},
	}})
	if err != nil {
		return err
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{layerID + "/layer.tar", layer}, {cfgName, cfgJSON}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

var lddPath = regexp.MustCompile(`(/\S+)\s+\(0x`)

// sharedLibs lists the absolute library paths ldd prints for a program; a
// static program has none.
func sharedLibs(prog string) ([]string, error) {
	out, err := exec.Command("ldd", prog).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %v: %s", prog, err, out)
	}
	var libs []string
	for _, m := range lddPath.FindAllStringSubmatch(string(out), -1) {
		libs = append(libs, m[1])
	}
	return libs, nil
}

func layerTar(entries map[string]*entry) ([]byte, error) {
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := entries[n]
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		switch {
		case e.dir:
			h.Typeflag, h.Name = tar.TypeDir, e.name+"/"
		case e.link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, e.link, 0o777
		default:
			data, err := os.ReadFile(e.source)
			if err != nil {
				return nil, err
			}
			h.Typeflag, h.Size = tar.TypeReg, int64(len(data))
			if err := tw.WriteHeader(h); err != nil {
				return nil, err
			}
			if _, err := io.Copy(tw, bytes.NewReader(data)); err != nil {
				return nil, err
			}
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
