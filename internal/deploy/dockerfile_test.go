package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// imageFacts is what the Dockerfile's runtime stage and the image written by
// hack/image must agree on; each side is read into one, then compared.
type imageFacts struct {
	Binary      string // the experiment binary's path
	BinaryOwner owner
	User        owner   // the user the entrypoint runs as
	Account     account // its /etc/passwd entry
	WorkDir     string
	Entrypoint  []string
	OwnedDirs   map[string]owner // every directory not owned by root
	Path        string           // the PATH the entrypoint gets
	Commands    map[string]bool  // of requiredCommands, those found on Path
}

type owner struct{ UID, GID int }

func (o owner) String() string { return fmt.Sprintf("%d:%d", o.UID, o.GID) }

type account struct {
	Name  string
	UID   int
	GID   int
	Home  string
	Shell string
}

// requiredCommands are the programs the pod needs beside the binary, found on
// PATH: sh runs deployment.yaml's wrapper, sleep its idle loop, and kubectl cp
// runs tar in the container.
var requiredCommands = []string{"sh", "sleep", "tar"}

// disagreements lists where the Dockerfile's facts and the image's differ.
func disagreements(docker, image imageFacts) []string {
	var out []string
	diff := func(what string, d, i any) {
		if fmt.Sprint(d) != fmt.Sprint(i) {
			out = append(out, fmt.Sprintf("%s: Dockerfile %v, image %v", what, d, i))
		}
	}
	diff("binary path", docker.Binary, image.Binary)
	diff("binary owner", docker.BinaryOwner, image.BinaryOwner)
	diff("user", docker.User, image.User)
	diff("user account", docker.Account, image.Account)
	diff("workdir", docker.WorkDir, image.WorkDir)
	diff("entrypoint", strconv.Quote(strings.Join(docker.Entrypoint, "\x00")), strconv.Quote(strings.Join(image.Entrypoint, "\x00")))
	diff("directories not owned by root", sortedOwners(docker.OwnedDirs), sortedOwners(image.OwnedDirs))
	diff("PATH", docker.Path, image.Path)
	for _, c := range requiredCommands {
		diff("has "+c, docker.Commands[c], image.Commands[c])
	}
	return out
}

func sortedOwners(m map[string]owner) string {
	var s []string
	for d, o := range m {
		s = append(s, d+"="+o.String())
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

// baseImages are the runtime bases the test knows: what each provides that
// the image must reproduce. debian's essential packages include dash (/bin/sh),
// coreutils (sleep) and tar, and its PATH is the one below.
var baseImages = []struct {
	ref      *regexp.Regexp
	path     string
	commands []string
}{
	{
		ref:      regexp.MustCompile(`^(docker\.io/(library/)?)?debian:[a-z0-9.]+(-slim)?(@sha256:[0-9a-f]{64})?$`),
		path:     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		commands: []string{"sh", "sleep", "tar"},
	},
}

// dockerfile is a parsed Dockerfile: logical lines (continuations joined,
// comments dropped) grouped into stages.
type dockerfile struct {
	args   map[string]string // ARG defaults before the first FROM
	stages []stage
}

type stage struct {
	from, name string
	instrs     []instruction
}

type instruction struct {
	cmd, args string // cmd upper-cased
}

func parseDockerfile(text string) (dockerfile, error) {
	df := dockerfile{args: map[string]string{}}
	var logical []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") || (t == "" && cur.Len() == 0) {
			continue // a comment (or parser directive), also inside a continuation
		}
		if strings.HasSuffix(t, `\`) {
			cur.WriteString(strings.TrimSuffix(t, `\`))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(t)
		if s := strings.TrimSpace(cur.String()); s != "" {
			logical = append(logical, s)
		}
		cur.Reset()
	}
	if cur.Len() > 0 {
		return df, fmt.Errorf("the Dockerfile ends inside a line continuation")
	}
	for _, l := range logical {
		cmd, args, _ := strings.Cut(l, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			var st stage
			for _, w := range f {
				if !strings.HasPrefix(w, "--") {
					st.from = w
					break
				}
			}
			if i := slices.IndexFunc(f, func(w string) bool { return strings.EqualFold(w, "AS") }); i >= 0 && i+1 < len(f) {
				st.name = f[i+1]
			}
			st.from = os.Expand(st.from, func(k string) string { return df.args[k] })
			df.stages = append(df.stages, st)
		case len(df.stages) == 0:
			if in.cmd != "ARG" {
				return df, fmt.Errorf("%s before the first FROM", in.cmd)
			}
			k, v, _ := strings.Cut(in.args, "=")
			df.args[k] = strings.Trim(v, `"`)
		default:
			df.stages[len(df.stages)-1].instrs = append(df.stages[len(df.stages)-1].instrs, in)
		}
	}
	if len(df.stages) == 0 {
		return df, fmt.Errorf("no FROM")
	}
	return df, nil
}

// goBuild is the binary's go build command line in the Dockerfile's build
// stage, in hack/image's Build terms, and the file it writes.
type goBuild struct {
	Env     []string `json:"env"`
	Flags   []string `json:"flags"`
	Package string   `json:"package"`
	out     string
}

// buildCommand finds the one `go build` of the stages before the runtime stage.
func (df dockerfile) buildCommand() (goBuild, error) {
	var found []goBuild
	for _, st := range df.stages[:len(df.stages)-1] {
		for _, in := range st.instrs {
			if in.cmd != "RUN" || !strings.Contains(in.args, "go build") {
				continue
			}
			words, err := shellWords(in.args)
			if err != nil {
				return goBuild{}, err
			}
			for len(words) > 0 && strings.HasPrefix(words[0], "--mount=") {
				words = words[1:]
			}
			var b goBuild
			i := slices.Index(words, "go")
			if i < 0 || i+1 >= len(words) || words[i+1] != "build" {
				return goBuild{}, fmt.Errorf("RUN %s: want [ENV=value ...] go build ...", in.args)
			}
			for _, w := range words[:i] {
				if !strings.Contains(w, "=") {
					return goBuild{}, fmt.Errorf("RUN %s: %q before go build", in.args, w)
				}
				b.Env = append(b.Env, w)
			}
			rest := words[i+2:]
			for j := 0; j < len(rest); j++ {
				switch w := rest[j]; {
				case w == "-o" && j+1 < len(rest):
					b.out = rest[j+1]
					j++
				case strings.HasPrefix(w, "-"):
					b.Flags = append(b.Flags, w)
				case b.Package == "":
					b.Package = w
				default:
					return goBuild{}, fmt.Errorf("RUN %s: more than one package", in.args)
				}
			}
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		return goBuild{}, fmt.Errorf("want one go build before the runtime stage, found %d", len(found))
	}
	return found[0], nil
}

// runtimeFacts reads the last stage: every instruction must be one the test
// (and so hack/image) mirrors.
func (df dockerfile) runtimeFacts() (imageFacts, string, error) {
	st := df.stages[len(df.stages)-1]
	f := imageFacts{OwnedDirs: map[string]owner{}, Commands: map[string]bool{}, WorkDir: "/"}
	found := false
	for _, b := range baseImages {
		if b.ref.MatchString(st.from) {
			found = true
			f.Path = b.path
			for _, c := range b.commands {
				f.Commands[c] = true
			}
		}
	}
	if !found {
		return f, "", fmt.Errorf("runtime base image %q: the test does not know what it provides (%v on PATH, PATH itself); "+
			"teach baseImages and make hack/image match", st.from, requiredCommands)
	}

	users := map[string]account{}
	groups := map[string]int{}
	created := map[string]bool{}
	var copied []string
	var copySrc string
	for _, in := range st.instrs {
		switch in.cmd {
		case "RUN":
			for _, c := range strings.Split(in.args, "&&") {
				if err := runCommand(strings.Fields(c), users, groups, created, f.OwnedDirs); err != nil {
					return f, "", fmt.Errorf("RUN %s: %w", in.args, err)
				}
			}
		case "COPY":
			w := strings.Fields(in.args)
			if len(w) != 3 || w[0] != "--from="+df.stages[0].name {
				return f, "", fmt.Errorf("COPY %s: want COPY --from=%s <binary> <path> (hack/image copies nothing else)", in.args, df.stages[0].name)
			}
			copySrc = w[1]
			dst := w[2]
			if strings.HasSuffix(dst, "/") {
				dst += path.Base(w[1])
			}
			copied = append(copied, dst)
		case "WORKDIR":
			f.WorkDir = path.Join(f.WorkDir, in.args)
		case "USER":
			u, err := resolveUser(in.args, users, groups)
			if err != nil {
				return f, "", err
			}
			f.User = u
		case "ENTRYPOINT":
			f.Entrypoint = nil
			if err := json.Unmarshal([]byte(in.args), &f.Entrypoint); err != nil {
				return f, "", fmt.Errorf("ENTRYPOINT %s: want the exec (JSON) form: %v", in.args, err)
			}
		case "ARG":
		default:
			return f, "", fmt.Errorf("%s %s in the runtime stage: hack/image does not mirror it; teach it and this test", in.cmd, in.args)
		}
	}
	if len(copied) != 1 {
		return f, "", fmt.Errorf("want one COPY of the binary into the runtime stage, found %d", len(copied))
	}
	f.Binary = copied[0]
	for _, a := range users {
		if a.UID == f.User.UID {
			f.Account = a
		}
	}
	return f, copySrc, nil
}

// runCommand applies one command of a runtime-stage RUN.
func runCommand(w []string, users map[string]account, groups map[string]int, created map[string]bool, owned map[string]owner) error {
	if len(w) == 0 {
		return fmt.Errorf("an empty command")
	}
	opts := func(known map[string]bool) (map[string]string, []string, error) {
		o := map[string]string{}
		var rest []string
		for i := 1; i < len(w); i++ {
			if k, v, ok := strings.Cut(w[i], "="); ok && strings.HasPrefix(k, "-") && known[k+"="] {
				o[k] = v
				continue
			}
			switch {
			case known[w[i]]:
				o[w[i]] = "true"
			case strings.HasPrefix(w[i], "-") && known[w[i]+"="] && i+1 < len(w):
				o[w[i]] = w[i+1]
				i++
			case strings.HasPrefix(w[i], "-"):
				return nil, nil, fmt.Errorf("%s: option %s unknown to the test", w[0], w[i])
			default:
				rest = append(rest, w[i])
			}
		}
		return o, rest, nil
	}
	atoi := func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a numeric id", s)
		}
		return n, nil
	}
	switch w[0] {
	case "groupadd":
		o, rest, err := opts(map[string]bool{"--gid=": true, "-g=": true})
		if err != nil || len(rest) != 1 {
			return fmt.Errorf("groupadd %v: want groupadd --gid N NAME (%v)", w[1:], err)
		}
		gid, err := atoi(o["--gid"] + o["-g"])
		if err != nil {
			return err
		}
		groups[rest[0]] = gid
	case "useradd":
		o, rest, err := opts(map[string]bool{
			"--uid=": true, "-u=": true, "--gid=": true, "-g=": true, "--home-dir=": true, "-d=": true,
			"--shell=": true, "-s=": true, "--no-create-home": true, "-M": true,
		})
		if err != nil || len(rest) != 1 {
			return fmt.Errorf("useradd %v: want useradd --uid N --gid G --no-create-home --home-dir D --shell S NAME (%v)", w[1:], err)
		}
		uid, err := atoi(o["--uid"] + o["-u"])
		if err != nil {
			return err
		}
		g := o["--gid"] + o["-g"]
		gid, ok := groups[g]
		if !ok {
			if gid, err = atoi(g); err != nil {
				return err
			}
		}
		if o["--no-create-home"] == "" && o["-M"] == "" {
			return fmt.Errorf("useradd without --no-create-home: hack/image creates no home directory")
		}
		users[rest[0]] = account{Name: rest[0], UID: uid, GID: gid, Home: o["--home-dir"] + o["-d"], Shell: o["--shell"] + o["-s"]}
	case "mkdir":
		_, rest, err := opts(map[string]bool{"-p": true})
		if err != nil {
			return err
		}
		for _, d := range rest {
			for p := path.Clean(d); p != "/"; p = path.Dir(p) {
				created[p] = true
			}
		}
	case "chown":
		o, rest, err := opts(map[string]bool{"-R": true})
		if err != nil || len(rest) != 2 {
			return fmt.Errorf("chown %v: want chown [-R] UID:GID PATH (%v)", w[1:], err)
		}
		u, err := resolveUser(rest[0], users, groups)
		if err != nil {
			return err
		}
		root := path.Clean(rest[1])
		for d := range created {
			if d == root || (o["-R"] != "" && strings.HasPrefix(d, root+"/")) {
				owned[d] = u
			}
		}
	default:
		return fmt.Errorf("%s: a command unknown to the test; hack/image must do what it does", w[0])
	}
	return nil
}

// resolveUser reads USER's or chown's user[:group], by name or id.
func resolveUser(s string, users map[string]account, groups map[string]int) (owner, error) {
	u, g, hasGroup := strings.Cut(s, ":")
	var o owner
	if a, ok := users[u]; ok {
		o = owner{a.UID, a.GID}
	} else if n, err := strconv.Atoi(u); err == nil {
		o = owner{n, 0} // an unknown uid runs with group root
		for _, a := range users {
			if a.UID == n {
				o.GID = a.GID
			}
		}
	} else {
		return o, fmt.Errorf("user %q: unknown", s)
	}
	if hasGroup {
		if n, ok := groups[g]; ok {
			o.GID = n
		} else if n, err := strconv.Atoi(g); err == nil {
			o.GID = n
		} else {
			return o, fmt.Errorf("group in %q: unknown", s)
		}
	}
	return o, nil
}

// shellWords splits a command line as sh would for the plain words, quotes
// and backslashes of a Dockerfile RUN.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteRune(c)
			}
		case c == '\'' || c == '"':
			quote = c
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
