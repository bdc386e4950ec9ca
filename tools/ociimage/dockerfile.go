package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Instr is one Dockerfile instruction: its keyword (upper case), its
// --flags, and the rest of the line with continuations joined.
type Instr struct {
	Line  int
	Cmd   string
	Flags map[string]string
	Args  string
}

// Stage is a FROM and the instructions up to the next FROM.
type Stage struct {
	From   string // image reference, tag and digest included
	Name   string // the AS name, if any
	Instrs []Instr
}

// ParseDockerfile splits a Dockerfile into stages of instructions. It
// understands comments, parser directives, line continuations and
// --flag=value options; values are not expanded here.
func ParseDockerfile(path string) ([]Stage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var stages []Stage
	var buf strings.Builder
	start := 0
	flush := func() error {
		text := strings.TrimSpace(buf.String())
		buf.Reset()
		if text == "" {
			return nil
		}
		in, err := parseInstr(start, text)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, start, err)
		}
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			st := Stage{From: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.Name = f[2]
			} else if len(f) != 1 {
				return fmt.Errorf("%s:%d: FROM %q: want IMAGE [AS NAME]", path, start, in.Args)
			}
			stages = append(stages, st)
			return nil
		}
		if len(stages) == 0 {
			if in.Cmd == "ARG" {
				return nil // global build arguments before the first FROM
			}
			return fmt.Errorf("%s:%d: %s before FROM", path, start, in.Cmd)
		}
		st := &stages[len(stages)-1]
		st.Instrs = append(st.Instrs, in)
		return nil
	}
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments (and parser directives such as # syntax=)
		}
		if buf.Len() == 0 {
			if trimmed == "" {
				continue
			}
			start = i + 1
		}
		if strings.HasSuffix(trimmed, `\`) {
			buf.WriteString(strings.TrimSuffix(trimmed, `\`))
			buf.WriteByte(' ')
			continue
		}
		buf.WriteString(trimmed)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM", path)
	}
	return stages, nil
}

func parseInstr(line int, text string) (Instr, error) {
	cmd, rest, _ := strings.Cut(text, " ")
	in := Instr{Line: line, Cmd: strings.ToUpper(cmd), Flags: map[string]string{}}
	rest = strings.TrimSpace(rest)
	for strings.HasPrefix(rest, "--") {
		var flag string
		flag, rest, _ = strings.Cut(rest, " ")
		rest = strings.TrimSpace(rest)
		name, value, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
		if _, dup := in.Flags[name]; dup && name == "mount" {
			continue // several cache mounts: they do not change the result
		}
		in.Flags[name] = value
	}
	in.Args = rest
	if in.Args == "" {
		return in, fmt.Errorf("%s without arguments", in.Cmd)
	}
	return in, nil
}

// execForm parses the JSON (exec) form ["a", "b"]. The final image has no
// shell, so the shell form is refused rather than wrapped in /bin/sh -c.
func execForm(in Instr, args string) ([]string, error) {
	var out []string
	if err := json.Unmarshal([]byte(args), &out); err != nil || len(out) == 0 {
		return nil, fmt.Errorf("line %d: %s %s: want the exec form [\"program\", \"arg\"...] (the image has no shell)", in.Line, in.Cmd, args)
	}
	return out, nil
}

// Healthcheck is Docker's HEALTHCHECK, as the image configuration holds it.
type Healthcheck struct {
	Test        []string      `json:"Test"`
	Interval    time.Duration `json:"Interval,omitempty"`
	Timeout     time.Duration `json:"Timeout,omitempty"`
	StartPeriod time.Duration `json:"StartPeriod,omitempty"`
	Retries     int           `json:"Retries,omitempty"`
}

// RuntimeConfig is what the final stage sets for the container: the image
// configuration's "config" object.
type RuntimeConfig struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	Healthcheck  *Healthcheck        `json:"Healthcheck,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
}

// RuntimeConfigOf reads the final stage's USER, ENV, EXPOSE, WORKDIR,
// STOPSIGNAL, HEALTHCHECK, ENTRYPOINT, CMD and LABEL on top of base (the
// base image's own configuration).
func RuntimeConfigOf(st Stage, base RuntimeConfig) (RuntimeConfig, error) {
	c := base
	c.Env = append([]string(nil), base.Env...)
	setEnv := func(k, v string) {
		for i, kv := range c.Env {
			if strings.HasPrefix(kv, k+"=") {
				c.Env[i] = k + "=" + v
				return
			}
		}
		c.Env = append(c.Env, k+"="+v)
	}
	for _, in := range st.Instrs {
		var err error
		switch in.Cmd {
		case "USER":
			c.User = in.Args
		case "WORKDIR":
			c.WorkingDir = in.Args
		case "STOPSIGNAL":
			c.StopSignal = in.Args
		case "ENV", "LABEL":
			var pairs [][2]string
			if pairs, err = keyValues(in.Args); err != nil {
				return c, fmt.Errorf("line %d: %s: %w", in.Line, in.Cmd, err)
			}
			for _, kv := range pairs {
				if in.Cmd == "ENV" {
					setEnv(kv[0], kv[1])
					continue
				}
				if c.Labels == nil {
					c.Labels = map[string]string{}
				}
				c.Labels[kv[0]] = kv[1]
			}
		case "EXPOSE":
			if c.ExposedPorts == nil {
				c.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range strings.Fields(in.Args) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				c.ExposedPorts[p] = struct{}{}
			}
		case "ENTRYPOINT":
			c.Entrypoint, err = execForm(in, in.Args)
			c.Cmd = nil // Docker resets an inherited CMD when ENTRYPOINT is set
		case "CMD":
			c.Cmd, err = execForm(in, in.Args)
		case "HEALTHCHECK":
			c.Healthcheck, err = healthcheck(in)
		case "COPY", "RUN", "ARG":
			// Files and build steps: see Build.
		default:
			err = fmt.Errorf("line %d: %s is not supported in the final stage", in.Line, in.Cmd)
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

func healthcheck(in Instr) (*Healthcheck, error) {
	if strings.TrimSpace(in.Args) == "NONE" {
		return &Healthcheck{Test: []string{"NONE"}}, nil
	}
	kind, rest, _ := strings.Cut(in.Args, " ")
	if kind != "CMD" {
		return nil, fmt.Errorf("line %d: HEALTHCHECK %s: want CMD [...] or NONE", in.Line, in.Args)
	}
	test, err := execForm(in, strings.TrimSpace(rest))
	if err != nil {
		return nil, err
	}
	h := &Healthcheck{Test: append([]string{"CMD"}, test...)}
	for name, value := range in.Flags {
		var err error
		switch name {
		case "interval":
			h.Interval, err = time.ParseDuration(value)
		case "timeout":
			h.Timeout, err = time.ParseDuration(value)
		case "start-period":
			h.StartPeriod, err = time.ParseDuration(value)
		case "retries":
			h.Retries, err = strconv.Atoi(value)
		default:
			err = errors.New("unknown option")
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: HEALTHCHECK --%s=%s: %w", in.Line, name, value, err)
		}
	}
	return h, nil
}

// keyValues parses ENV and LABEL arguments: key=value pairs (values may be
// double-quoted), or the legacy single "key value" form.
func keyValues(s string) ([][2]string, error) {
	words, err := shellWords(s, nil)
	if err != nil {
		return nil, err
	}
	if len(words) >= 2 && !strings.Contains(words[0], "=") {
		k, v, _ := strings.Cut(strings.TrimSpace(s), " ")
		return [][2]string{{k, strings.TrimSpace(v)}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// shellWords splits s as a POSIX shell splits a simple command: blanks
// separate words; single quotes keep everything; double quotes and bare
// words expand $NAME and ${NAME} from vars (when vars is not nil) and
// honour backslash escapes. Anything else a shell would do (globs,
// substitutions, redirections) is not supported and refused by Build.
func shellWords(s string, vars map[string]string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	expand := func(i int) (int, error) {
		if vars == nil {
			cur.WriteByte('$')
			return i, nil
		}
		name := ""
		switch {
		case i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return 0, fmt.Errorf("unclosed ${ in %q", s)
			}
			name = s[i+2 : i+end]
			i += end
		default:
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			name = s[i+1 : j]
			i = j - 1
		}
		v, ok := vars[name]
		if !ok {
			return 0, fmt.Errorf("undefined variable %q in %q", name, s)
		}
		cur.WriteString(v)
		return i, nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unclosed ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			inWord = true
			for i++; ; i++ {
				if i >= len(s) {
					return nil, fmt.Errorf("unclosed \" in %q", s)
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`, s[i+1]) >= 0 {
					i++
					cur.WriteByte(s[i])
					continue
				}
				if s[i] == '$' {
					var err error
					if i, err = expand(i); err != nil {
						return nil, err
					}
					continue
				}
				cur.WriteByte(s[i])
			}
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '$':
			var err error
			if i, err = expand(i); err != nil {
				return nil, err
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
