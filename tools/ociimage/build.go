package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Options say where the build reads from and writes to.
type Options struct {
	Root       string    // build context: the repository root
	Dockerfile string    // path of the Dockerfile
	Version    string    // build argument VERSION; "" keeps the Dockerfile's default
	CACerts    string    // CA bundle for /etc/ssl/certs/ca-certificates.crt (Debian's ca-certificates)
	Zoneinfo   string    // tree for /usr/share/zoneinfo (Debian's tzdata)
	Created    time.Time // timestamp of the image and of every file in it
	Work       string    // scratch directory for the build stage's outputs
	Log        io.Writer // progress; the go commands' output
}

// Entry is one file, directory or symbolic link of a layer.
type Entry struct {
	Path     string      // in the image, without a leading slash
	Mode     fs.FileMode // type and permission bits
	UID, GID int
	Source   string // host file holding a regular file's content
	Data     []byte // a regular file's content when Source is empty
	Link     string // a symbolic link's target
}

// Layer is one filesystem layer and the instruction that made it.
type Layer struct {
	CreatedBy string
	Entries   []Entry
}

// Image is a built image before it is written out.
type Image struct {
	Config  RuntimeConfig
	Layers  []Layer
	History []History
}

// History is one entry of the image configuration's history.
type History struct {
	Created    time.Time `json:"created"`
	CreatedBy  string    `json:"created_by"`
	EmptyLayer bool      `json:"empty_layer,omitempty"`
}

// distroless is the base image the tool can stand in for: Google's
// distroless "static" images hold no program, only the files below, so a
// layer of the same files from Debian's own packages is the same base.
const distroless = "gcr.io/distroless/static-debian12"

// nonrootUID is the distroless "nonroot" user (and group).
const nonrootUID = 65532

// Build runs the Dockerfile's build stages on this machine (with the local
// Go toolchain, which must be the release the build image names) and
// assembles the final stage: a base layer standing in for the distroless
// image, one layer per COPY, and the runtime configuration from the final
// stage's instructions.
func Build(opts Options) (*Image, error) {
	stages, err := ParseDockerfile(opts.Dockerfile)
	if err != nil {
		return nil, err
	}
	final := stages[len(stages)-1]
	base, baseConfig, err := baseLayer(final.From, opts)
	if err != nil {
		return nil, err
	}
	img := &Image{Layers: []Layer{base}, History: []History{{Created: opts.Created, CreatedBy: base.CreatedBy}}}
	img.Config, err = RuntimeConfigOf(final, baseConfig)
	if err != nil {
		return nil, err
	}

	built := map[string]*stageFS{}
	for _, in := range final.Instrs {
		text := in.Cmd + " " + flagText(in) + in.Args
		if in.Cmd != "COPY" {
			img.History = append(img.History, History{Created: opts.Created, CreatedBy: text, EmptyLayer: true})
			continue
		}
		src := &stageFS{root: opts.Root, workdir: "/"} // COPY without --from reads the context
		if from := in.Flags["from"]; from != "" {
			if src = built[from]; src == nil {
				st, ok := stageNamed(stages[:len(stages)-1], from)
				if !ok {
					return nil, fmt.Errorf("line %d: COPY --from=%s: no such build stage", in.Line, from)
				}
				if src, err = runStage(st, opts); err != nil {
					return nil, fmt.Errorf("build stage %s: %w", from, err)
				}
				built[from] = src
			}
		}
		entries, err := copyEntries(in, src, img.Config.WorkingDir)
		if err != nil {
			return nil, err
		}
		img.Layers = append(img.Layers, Layer{CreatedBy: text, Entries: entries})
		img.History = append(img.History, History{Created: opts.Created, CreatedBy: text})
	}
	return img, nil
}

func flagText(in Instr) string {
	var b strings.Builder
	for _, k := range []string{"from", "chown", "chmod", "interval", "timeout", "start-period", "retries"} {
		if v, ok := in.Flags[k]; ok {
			fmt.Fprintf(&b, "--%s=%s ", k, v)
		}
	}
	return b.String()
}

func stageNamed(stages []Stage, name string) (Stage, bool) {
	for i, st := range stages {
		if st.Name == name || strconv.Itoa(i) == name {
			return st, true
		}
	}
	return Stage{}, false
}

// baseLayer stands in for the final stage's base image.
func baseLayer(ref string, opts Options) (Layer, RuntimeConfig, error) {
	repo, tag := splitRef(ref)
	if repo != distroless || (tag != "nonroot" && tag != "latest") {
		return Layer{}, RuntimeConfig{}, fmt.Errorf("final stage FROM %s: only %s:nonroot (or :latest) is known to this tool; teach baseLayer the new base's files", ref, distroless)
	}
	certs, err := os.Stat(opts.CACerts)
	if err != nil || !certs.Mode().IsRegular() {
		return Layer{}, RuntimeConfig{}, fmt.Errorf("CA certificates %s: %v (install Debian's ca-certificates)", opts.CACerts, err)
	}
	var entries []Entry
	dir := func(p string, mode fs.FileMode, uid int) {
		entries = append(entries, Entry{Path: p, Mode: fs.ModeDir | mode, UID: uid, GID: uid})
	}
	file := func(p, data string) {
		entries = append(entries, Entry{Path: p, Mode: 0o644, Data: []byte(data)})
	}
	dir("etc", 0o755, 0)
	file("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\n"+
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"+
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
	file("etc/group", "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n")
	file("etc/nsswitch.conf", "hosts: files dns\n")
	dir("etc/ssl", 0o755, 0)
	dir("etc/ssl/certs", 0o755, 0)
	entries = append(entries, Entry{Path: "etc/ssl/certs/ca-certificates.crt", Mode: 0o644, Source: opts.CACerts})
	dir("home", 0o755, 0)
	dir("home/nonroot", 0o700, nonrootUID)
	dir("root", 0o700, 0)
	dir("tmp", fs.ModeSticky|0o777, 0)
	dir("usr", 0o755, 0)
	dir("usr/share", 0o755, 0)
	zones, err := treeEntries(opts.Zoneinfo, "usr/share/zoneinfo", -1, -1)
	if err != nil {
		return Layer{}, RuntimeConfig{}, fmt.Errorf("tzdata %s: %w (install Debian's tzdata)", opts.Zoneinfo, err)
	}
	entries = append(entries, zones...)
	// The distroless image's own configuration, which the final stage
	// builds on.
	cfg := RuntimeConfig{
		User:       strconv.Itoa(nonrootUID),
		WorkingDir: "/home/nonroot",
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
		},
	}
	return Layer{CreatedBy: "FROM " + ref + " (stand-in: passwd, group, nsswitch.conf, Debian's CA certificates and tzdata, /tmp, /home/nonroot)", Entries: entries}, cfg, nil
}

// splitRef returns an image reference's repository and tag, dropping a
// digest: the tag says which variant, and the stand-in has no digest.
func splitRef(ref string) (repo, tag string) {
	ref, _, _ = strings.Cut(ref, "@")
	slash := strings.LastIndexByte(ref, '/')
	if colon := strings.LastIndexByte(ref, ':'); colon > slash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, "latest"
}

// stageFS is a build stage's filesystem as this tool sees it: the stage's
// WORKDIR is the build context itself (the stage copies the context there),
// and any other absolute path lives under work.
type stageFS struct {
	root    string // the build context
	workdir string // the stage's WORKDIR, mapped to root
	work    string // where the stage's other absolute paths live
}

// hostPath maps a path of the stage to this machine.
func (s *stageFS) hostPath(p string) string {
	if !path.IsAbs(p) {
		p = path.Join(s.workdir, p)
	}
	if s.workdir != "/" && (p == s.workdir || strings.HasPrefix(p, s.workdir+"/")) {
		return filepath.Join(s.root, filepath.FromSlash(strings.TrimPrefix(p, s.workdir)))
	}
	if s.work == "" {
		return filepath.Join(s.root, filepath.FromSlash(p)) // the context: paths are relative to it
	}
	return filepath.Join(s.work, filepath.FromSlash(p))
}

// runStage runs a build stage's instructions: WORKDIR, ARG, ENV, COPY of
// the context into the WORKDIR (the context already is the WORKDIR), and
// RUN of `go` and `mkdir -p` commands chained with &&. Anything else is
// refused, so the Dockerfile cannot grow a step this tool silently skips.
func runStage(st Stage, opts Options) (*stageFS, error) {
	if err := checkGoRelease(st.From); err != nil {
		return nil, err
	}
	fsys := &stageFS{root: opts.Root, workdir: "/", work: filepath.Join(opts.Work, "stage-"+st.Name)}
	if err := os.MkdirAll(fsys.work, 0o755); err != nil {
		return nil, err
	}
	vars := map[string]string{}
	env := os.Environ()
	for _, in := range st.Instrs {
		switch in.Cmd {
		case "WORKDIR":
			fsys.workdir = path.Clean(in.Args)
		case "ARG":
			name, def, _ := strings.Cut(in.Args, "=")
			vars[name] = def
			if name == "VERSION" && opts.Version != "" {
				vars[name] = opts.Version
			}
		case "ENV":
			pairs, err := keyValues(in.Args)
			if err != nil {
				return nil, fmt.Errorf("line %d: ENV: %w", in.Line, err)
			}
			for _, kv := range pairs {
				vars[kv[0]] = kv[1]
				env = append(env, kv[0]+"="+kv[1])
			}
		case "COPY":
			words, err := shellWords(in.Args, nil)
			if err != nil || in.Flags["from"] != "" || path.Clean(path.Join(fsys.workdir, words[len(words)-1])) != fsys.workdir {
				return nil, fmt.Errorf("line %d: COPY %s: only copies of the context into the WORKDIR are supported here", in.Line, in.Args)
			}
		case "RUN":
			for name := range in.Flags {
				if name != "mount" {
					return nil, fmt.Errorf("line %d: RUN --%s is not supported", in.Line, name)
				}
			}
			if err := runCommands(in, vars, env, fsys, opts.Log); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("line %d: %s is not supported in a build stage", in.Line, in.Cmd)
		}
	}
	return fsys, nil
}

// checkGoRelease requires the local Go to be of the release line the build
// image names (golang:1.26-bookworm, or golang:1.26.8@sha256:…: go1.26), so
// the binary is the one the Dockerfile would build. Patch releases may
// differ: go.mod's go and toolchain lines raise the build image's Go to the
// same minimum in both builds.
func checkGoRelease(ref string) error {
	repo, tag := splitRef(ref)
	if path.Base(repo) != "golang" {
		return fmt.Errorf("build stage FROM %s: only golang images are supported", ref)
	}
	want := releaseLine("go" + strings.SplitN(tag, "-", 2)[0])
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return fmt.Errorf("go env GOVERSION: %w", err)
	}
	if have := strings.TrimSpace(string(out)); releaseLine(have) != want {
		return fmt.Errorf("build stage FROM %s builds with %s.x, but the local Go is %s", ref, want, have)
	}
	return nil
}

// releaseLine cuts a Go version to its release line: go1.26.8 → go1.26.
func releaseLine(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// runCommands runs one RUN line: simple commands joined by &&.
func runCommands(in Instr, vars map[string]string, env []string, fsys *stageFS, log io.Writer) error {
	if strings.ContainsAny(strings.ReplaceAll(in.Args, "&&", ""), "|;&<>`()") {
		return fmt.Errorf("line %d: RUN %s: only simple commands joined by && are supported (no pipes, redirections, subshells)", in.Line, in.Args)
	}
	for _, part := range strings.Split(in.Args, "&&") {
		words, err := shellWords(strings.TrimSpace(part), vars)
		if err != nil {
			return fmt.Errorf("line %d: RUN: %w", in.Line, err)
		}
		cmdEnv := append([]string(nil), env...)
		for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
			cmdEnv = append(cmdEnv, words[0])
			words = words[1:]
		}
		if len(words) == 0 {
			return fmt.Errorf("line %d: RUN %q: no command", in.Line, part)
		}
		switch {
		case words[0] == "mkdir" && len(words) > 2 && words[1] == "-p":
			for _, d := range words[2:] {
				if err := os.MkdirAll(fsys.hostPath(d), 0o755); err != nil {
					return err
				}
			}
		case words[0] == "go":
			args := words[1:]
			for i, a := range args {
				if path.IsAbs(a) {
					args[i] = fsys.hostPath(a)
					if err := os.MkdirAll(filepath.Dir(args[i]), 0o755); err != nil {
						return err
					}
				}
			}
			cmd := exec.Command("go", args...)
			cmd.Dir = fsys.hostPath(fsys.workdir)
			cmd.Env = cmdEnv
			cmd.Stdout, cmd.Stderr = log, log
			shown := append(append([]string(nil), cmdEnv[len(env):]...), "go")
			fmt.Fprintf(log, "ociimage: line %d: %s\n", in.Line, shellQuote(append(shown, args...)))
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("line %d: go %s: %w", in.Line, strings.Join(args, " "), err)
			}
		default:
			return fmt.Errorf("line %d: RUN %q: only go and mkdir -p are supported", in.Line, part)
		}
	}
	return nil
}

// copyEntries turns a final-stage COPY into layer entries: a file is
// copied to the destination (into it when it ends in /), a directory's
// contents into the destination directory. --chown applies to everything
// copied, the destination directory included; modes are kept.
func copyEntries(in Instr, src *stageFS, workdir string) ([]Entry, error) {
	words, err := shellWords(in.Args, nil)
	if err != nil || len(words) < 2 {
		return nil, fmt.Errorf("line %d: COPY %s: want SRC... DEST", in.Line, in.Args)
	}
	if _, ok := in.Flags["chmod"]; ok {
		return nil, fmt.Errorf("line %d: COPY --chmod is not supported", in.Line)
	}
	uid, gid := 0, 0
	if chown := in.Flags["chown"]; chown != "" {
		u, g, _ := strings.Cut(chown, ":")
		if g == "" {
			g = u
		}
		var err1, err2 error
		uid, err1 = strconv.Atoi(u)
		gid, err2 = strconv.Atoi(g)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("line %d: COPY --chown=%s: want numeric uid:gid", in.Line, chown)
		}
	}
	dest := words[len(words)-1]
	if !path.IsAbs(dest) {
		dest = path.Join(workdir, dest)
	}
	intoDir := strings.HasSuffix(words[len(words)-1], "/") || len(words) > 2
	var entries []Entry
	for _, s := range words[:len(words)-1] {
		host := src.hostPath(s)
		fi, err := os.Lstat(host)
		if err != nil {
			return nil, fmt.Errorf("line %d: COPY %s: %w", in.Line, s, err)
		}
		target := strings.TrimPrefix(path.Clean(dest), "/")
		if fi.IsDir() {
			es, err := treeEntries(host, target, uid, gid)
			if err != nil {
				return nil, err
			}
			entries = append(entries, es...)
			continue
		}
		if intoDir {
			target = path.Join(target, path.Base(s))
		}
		entries = append(entries, Entry{Path: target, Mode: fi.Mode(), UID: uid, GID: gid, Source: host})
	}
	return entries, nil
}

// treeEntries lists a host directory as entries under target, the
// directory itself first. uid and gid -1 mean root (files from Debian's
// packages); symbolic links are kept as links.
func treeEntries(hostDir, target string, uid, gid int) ([]Entry, error) {
	if uid < 0 {
		uid, gid = 0, 0
	}
	var entries []Entry
	err := filepath.WalkDir(hostDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(hostDir, p)
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := Entry{Path: path.Join(target, filepath.ToSlash(rel)), Mode: fi.Mode(), UID: uid, GID: gid}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			if e.Link, err = os.Readlink(p); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			e.Source = p
		case !fi.IsDir():
			return fmt.Errorf("%s: not a file, directory or link", p)
		}
		entries = append(entries, e)
		return nil
	})
	return entries, err
}

// shellQuote joins words for a log line, quoting those a shell would split.
func shellQuote(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w == "" || strings.ContainsAny(w, " \t\"'$\\") {
			w = strconv.Quote(w)
		}
		out[i] = w
	}
	return strings.Join(out, " ")
}
