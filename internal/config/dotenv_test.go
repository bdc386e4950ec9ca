package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/config"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadDotEnv(t *testing.T) {
	path := writeFile(t, `# comment
APP_ENV=production
export DEBUG=0
SECRET_KEY='abc$def#ghi'
ALLOWED_HOSTS="api.example.com, .example.org" # trailing comment
CSP_POLICY="default-src 'self'"
EMPTY=
`)
	got, err := config.ReadDotEnv(path)
	if err != nil {
		t.Fatalf("ReadDotEnv: %v", err)
	}
	want := map[string]string{
		"APP_ENV":       "production",
		"DEBUG":         "0",
		"SECRET_KEY":    "abc$def#ghi",
		"ALLOWED_HOSTS": "api.example.com, .example.org",
		"CSP_POLICY":    "default-src 'self'",
		"EMPTY":         "",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d variables, want %d: %v", len(got), len(want), got)
	}
}

func TestReadDotEnv_Missing(t *testing.T) {
	got, err := config.ReadDotEnv(filepath.Join(t.TempDir(), "nope.env"))
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("ReadDotEnv(missing) = %v, %v; want an empty map and no error", got, err)
	}
}

func TestReadDotEnv_SyntaxErrorHidesContent(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"bad name", "A=1\nB=2\nBAD-NAME=hunter2\n", "line 3: a variable name"},
		{"unterminated", "A=1\nSECRET_KEY=\"hunter2\nB=2\n", "line 2: unterminated quoted value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.ReadDotEnv(writeFile(t, tt.content))
			if err == nil {
				t.Fatal("ReadDotEnv: no error")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q reveals the file's content", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestLayered(t *testing.T) {
	environ := map[string]string{"DEBUG": "", "APP_ENV": "test"}
	lookup := func(name string) (string, bool) { v, ok := environ[name]; return v, ok }
	dotenv := map[string]string{"DEBUG": "1", "APP_ENV": "production", "LOG_LEVEL": "debug"}
	getenv := config.Layered(lookup, dotenv)
	tests := []struct{ name, want string }{
		{"APP_ENV", "test"},    // the real environment wins
		{"DEBUG", ""},          // even when set to empty
		{"LOG_LEVEL", "debug"}, // .env fills the gaps
		{"HTTP_ADDR", ""},      // neither
	}
	for _, tt := range tests {
		if got := getenv(tt.name); got != tt.want {
			t.Errorf("getenv(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	cfg := mustLoadFunc(t, getenv)
	if cfg.Env != config.Test || cfg.Debug || cfg.LogLevel != "debug" {
		t.Errorf("Load(Layered) = env %q debug %v level %q", cfg.Env, cfg.Debug, cfg.LogLevel)
	}
}

func mustLoadFunc(t *testing.T, getenv func(string) string) config.Config {
	t.Helper()
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}
