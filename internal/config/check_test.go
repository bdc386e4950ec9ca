package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/config"
)

// goodProduction is a production configuration that passes every error
// check of Check(true).
func goodProduction() map[string]string {
	return map[string]string{
		"APP_ENV":                        "production",
		"SECRET_KEY":                     "q3N8v0Zr7xJmL2pT9wYcB6eH1kD4sF5gA8uV0iO3nE7",
		"ALLOWED_HOSTS":                  "api.example.com",
		"DATABASE_URL":                   "postgres://blip:pw@db:5432/blip",
		"REDIS_URL":                      "redis://cache:6379/0",
		"TRUSTED_PROXIES":                "10.0.0.0/8",
		"CSP_REPORT_ONLY":                "0",
		"SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
		"METRICS_ADDR":                   "127.0.0.1:9100",
		"AUTH_COOKIE":                    "both",
		"CORS_ALLOWED_ORIGINS":           "https://app.example.com",
	}
}

func ids(ps []config.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func TestCheck_GoodProduction(t *testing.T) {
	cfg := mustLoad(t, goodProduction())
	for _, deploy := range []bool{false, true} {
		if ps := cfg.Check(deploy); len(ps) != 0 {
			t.Errorf("Check(%v) = %v, want nothing", deploy, ids(ps))
		}
	}
	if ps := cfg.StartupErrors(); len(ps) != 0 {
		t.Errorf("StartupErrors() = %v, want nothing", ids(ps))
	}
}

// metricsToken is a METRICS_TOKEN of the recommended 32 characters or more.
const metricsToken = "4f9c2d7e1a8b3c6d5e0f9a8b7c6d5e4f3a2b"

func TestCheck_DeployWithBadValues(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string // laid over goodProduction
		wantIDs []string
		level   config.Level
	}{
		{"no secret", map[string]string{"SECRET_KEY": ""}, []string{"security.E001"}, config.LevelError},
		{"short secret", map[string]string{"SECRET_KEY": "Zr7xJmL2pT9wYcB6eH1k"}, []string{"security.E002"}, config.LevelError},
		{"change-me", map[string]string{"SECRET_KEY": "change-me"}, []string{"security.E003"}, config.LevelError},
		{"changeme long", map[string]string{"SECRET_KEY": "CHANGEME-please-before-going-to-production-1234"}, []string{"security.E003"}, config.LevelError},
		{"django insecure", map[string]string{"SECRET_KEY": "django-insecure-q3N8v0Zr7xJmL2pT9wYcB6eH1kD4sF5g"}, []string{"security.E003"}, config.LevelError},
		{"secret", map[string]string{"SECRET_KEY": "secret"}, []string{"security.E003"}, config.LevelError},
		{"one char", map[string]string{"SECRET_KEY": strings.Repeat("a", 64)}, []string{"security.E004"}, config.LevelError},
		{"few chars", map[string]string{"SECRET_KEY": strings.Repeat("abc123", 8)}, []string{"security.E004"}, config.LevelError},
		{"debug", map[string]string{"DEBUG": "1"}, []string{"security.E005"}, config.LevelError},
		{"no hosts", map[string]string{"ALLOWED_HOSTS": ""}, []string{"security.E006"}, config.LevelError},
		{"insecure cookie", map[string]string{"SESSION_COOKIE_SECURE": "0"}, []string{"security.E007"}, config.LevelError},
		{"insecure cookie unused", map[string]string{"SESSION_COOKIE_SECURE": "0", "AUTH_COOKIE": "off"}, []string{"security.W006"}, config.LevelWarning},
		{"star host", map[string]string{"ALLOWED_HOSTS": "*"}, []string{"security.W002"}, config.LevelWarning},
		{"no redirect", map[string]string{"SECURE_SSL_REDIRECT": "0"}, []string{"security.W003"}, config.LevelWarning},
		{"no hsts", map[string]string{"SECURE_HSTS_SECONDS": "0"}, []string{"security.W004"}, config.LevelWarning},
		{"short hsts", map[string]string{"SECURE_HSTS_SECONDS": "3600"}, []string{"security.W005"}, config.LevelWarning},
		{"no headers", map[string]string{"SECURITY_HEADERS_ENABLED": "0"}, []string{"security.W007"}, config.LevelWarning},
		{"no csp", map[string]string{"CSP_ENABLED": "0"}, []string{"security.W008"}, config.LevelWarning},
		{"report only", map[string]string{"CSP_REPORT_ONLY": "1"}, []string{"security.W009"}, config.LevelWarning},
		{"redirect loop", map[string]string{"TRUSTED_PROXIES": ""}, []string{"security.W010"}, config.LevelWarning},
		{"preload", map[string]string{"SECURE_HSTS_PRELOAD": "1", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "0"}, []string{"security.W011"}, config.LevelWarning},
		{"http origin", map[string]string{"CSRF_TRUSTED_ORIGINS": "http://app.example.com"}, []string{"security.W012"}, config.LevelWarning},
		{"hs256 keys", map[string]string{"JWT_VERIFYING_KEYS": "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----"}, []string{"auth.W001"}, config.LevelWarning},
		{"lifetimes", map[string]string{"ACCESS_TOKEN_LIFETIME": "8d"}, []string{"auth.W002"}, config.LevelWarning},
		{"public metrics", map[string]string{"METRICS_ADDR": ""}, []string{"metrics.W001"}, config.LevelWarning},
		{"internal listener on every interface", map[string]string{"METRICS_ADDR": ":9100"}, []string{"metrics.W003"}, config.LevelWarning},
		{"internal listener on a private address", map[string]string{"METRICS_ADDR": "10.1.2.3:9100"}, []string{"metrics.W003"}, config.LevelWarning},
		{"internal listener on localhost", map[string]string{"METRICS_ADDR": "localhost:9100"}, nil, ""},
		{"internal listener on IPv6 loopback", map[string]string{"METRICS_ADDR": "[::1]:9100"}, nil, ""},
		{"private listener with a token", map[string]string{"METRICS_ADDR": "10.1.2.3:9100", "METRICS_TOKEN": metricsToken}, nil, ""},
		{"token metrics", map[string]string{"METRICS_ADDR": "", "METRICS_TOKEN": metricsToken}, nil, ""},
		{"short metrics token", map[string]string{"METRICS_ADDR": "", "METRICS_TOKEN": "abc"}, []string{"metrics.W002"}, config.LevelWarning},
		{"31-character metrics token", map[string]string{"METRICS_ADDR": "", "METRICS_TOKEN": metricsToken[:31]}, []string{"metrics.W002"}, config.LevelWarning},
		{"short token on a public listener", map[string]string{"METRICS_ADDR": ":9100", "METRICS_TOKEN": "abc"}, []string{"metrics.W002"}, config.LevelWarning},
		{"pprof on", map[string]string{"PPROF": "1"}, []string{"metrics.W005"}, config.LevelWarning},
		{"pprof without internal listener", map[string]string{"PPROF": "1", "METRICS_ADDR": "", "METRICS_TOKEN": metricsToken},
			[]string{"metrics.W004", "metrics.W005"}, config.LevelWarning},
		{"sqlite", map[string]string{"DATABASE_URL": "sqlite:/var/lib/blip/blip.db"}, []string{"database.W001"}, config.LevelWarning},
		{"shadowed db vars", map[string]string{"DB_ENGINE": "postgres", "DB_NAME": "x"}, []string{"database.W002"}, config.LevelWarning},
		{"sqlite root", map[string]string{"DATABASE_URL": "sqlite:///db.sqlite3"}, []string{"database.W001", "database.W003"}, config.LevelWarning},
		{"no redis", map[string]string{"REDIS_URL": ""}, []string{"cache.W001"}, config.LevelWarning},
		{"otlp headers in clear", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.internal:4318", "OTEL_EXPORTER_OTLP_HEADERS": "api-key=k"}, []string{"tracing.W001"}, config.LevelWarning},
		{"otlp headers over https", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector.example.com", "OTEL_EXPORTER_OTLP_HEADERS": "api-key=k"}, nil, ""},
		{"otlp headers to a local agent", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces", "OTEL_EXPORTER_OTLP_HEADERS": "api-key=k"}, nil, ""},
		{"otlp in clear without headers", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.internal:4318"}, nil, ""},
		{"django conn max age", map[string]string{"CONN_MAX_AGE": "0"}, []string{"database.W004"}, config.LevelWarning},
		{"conn max age", map[string]string{"CONN_MAX_AGE": "60"}, nil, ""},
		{"not production", map[string]string{"APP_ENV": "development"}, []string{"config.W001", "security.E007", "security.W003", "security.W004"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := goodProduction()
			for k, v := range tt.vars {
				vars[k] = v
			}
			ps := mustLoad(t, vars).Check(true)
			got := ids(ps)
			slices.Sort(got)
			want := slices.Clone(tt.wantIDs)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("Check(true) = %v, want %v", got, want)
			}
			for _, p := range ps {
				if tt.level != "" && p.Level != tt.level {
					t.Errorf("%s level = %s, want %s", p.ID, p.Level, tt.level)
				}
				if p.Message == "" || p.Fix == "" {
					t.Errorf("%s has an empty message or fix: %+v", p.ID, p)
				}
				if k := vars["SECRET_KEY"]; len(k) > 8 && strings.Contains(p.String(), k) {
					t.Errorf("%s reveals SECRET_KEY: %s", p.ID, p)
				}
			}
			if got, want := config.HasErrors(ps), slices.ContainsFunc(tt.wantIDs, func(id string) bool { return strings.Contains(id, ".E") }); got != want {
				t.Errorf("HasErrors = %v, want %v", got, want)
			}
		})
	}
}

func TestCheck_DefaultSecretNamesEachProblem(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"APP_ENV":    "production",
		"SECRET_KEY": "change-me",
		"DEBUG":      "on",
	})
	ps := cfg.Check(true)
	if !config.HasErrors(ps) {
		t.Fatal("HasErrors = false, want true")
	}
	var errIDs []string
	for _, p := range ps {
		if p.Level == config.LevelError {
			errIDs = append(errIDs, p.ID)
		}
	}
	want := []string{"security.E003", "security.E005", "security.E006"}
	if !slices.Equal(errIDs, want) {
		t.Errorf("error IDs = %v, want %v", errIDs, want)
	}
	if ps[0].Level != config.LevelError || ps[len(ps)-1].Level != config.LevelWarning {
		t.Errorf("problems not sorted errors first: %v", ids(ps))
	}
	for _, id := range want {
		i := slices.IndexFunc(ps, func(p config.Problem) bool { return p.ID == id })
		if s := ps[i].String(); !strings.Contains(s, id) || !strings.Contains(s, "HINT: ") {
			t.Errorf("String() = %q, want the ID and a HINT", s)
		}
	}
	if got := ids(cfg.StartupErrors()); !slices.Equal(got, want) {
		t.Errorf("StartupErrors() = %v, want %v", got, want)
	}
}

func TestCheck_Development(t *testing.T) {
	cfg := mustLoad(t, nil)
	ps := cfg.Check(false)
	if got := ids(ps); !slices.Equal(got, []string{"security.W001"}) {
		t.Errorf("Check(false) = %v, want [security.W001] (generated secret key)", got)
	}
	if config.HasErrors(ps) {
		t.Error("development defaults have errors")
	}
	if ps := cfg.StartupErrors(); ps != nil {
		t.Errorf("StartupErrors() outside production = %v, want nil", ids(ps))
	}
	deploy := ids(cfg.Check(true))
	if !slices.Contains(deploy, "security.E001") {
		t.Errorf("Check(true) with a generated key = %v, want security.E001", deploy)
	}
	weakDev := mustLoad(t, map[string]string{"SECRET_KEY": "change-me", "DEBUG": "1"})
	if ps := weakDev.Check(false); config.HasErrors(ps) {
		t.Errorf("development with a placeholder key: Check(false) = %v, want no errors", ids(ps))
	}
}

func TestStartupErrors_Production(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"APP_ENV": "production"})
	want := []string{"security.E001", "security.E006"}
	if got := ids(cfg.StartupErrors()); !slices.Equal(got, want) {
		t.Errorf("StartupErrors() = %v, want %v", got, want)
	}
	// Only the refuse-to-start set: warnings and deploy items stay out.
	vars := goodProduction()
	vars["SECURE_SSL_REDIRECT"] = "0"
	vars["CSP_ENABLED"] = "0"
	if got := mustLoad(t, vars).StartupErrors(); len(got) != 0 {
		t.Errorf("StartupErrors() = %v, want nothing", ids(got))
	}
}

func TestHasErrors(t *testing.T) {
	w := config.Problem{ID: "x.W001", Level: config.LevelWarning}
	e := config.Problem{ID: "x.E001", Level: config.LevelError}
	tests := []struct {
		in   []config.Problem
		want bool
	}{{nil, false}, {[]config.Problem{w}, false}, {[]config.Problem{w, e}, true}}
	for _, tt := range tests {
		if got := config.HasErrors(tt.in); got != tt.want {
			t.Errorf("HasErrors(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
