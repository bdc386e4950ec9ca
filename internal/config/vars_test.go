package config_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/blipsocial/blip/internal/config"
)

// allVars is every variable Load reads.
var allVars = []string{
	"APP_ENV", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS",
	"DATABASE_URL", "DB_ENGINE", "DB_NAME", "DB_USER", "DB_PASS", "DB_HOST", "DB_PORT",
	"DB_MAX_CONNS", "CONN_MAX_AGE", "AUTO_MIGRATE", "REDIS_URL", "JSON_LOGS", "LOG_LEVEL",
	"HTTP_ADDR", "HTTP_MAX_CONNS", "HTTP_IDLE_TIMEOUT", "SHUTDOWN_DELAY", "SHUTDOWN_TIMEOUT", "MAX_BODY_BYTES", "CORS_ALLOWED_ORIGINS", "CSRF_TRUSTED_ORIGINS",
	"SECURITY_HEADERS_ENABLED", "CSP_ENABLED", "CSP_REPORT_ONLY", "CSP_POLICY", "REFERRER_POLICY",
	"PERMISSIONS_POLICY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
	"SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "TRUSTED_PROXIES", "TRUSTED_PROXY_HEADER", "ACCESS_TOKEN_LIFETIME",
	"REFRESH_TOKEN_LIFETIME", "SESSION_MAX_LIFETIME", "AUTH_COOKIE", "JWT_ALGORITHM", "JWT_SIGNING_KEY", "JWT_VERIFYING_KEYS",
	"JWT_ISSUER", "THROTTLE_ANON", "THROTTLE_USER", "THROTTLE_LOGIN", "THROTTLE_LOGIN_FAILURES",
	"THROTTLE_LOGIN_ACCOUNT_FAILURES", "THROTTLE_REGISTER",
	"THROTTLE_REFRESH", "THROTTLE_CSP_REPORT", "METRICS_TOKEN", "METRICS_ADDR", "PPROF",
	"OTEL_SDK_DISABLED", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TIMEOUT",
	"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
	"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
}

// TestDocs checks that .env.example and docs/configuration.md mention
// every variable, so the documentation cannot fall behind Load.
func TestDocs(t *testing.T) {
	for _, path := range []string{"../../.env.example", "../../docs/configuration.md"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		for _, name := range allVars {
			if !regexp.MustCompile(`\b` + name + `\b`).Match(b) {
				t.Errorf("%s does not document %s", path, name)
			}
		}
	}
}

// TestLoad_ReadsEveryVariable keeps allVars in step with Load.
func TestLoad_ReadsEveryVariable(t *testing.T) {
	read := map[string]bool{}
	if _, err := config.Load(func(name string) string { read[name] = true; return "" }); err != nil {
		t.Fatal(err)
	}
	for _, name := range allVars {
		if !read[name] {
			t.Errorf("Load does not read %s", name)
		}
		delete(read, name)
	}
	for name := range read {
		t.Errorf("Load reads %s, missing from allVars (and perhaps the docs)", name)
	}
}
