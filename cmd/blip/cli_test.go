package main

import (
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cliRun is one invocation of the program as main makes it, with stdin
// not a terminal.
type cliRun struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) cliRun {
	t.Helper()
	var in io.Reader = strings.NewReader(stdin)
	if stdin == "" {
		// What `</dev/null` gives a real process: a file, not a terminal.
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		in = f
	}
	var out, errOut syncBuffer
	code := runMain(t.Context(), append([]string{"blip"}, args...), envOf(env), in, &out, &errOut)
	return cliRun{code: code, stdout: out.String(), stderr: errOut.String()}
}

// cliEnv is a development environment on a fresh SQLite file.
func cliEnv(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	return with(map[string]string{
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "blip.db"), "BLIP_ENV_FILE": "/nonexistent/.env",
	}, extra)
}

// TestCLI_failures runs every command's failure paths without a terminal
// and checks that each prints exactly one line, "blip: …", saying what
// went wrong and what to do, with the right exit status.
func TestCLI_failures(t *testing.T) {
	unreachableDB := map[string]string{"DATABASE_URL": "postgres://blip@127.0.0.1:1/blip?sslmode=disable&connect_timeout=2"}
	var lc net.ListenConfig
	busy, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	unready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"unavailable"}`+"\n")
	}))
	defer unready.Close()

	tests := []struct {
		name  string
		env   map[string]string
		stdin string
		setup []string // a run that must succeed first (same database)
		args  []string
		code  int
		want  []string // substrings of the one error line
	}{
		{name: "unknown command", args: []string{"frobnicate"}, code: 2,
			want: []string{`unknown command "frobnicate"`, `run "blip --help"`}},
		{name: "malformed variable", env: map[string]string{"DEBUG": "maybe"}, args: []string{"check"}, code: 1,
			want: []string{"DEBUG", "fix it in the environment or .env", ".env.example"}},

		{name: "serve: argument", args: []string{"serve", "now"}, code: 2,
			want: []string{`serve: unexpected argument "now"`, `"blip serve --help"`}},
		{name: "serve: unknown flag", args: []string{"serve", "--port", "1"}, code: 2,
			want: []string{"serve: flag provided but not defined: -port", `"blip serve --help"`}},
		{name: "serve: address in use", env: map[string]string{"HTTP_ADDR": busy.Addr().String()}, args: []string{"serve"}, code: 1,
			want: []string{"listen:", "address already in use", "set HTTP_ADDR to a free address"}},
		{name: "serve: unsafe production", env: map[string]string{"APP_ENV": "production", "SECRET_KEY": "change-me"}, args: []string{"serve"}, code: 1,
			want: []string{"refusing to start in production", "blip check --deploy"}},

		{name: "migrate: unknown action", args: []string{"migrate", "sideways"}, code: 2,
			want: []string{`migrate: unknown action "sideways"`, "use up (the default), down or status"}},
		{name: "migrate: extra argument", args: []string{"migrate", "up", "now"}, code: 2,
			want: []string{`unexpected argument "now" after up`, "usage: blip migrate [up|down|status]"}},
		{name: "migrate: database unreachable", env: unreachableDB, args: []string{"migrate"}, code: 1,
			want: []string{"database:", "check DATABASE_URL"}},

		{name: "check: unknown flag", args: []string{"check", "--deplyo"}, code: 2,
			want: []string{"check: flag provided but not defined: -deplyo", `"blip check --help"`}},
		{name: "check: argument", args: []string{"check", "deploy"}, code: 2,
			want: []string{`check: unexpected argument "deploy"`}},
		{name: "check: errors found", env: map[string]string{"APP_ENV": "production"}, args: []string{"check", "--deploy"}, code: 1,
			want: []string{"check: the configuration has errors", "fix each as its HINT says"}},

		{name: "user: no subcommand", args: []string{"user"}, code: 2,
			want: []string{"user: missing subcommand", "blip user create --email"}},
		{name: "user: unknown subcommand", args: []string{"user", "delete"}, code: 2,
			want: []string{`user: unknown subcommand "delete"`, "blip user create --email"}},
		{name: "user create: missing username", args: []string{"user", "create", "--email", "x@example.com"}, code: 2,
			want: []string{"--email and --username are required", "--password-stdin"}},
		{name: "user create: no terminal", args: []string{"user", "create", "--email", "x@example.com", "--username", "xavier"}, code: 2,
			want: []string{"not a terminal", "pass it with --password-stdin"}},
		{name: "user create: empty password on stdin", args: []string{"user", "create", "--email", "x@example.com", "--username", "xavier", "--password-stdin"},
			code: 2, want: []string{"--password-stdin read an empty password", "pipe the password"}},
		{name: "user create: invalid input", stdin: "123\n",
			args: []string{"user", "create", "--email", "nope", "--username", "x!", "--role", "root", "--password-stdin"}, code: 1,
			want: []string{"user create: --email:", "--password-stdin:", "--role: Choose one of user, moderator, admin.", "--username:", "fix and run it again"}},
		{name: "user create: taken", stdin: "a sturdy passphrase 42\n",
			setup: []string{"user", "create", "--email", "x@example.com", "--username", "xavier", "--password-stdin"},
			args:  []string{"user", "create", "--email", "X@example.com", "--username", "xavier2", "--password-stdin"}, code: 1,
			want: []string{"user create:", "choose another email or username"}},
		{name: "user create: database unreachable", env: unreachableDB, stdin: "a sturdy passphrase 42\n",
			args: []string{"user", "create", "--email", "x@example.com", "--username", "xavier", "--password-stdin"}, code: 1,
			want: []string{"database:", "check DATABASE_URL"}},

		{name: "health: unknown flag", args: []string{"health", "--ready"}, code: 2,
			want: []string{"health: flag provided but not defined: -ready", `"blip health --help"`}},
		{name: "health: no server", env: map[string]string{"HTTP_ADDR": freeAddr(t)}, args: []string{"health"}, code: 1,
			want: []string{"connection refused", "is blip serve running with this HTTP_ADDR"}},
		{name: "health: not ready", env: map[string]string{"HTTP_ADDR": strings.TrimPrefix(unready.URL, "http://")}, args: []string{"health"}, code: 1,
			want: []string{"health: /health/ answered 503", "its logs say why"}},

		{name: "seed: bad value", args: []string{"seed", "--users", "0"}, code: 2,
			want: []string{"seed: --users must be at least 1", `"blip seed --help"`}},
		{name: "seed: bad flag", args: []string{"seed", "--user", "3"}, code: 2,
			want: []string{"seed: flag provided but not defined: -user", `"blip seed --help"`}},
		{name: "seed: argument", args: []string{"seed", "extra"}, code: 2,
			want: []string{`seed: unexpected argument "extra"`}},
		{name: "seed: production", env: map[string]string{"APP_ENV": "production"}, args: []string{"seed", "--users", "2"}, code: 2,
			want: []string{"seed: APP_ENV is production", "pass --force"}},

		{name: "flush-expired: argument", args: []string{"flush-expired", "now"}, code: 2,
			want: []string{`flush-expired: unexpected argument "now"`}},
		{name: "flush-expired: database unreachable", env: unreachableDB, args: []string{"flush-expired"}, code: 1,
			want: []string{"database:", "check DATABASE_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := cliEnv(t, tt.env)
			if tt.setup != nil {
				if r := runCLI(t, env, tt.stdin, tt.setup...); r.code != 0 {
					t.Fatalf("setup %v: exit %d\n%s", tt.setup, r.code, r.stderr)
				}
			}
			r := runCLI(t, env, tt.stdin, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit status %d, want %d\nstderr:\n%s", r.code, tt.code, r.stderr)
			}
			var lines []string
			for _, l := range strings.Split(r.stderr, "\n") {
				if strings.HasPrefix(l, "blip: ") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.HasSuffix(r.stderr, lines[0]+"\n") {
				t.Fatalf("want exactly one line \"blip: …\", the last on stderr; stderr:\n%s", r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(lines[0], w) {
					t.Errorf("error line lacks %q:\n%s", w, lines[0])
				}
			}
		})
	}
}

// flagNames returns every flag of fs.
func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// TestCLI_help checks that `blip --help` and `blip <command> --help` list
// every flag and exit 0.
func TestCLI_help(t *testing.T) {
	top := runCLI(t, nil, "", "--help")
	if top.code != 0 || top.stderr != "" {
		t.Fatalf("blip --help: exit %d, stderr %q", top.code, top.stderr)
	}
	for _, c := range commands() {
		if !strings.Contains(top.stdout, "blip "+c.name) {
			t.Errorf("blip --help does not list %s", c.name)
		}
		for _, helpArgs := range [][]string{{c.name, "--help"}, {c.name, "-h"}} {
			if c.name == "user" {
				helpArgs = append([]string{"user", "create"}, helpArgs[1:]...)
			}
			r := runCLI(t, nil, "", helpArgs...)
			if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "usage: blip "+c.name) {
				t.Errorf("blip %v: exit %d, stderr %q, stdout %q", helpArgs, r.code, r.stderr, r.stdout)
			}
			for _, f := range flagNames(c.flags()) {
				if !strings.Contains(r.stdout, "--"+f) {
					t.Errorf("blip %v does not list --%s:\n%s", helpArgs, f, r.stdout)
				}
				if !strings.Contains(top.stdout, "--"+f) {
					t.Errorf("blip --help does not list %s's --%s", c.name, f)
				}
			}
		}
	}
	// The flags the first help text forgot.
	for _, want := range []string{"--name", "--likes", "--replies", "--password ", "--force", "--password-stdin", "--live", "--deploy"} {
		if !strings.Contains(top.stdout, want) {
			t.Errorf("blip --help lacks %s", want)
		}
	}
}

func TestSeed_clampsFollows(t *testing.T) {
	r := runCLI(t, cliEnv(t, nil), "", "seed", "--users", "2", "--blips", "2")
	if r.code != 0 {
		t.Fatalf("seed --users 2 --blips 2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "--follows 10 lowered to 1") || !strings.Contains(r.stdout, "follows: 2/2 (100%)") {
		t.Errorf("output does not show --follows lowered to 1 and 2 follows:\n%s", r.stdout)
	}
}

func TestSeed_production(t *testing.T) {
	prod := cliEnv(t, map[string]string{"APP_ENV": "production", "SECRET_KEY": "n7Qv2xL9pR4tY8wZ1cF6hJ3kM5bN0sD-aG_eU7iO2qT9", "ALLOWED_HOSTS": "example.com", "AUTO_MIGRATE": "1"})
	r := runCLI(t, prod, "", "seed", "--users", "3", "--blips", "3", "--password", "Prod-Seed-Pass-1")
	if r.code != 2 || strings.Contains(r.stdout, "seeding") {
		t.Fatalf("seed in production without --force: exit %d, output:\n%s", r.code, r.stdout)
	}
	r = runCLI(t, prod, "", "seed", "--users", "3", "--blips", "3", "--password", "Prod-Seed-Pass-1", "--force")
	if r.code != 0 {
		t.Fatalf("seed --force in production: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "Prod-Seed-Pass-1") || !strings.Contains(r.stdout, "printed only with APP_ENV=development") {
		t.Errorf("production seed output shows the password or does not say where it is:\n%s", r.stdout)
	}
	dev := runCLI(t, cliEnv(t, nil), "", "seed", "--users", "3", "--blips", "3", "--password", "Dev-Seed-Pass-1")
	if dev.code != 0 || !strings.Contains(dev.stdout, `has the password "Dev-Seed-Pass-1"`) {
		t.Errorf("development seed: exit %d, output does not show the password:\n%s", dev.code, dev.stdout)
	}
}

// TestBarProgress_rate checks the terminal bar's rate: a batch written
// some time after the phase started is divided by that time, not by the
// moment between the first render and the write.
func TestBarProgress_rate(t *testing.T) {
	var out syncBuffer
	p := newProgress(&out, true, "blips", 10_000)
	time.Sleep(50 * time.Millisecond) // the first batch being written
	p.Add(10_000)
	p.Finish()
	m := regexp.MustCompile(`(\d+) rows/s`).FindAllStringSubmatch(out.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no rate in %q", out.String())
	}
	rate, _ := strconv.Atoi(m[len(m)-1][1])
	if rate > 10_000*20 { // 10,000 rows took at least 50 ms
		t.Errorf("rate %d rows/s for 10000 rows in ≥ 50 ms (at most 200000)", rate)
	}
}
