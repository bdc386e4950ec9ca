package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for docker compose, as the
// program does for itself: walk runs "<self> compose …".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "compose" {
		if err := fakeCompose(context.Background(), os.Args[2:], os.Stdout); err != nil {
			os.Stderr.WriteString("composecheck: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// repoRoot is the repository this module lives in.
const repoRoot = "../.."

// fixture copies what walk reads from the repository into a temp dir and
// applies edits (file → old → new) to it.
func fixture(t *testing.T, edits map[string][2]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := copyTree(repoRoot, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "docs"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(filepath.Join(repoRoot, deploymentDoc), filepath.Join(dir, deploymentDoc)); err != nil {
		t.Fatal(err)
	}
	for file, e := range edits {
		path := filepath.Join(dir, file)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(e[0])) {
			t.Fatalf("fixture: %s has no %q", file, e[0])
		}
		if err := os.WriteFile(path, bytes.ReplaceAll(b, []byte(e[0]), []byte(e[1])), 0o600); err != nil { //nolint:gosec // G703: a file of the test's temp dir
			t.Fatal(err)
		}
	}
	return dir
}

func TestWalk(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		edits map[string][2]string
		want  []string // substrings of the error; none: must pass
	}{
		{name: "repository as it is"},
		{
			// The Makefile before the fix: `down` interpolated the
			// monitoring file with the doc's .env, which lacks its secrets.
			name:  "down without placeholders",
			edits: map[string][2]string{"Makefile": {"$(COMPOSE_DOWN)", "$(COMPOSE) -f docker-compose.yml -f docker-compose.monitoring.yml down"}},
			want:  []string{"`make docker-down` failed", "required variable METRICS_TOKEN is missing"},
		},
		{
			// A default for SECRET_KEY would let the stack start with a
			// known key; the no-.env row must catch it.
			name: "secret key defaulted",
			edits: map[string][2]string{"docker-compose.yml": {
				"${SECRET_KEY:?set SECRET_KEY (at least 32 random bytes) in the environment or .env}",
				"${SECRET_KEY:-insecure-default-key}"}},
			want: []string{"make docker-up with no .env succeeded, but must refuse without SECRET_KEY"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			err := walk(t.Context(), fixture(t, tt.edits), self, &out)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("walk: %v\n%s", err, out.String())
				}
				if !strings.Contains(out.String(), "ok  make docker-down") {
					t.Errorf("walk did not run make docker-down:\n%s", out.String())
				}
				return
			}
			if err == nil {
				t.Fatalf("walk passed, want an error naming %q\n%s", tt.want, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestFakeCompose_structure(t *testing.T) {
	t.Setenv("SECRET_KEY", "placeholder-for-a-load-test-0123456789abcdef")
	t.Setenv("METRICS_TOKEN", "t")
	t.Setenv("GRAFANA_ADMIN_PASSWORD", "g")
	both := []string{"-f", "docker-compose.yml", "-f", "docker-compose.monitoring.yml", "up", "-d"}
	tests := []struct {
		name  string
		edits map[string][2]string
		args  []string
		want  string // substring of the error; "" means it must pass
	}{
		{name: "as it is", args: both},
		{name: "run names a service", args: []string{"run", "--rm", "api", "check", "--deploy"}},
		{name: "unknown service", args: []string{"run", "--rm", "web", "check"}, want: "no such service: web"},
		{name: "scale names a service", args: []string{"up", "-d", "--scale", "apii=3"}, want: "no such service: apii"},
		{
			name:  "port on every interface",
			edits: map[string][2]string{"docker-compose.yml": {`"127.0.0.1:${BLIP_PORT:-8000}:8000"`, `"${BLIP_PORT:-8000}:8000"`}},
			args:  []string{"up"}, want: "api publishes 8000:8000 on every interface",
		},
		{
			name:  "no healthcheck",
			edits: map[string][2]string{"docker-compose.yml": {`test: ["CMD", "redis-cli", "ping"]`, `disable: true`}},
			args:  []string{"up"}, want: "service redis has no healthcheck",
		},
		{
			name:  "start order",
			edits: map[string][2]string{"docker-compose.yml": {"condition: service_healthy\n      redis:", "condition: service_started\n      redis:"}},
			args:  []string{"up"}, want: "api must depend on postgres with condition service_healthy",
		},
		{
			name:  "missing bind mount",
			edits: map[string][2]string{"docker-compose.monitoring.yml": {"./monitoring/prometheus/alerts.yml", "./monitoring/prometheus/alert.yml"}},
			args:  both, want: "alert.yml, which does not exist",
		},
		{
			name:  "secret not mounted",
			edits: map[string][2]string{"docker-compose.monitoring.yml": {"    secrets:\n      - metrics_token\n", ""}},
			args:  both, want: "prometheus must mount the metrics_token secret",
		},
		{
			name:  "grafana port",
			edits: map[string][2]string{"docker-compose.monitoring.yml": {`"127.0.0.1:3001:3000"`, `"127.0.0.1:3000:3000"`}},
			args:  both, want: "grafana must publish its port 3000 as 127.0.0.1:3001",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(fixture(t, tt.edits))
			var out bytes.Buffer
			err := fakeCompose(t.Context(), tt.args, &out)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("fakeCompose(%q): %v", tt.args, err)
			case tt.want != "" && err == nil:
				t.Fatalf("fakeCompose(%q) passed, want an error with %q\n%s", tt.args, tt.want, out.String())
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("fakeCompose(%q) = %v, want an error with %q", tt.args, err, tt.want)
			}
		})
	}
}
