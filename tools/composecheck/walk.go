package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// deploymentDoc is the page whose commands are checked.
const deploymentDoc = "docs/deployment.md"

// copied are the files the compose commands read, copied with monitoring/
// (the bind-mount sources) into a scratch directory.
var copied = []string{"Makefile", "docker-compose.yml", "docker-compose.monitoring.yml", "Dockerfile"}

// envState names a .env file: none, the doc's first heredoc, or all of them.
type envState int

const (
	envNone envState = iota
	envFirst
	envAll
)

func (s envState) String() string {
	return [...]string{"no .env", ".env of the first heredoc", ".env of every heredoc"}[s]
}

// expectation is what a compose make target must do with one .env: succeed
// (fails == ""), or fail with output naming one of the variables in fails.
type expectation map[envState][]string

// expectations lists every Makefile target that runs $(COMPOSE). Stopping
// needs no secret; starting needs SECRET_KEY (docker-compose.yml), and the
// monitoring stack also METRICS_TOKEN and GRAFANA_ADMIN_PASSWORD.
var expectations = map[string]expectation{
	"docker-up":       {envNone: {"SECRET_KEY"}},
	"docker-down":     {},
	"monitoring-up":   {envNone: {"SECRET_KEY", "METRICS_TOKEN", "GRAFANA_ADMIN_PASSWORD"}, envFirst: {"METRICS_TOKEN", "GRAFANA_ADMIN_PASSWORD"}},
	"monitoring-down": {},
}

// unit is one thing the doc tells the user to run: a heredoc appending to
// .env, or a make or docker compose command.
type unit struct {
	text  string
	isEnv bool
}

// walk runs the doc's commands and the target matrix in a scratch copy of
// root, with self as docker compose, and returns every failure.
func walk(ctx context.Context, root, self string, stdout io.Writer) error {
	doc, err := os.ReadFile(filepath.Join(root, deploymentDoc))
	if err != nil {
		return err
	}
	units := docUnits(doc)
	var heredocs []unit
	for _, u := range units {
		if u.isEnv {
			heredocs = append(heredocs, u)
		}
	}
	if len(heredocs) == 0 {
		return fmt.Errorf("%s shows no `cat >> .env <<EOF` block", deploymentDoc)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		return err
	}
	targets := composeTargets(makefile)
	for _, t := range targets {
		if _, ok := expectations[t]; !ok {
			return fmt.Errorf("target %s of the Makefile runs $(COMPOSE) but composecheck has no expectation for it: add one to expectations", t)
		}
	}

	dir, err := os.MkdirTemp("", "composecheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := copyTree(root, dir); err != nil {
		return err
	}
	sh := shell{dir: dir, self: self}

	var failures []string
	fmt.Fprintf(stdout, "%s, in order:\n", deploymentDoc)
	for _, u := range units {
		out, err := sh.run(ctx, u.text)
		label := firstLine(u.text)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: `%s` failed:\n%s", deploymentDoc, label, indent(out)))
			continue
		}
		fmt.Fprintf(stdout, "  ok  %s\n", label)
	}

	fmt.Fprintln(stdout, "Makefile compose targets:")
	for _, state := range []envState{envNone, envFirst, envAll} {
		n := map[envState]int{envNone: 0, envFirst: 1, envAll: len(heredocs)}[state]
		if err := os.Remove(filepath.Join(dir, ".env")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		for _, h := range heredocs[:n] {
			if out, err := sh.run(ctx, h.text); err != nil {
				return fmt.Errorf("writing .env as the doc does: %w\n%s", err, out)
			}
		}
		for _, t := range targets {
			out, err := sh.run(ctx, "make "+t)
			want := expectations[t][state]
			switch {
			case len(want) == 0 && err != nil:
				failures = append(failures, fmt.Sprintf("make %s with %s failed:\n%s", t, state, indent(out)))
			case len(want) == 0:
				fmt.Fprintf(stdout, "  ok  make %s with %s\n", t, state)
			case err == nil:
				failures = append(failures, fmt.Sprintf("make %s with %s succeeded, but must refuse without %s", t, state, strings.Join(want, " or ")))
			case !strings.Contains(out, "required variable") || !slices.ContainsFunc(want, func(v string) bool { return strings.Contains(out, v) }):
				failures = append(failures, fmt.Sprintf("make %s with %s failed, but not by naming %s:\n%s", t, state, strings.Join(want, " or "), indent(out)))
			default:
				fmt.Fprintf(stdout, "  ok  make %s with %s refuses: %s\n", t, state, requiredLine(out))
			}
		}
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d failure(s):\n%s", len(failures), strings.Join(failures, "\n"))
	}
	return nil
}

// docUnits returns, in order, the heredocs writing .env and the make and
// docker compose commands of the doc's sh blocks. Other lines (curl, docker
// build) need a running engine or server and are not checked here.
func docUnits(doc []byte) []unit {
	var units []unit
	inBlock := false
	var heredoc []string
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !inBlock:
			inBlock = strings.TrimSpace(line) == "```sh"
		case heredoc != nil:
			heredoc = append(heredoc, line)
			if strings.TrimSpace(line) == "EOF" {
				units = append(units, unit{text: strings.Join(heredoc, "\n"), isEnv: true})
				heredoc = nil
			}
		case strings.HasPrefix(line, "```"):
			inBlock = false
		case heredocStart.MatchString(line):
			heredoc = []string{line}
		case strings.HasPrefix(line, "make ") || strings.HasPrefix(line, "docker compose "):
			units = append(units, unit{text: line})
		}
	}
	return units
}

var (
	heredocStart = regexp.MustCompile(`^cat >>? \.env <<-?'?EOF'?\s*$`)
	targetLine   = regexp.MustCompile(`^([a-z][a-z0-9-]*):`)
)

// composeTargets returns the Makefile targets whose recipe uses $(COMPOSE).
func composeTargets(makefile []byte) []string {
	var targets []string
	current := ""
	for line := range strings.SplitSeq(string(makefile), "\n") {
		if m := targetLine.FindStringSubmatch(line); m != nil {
			current = m[1]
			continue
		}
		if strings.HasPrefix(line, "\t") && strings.Contains(line, "$(COMPOSE") && current != "" && !slices.Contains(targets, current) {
			targets = append(targets, current)
		}
	}
	return targets
}

// shell runs doc lines with bash in the scratch directory, with make and
// docker compose pointed at the stand-in and an environment of PATH and
// HOME only.
type shell struct {
	dir, self string
}

// prelude makes `docker compose …` and make's $(COMPOSE) run the stand-in.
const prelude = `set -euo pipefail
docker() {
	if [ "$1" != compose ]; then echo "composecheck: only docker compose can be checked here" >&2; return 1; fi
	shift
	"$COMPOSECHECK_SELF" compose "$@"
}
make() { command make --no-print-directory COMPOSE="'$COMPOSECHECK_SELF' compose" "$@"; }
`

func (s shell) run(ctx context.Context, script string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", "-c", prelude+script) //nolint:gosec // G204: running the documented commands is the point; they come from the repository's own docs and Makefile
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "COMPOSECHECK_SELF=" + s.self}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// copyTree copies the compose inputs from root into dir.
func copyTree(root, dir string) error {
	for _, f := range copied {
		if err := copyFile(filepath.Join(root, f), filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return filepath.WalkDir(filepath.Join(root, "monitoring"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o750)
		}
		return copyFile(path, filepath.Join(dir, rel))
	})
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600) //nolint:gosec // G703: a path under the scratch directory this program made
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// requiredLine returns the line of out that names the missing variable.
func requiredLine(out string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, "required variable") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
