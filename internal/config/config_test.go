package config_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
)

// envOf returns a getenv over a fixed map.
func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// mustLoad loads vars and fails the test on error.
func mustLoad(t *testing.T, vars map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load(envOf(vars))
	if err != nil {
		t.Fatalf("Load(%v): %v", vars, err)
	}
	return cfg
}

func TestLoad_Defaults(t *testing.T) {
	strict := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
	common := map[string]any{
		"Debug":                        false,
		"DatabaseURL":                  "sqlite:blip.db",
		"DBEngine":                     "sqlite",
		"DBMaxConns":                   10,
		"ConnMaxAge":                   300 * time.Second,
		"RedisURL":                     "",
		"LogLevel":                     "info",
		"ShutdownTimeout":              15 * time.Second,
		"HTTPMaxConns":                 1000,
		"HTTPIdleTimeout":              65 * time.Second,
		"TrustedProxyHeader":           "X-Forwarded-For",
		"PProf":                        false,
		"MaxBodyBytes":                 int64(1 << 20),
		"CORSAllowedOrigins":           []string(nil),
		"CSRFTrustedOrigins":           []string(nil),
		"SecurityHeadersEnabled":       true,
		"CSPEnabled":                   true,
		"CSPReportOnly":                true,
		"CSPPolicy":                    strict,
		"ReferrerPolicy":               "same-origin",
		"PermissionsPolicy":            config.DefaultPermissionsPolicy,
		"SecureHSTSIncludeSubdomains":  false,
		"SecureHSTSPreload":            false,
		"TrustedProxies":               []netip.Prefix(nil),
		"AccessTokenLifetime":          10 * time.Minute,
		"RefreshTokenLifetime":         7 * 24 * time.Hour,
		"SessionMaxLifetime":           30 * 24 * time.Hour,
		"AuthCookie":                   "off",
		"JWTAlgorithm":                 "HS256",
		"JWTSigningKey":                "",
		"JWTVerifyingKeys":             "",
		"JWTIssuer":                    "blip",
		"ThrottleAnon":                 config.Rate{Count: 100, Period: time.Hour},
		"ThrottleUser":                 config.Rate{Count: 1000, Period: time.Hour},
		"ThrottleLogin":                config.Rate{Count: 10, Period: time.Minute},
		"ThrottleLoginFailures":        config.Rate{Count: 10, Period: time.Hour},
		"ThrottleLoginAccountFailures": config.Rate{Count: 50, Period: time.Hour},
		"ThrottleRegister":             config.Rate{Count: 10, Period: time.Minute},
		"ThrottleRefresh":              config.Rate{Count: 60, Period: time.Minute},
		"ThrottleCSPReport":            config.Rate{Count: 60, Period: time.Minute},
		"MetricsToken":                 "",
		"MetricsAddr":                  "",
	}
	local := map[string]any{
		"AllowedHosts":        []string{"localhost", "127.0.0.1", "[::1]"},
		"HTTPAddr":            "127.0.0.1:8000",
		"JSONLogs":            false,
		"AutoMigrate":         true,
		"SecureSSLRedirect":   false,
		"SecureHSTSSeconds":   0,
		"SessionCookieSecure": false,
		"SecretKeyGenerated":  true,
		"ShutdownDelay":       time.Duration(0),
	}
	tests := []struct {
		appEnv string
		env    config.Env
		want   map[string]any
	}{
		{"", config.Development, local},
		{"development", config.Development, local},
		{"test", config.Test, local},
		{"PRODUCTION", config.Production, map[string]any{
			"AllowedHosts":        []string(nil),
			"HTTPAddr":            ":8000",
			"JSONLogs":            true,
			"AutoMigrate":         false,
			"SecureSSLRedirect":   true,
			"SecureHSTSSeconds":   31536000,
			"SessionCookieSecure": true,
			"SecretKeyGenerated":  false,
			"SecretKey":           "",
			"ShutdownDelay":       5 * time.Second,
		}},
	}
	for _, tt := range tests {
		t.Run("APP_ENV="+tt.appEnv, func(t *testing.T) {
			cfg := mustLoad(t, map[string]string{"APP_ENV": tt.appEnv})
			if cfg.Env != tt.env {
				t.Errorf("Env = %q, want %q", cfg.Env, tt.env)
			}
			v := reflect.ValueOf(cfg)
			for _, want := range []map[string]any{common, tt.want} {
				for field, w := range want {
					got := fieldOf(v, field)
					if !reflect.DeepEqual(got, w) {
						t.Errorf("%s = %#v, want %#v", field, got, w)
					}
				}
			}
		})
	}
}

func TestLoad_GeneratedSecretKey(t *testing.T) {
	a := mustLoad(t, nil)
	b := mustLoad(t, nil)
	if !a.SecretKeyGenerated || len(a.SecretKey) < 32 {
		t.Fatalf("generated key: generated=%v len=%d, want true and ≥ 32", a.SecretKeyGenerated, len(a.SecretKey))
	}
	if a.SecretKey == b.SecretKey {
		t.Error("two loads generated the same SECRET_KEY")
	}
	set := mustLoad(t, map[string]string{"SECRET_KEY": "k"})
	if set.SecretKeyGenerated || set.SecretKey != "k" {
		t.Errorf("explicit key: got generated=%v key=%q", set.SecretKeyGenerated, set.SecretKey)
	}
}

func TestLoad_Values(t *testing.T) {
	tests := []struct {
		name  string
		vars  map[string]string
		field string
		want  any
	}{
		{"bool 1", map[string]string{"DEBUG": "1"}, "Debug", true},
		{"bool TRUE", map[string]string{"DEBUG": "TRUE"}, "Debug", true},
		{"bool Yes", map[string]string{"DEBUG": "Yes"}, "Debug", true},
		{"bool on", map[string]string{"DEBUG": " on "}, "Debug", true},
		{"bool 0", map[string]string{"CSP_ENABLED": "0"}, "CSPEnabled", false},
		{"bool False", map[string]string{"CSP_ENABLED": "False"}, "CSPEnabled", false},
		{"bool no", map[string]string{"CSP_ENABLED": "no"}, "CSPEnabled", false},
		{"bool OFF", map[string]string{"CSP_ENABLED": "OFF"}, "CSPEnabled", false},
		{"empty is default", map[string]string{"CSP_ENABLED": ""}, "CSPEnabled", true},
		{"duration go", map[string]string{"ACCESS_TOKEN_LIFETIME": "1h30m"}, "AccessTokenLifetime", 90 * time.Minute},
		{"duration days", map[string]string{"REFRESH_TOKEN_LIFETIME": "30d"}, "RefreshTokenLifetime", 30 * 24 * time.Hour},
		{"duration days and hours", map[string]string{"REFRESH_TOKEN_LIFETIME": "1d12h"}, "RefreshTokenLifetime", 36 * time.Hour},
		{"duration fractional days", map[string]string{"REFRESH_TOKEN_LIFETIME": "1.5d"}, "RefreshTokenLifetime", 36 * time.Hour},
		{"session max lifetime", map[string]string{"SESSION_MAX_LIFETIME": "90d"}, "SessionMaxLifetime", 90 * 24 * time.Hour},
		{"session max lifetime go", map[string]string{"SESSION_MAX_LIFETIME": "12h"}, "SessionMaxLifetime", 12 * time.Hour},
		{"shutdown", map[string]string{"SHUTDOWN_TIMEOUT": "500ms"}, "ShutdownTimeout", 500 * time.Millisecond},
		{"shutdown delay", map[string]string{"SHUTDOWN_DELAY": "2s"}, "ShutdownDelay", 2 * time.Second},
		{"no shutdown delay in production", map[string]string{"APP_ENV": "production", "SHUTDOWN_DELAY": "0"}, "ShutdownDelay", time.Duration(0)},
		{"conn max age", map[string]string{"CONN_MAX_AGE": "60"}, "ConnMaxAge", time.Minute},
		{"conn max age 0", map[string]string{"CONN_MAX_AGE": "0"}, "ConnMaxAge", time.Duration(0)},
		{"rate word", map[string]string{"THROTTLE_LOGIN": "5/second"}, "ThrottleLogin", config.Rate{Count: 5, Period: time.Second}},
		{"rate abbrev", map[string]string{"THROTTLE_ANON": "20/m"}, "ThrottleAnon", config.Rate{Count: 20, Period: time.Minute}},
		{"rate day", map[string]string{"THROTTLE_USER": "5000/d"}, "ThrottleUser", config.Rate{Count: 5000, Period: 24 * time.Hour}},
		{"rate plural", map[string]string{"THROTTLE_REFRESH": "3/Hours"}, "ThrottleRefresh", config.Rate{Count: 3, Period: time.Hour}},
		{"login failures", map[string]string{"THROTTLE_LOGIN_FAILURES": "5/day"}, "ThrottleLoginFailures", config.Rate{Count: 5, Period: 24 * time.Hour}},
		{"login account failures", map[string]string{"THROTTLE_LOGIN_ACCOUNT_FAILURES": "200/hour"}, "ThrottleLoginAccountFailures", config.Rate{Count: 200, Period: time.Hour}},
		{"size bytes", map[string]string{"MAX_BODY_BYTES": "2048"}, "MaxBodyBytes", int64(2048)},
		{"size MiB", map[string]string{"MAX_BODY_BYTES": "2MiB"}, "MaxBodyBytes", int64(2 << 20)},
		{"size kb", map[string]string{"MAX_BODY_BYTES": "64kb"}, "MaxBodyBytes", int64(64000)},
		{"list trimmed", map[string]string{"ALLOWED_HOSTS": " a.example.com , ,.Example.org,*,"}, "AllowedHosts", []string{"a.example.com", ".example.org", "*"}},
		{"hosts ipv6", map[string]string{"ALLOWED_HOSTS": "::1,[2001:DB8::1],10.0.0.1"}, "AllowedHosts", []string{"[::1]", "[2001:db8::1]", "10.0.0.1"}},
		{"origins", map[string]string{"CORS_ALLOWED_ORIGINS": "https://App.Example.com, http://localhost:3000 ,https://x.org:443,https://y.org/"}, "CORSAllowedOrigins",
			[]string{"https://app.example.com", "http://localhost:3000", "https://x.org", "https://y.org"}},
		{"csrf origins", map[string]string{"CSRF_TRUSTED_ORIGINS": "https://[::1]:8443"}, "CSRFTrustedOrigins", []string{"https://[::1]:8443"}},
		{"proxies", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7, ::1, 172.16.5.4/12"}, "TrustedProxies", []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
			netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("172.16.0.0/12")}},
		{"log level warning", map[string]string{"LOG_LEVEL": "WARNING"}, "LogLevel", "warn"},
		{"log level debug", map[string]string{"LOG_LEVEL": "debug"}, "LogLevel", "debug"},
		{"auth cookie", map[string]string{"AUTH_COOKIE": "Both"}, "AuthCookie", "both"},
		{"proxy header default", nil, "TrustedProxyHeader", "X-Forwarded-For"},
		{"proxy header forwarded", map[string]string{"TRUSTED_PROXY_HEADER": "forwarded"}, "TrustedProxyHeader", "Forwarded"},
		{"proxy header xff", map[string]string{"TRUSTED_PROXY_HEADER": "x-forwarded-for"}, "TrustedProxyHeader", "X-Forwarded-For"},
		{"jwt alg", map[string]string{"JWT_ALGORITHM": "eddsa", "JWT_SIGNING_KEY": "file:/run/secrets/jwt.pem"}, "JWTAlgorithm", "EdDSA"},
		{"pem newline escapes", map[string]string{"JWT_ALGORITHM": "RS256", "JWT_SIGNING_KEY": `-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----`}, "JWTSigningKey",
			"-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"},
		{"referrer list", map[string]string{"REFERRER_POLICY": "no-referrer, Strict-Origin-When-Cross-Origin"}, "ReferrerPolicy", "no-referrer, strict-origin-when-cross-origin"},
		{"http addr", map[string]string{"HTTP_ADDR": "0.0.0.0:9000"}, "HTTPAddr", "0.0.0.0:9000"},
		{"http addr random port", map[string]string{"HTTP_ADDR": "127.0.0.1:0"}, "HTTPAddr", "127.0.0.1:0"},
		{"metrics addr", map[string]string{"METRICS_ADDR": "[::1]:9100"}, "MetricsAddr", "[::1]:9100"},
		{"redis", map[string]string{"REDIS_URL": "rediss://:p%40ss@cache:6380/2"}, "RedisURL", "rediss://:p%40ss@cache:6380/2"},
		{"hsts", map[string]string{"SECURE_HSTS_SECONDS": "600"}, "SecureHSTSSeconds", 600},
		{"csp policy", map[string]string{"CSP_POLICY": "default-src 'none'"}, "CSPPolicy", "default-src 'none'"},
		{"issuer", map[string]string{"JWT_ISSUER": "https://api.example.com"}, "JWTIssuer", "https://api.example.com"},
		{"metrics token", map[string]string{"METRICS_TOKEN": "t0ken"}, "MetricsToken", "t0ken"},
		{"auto migrate off", map[string]string{"AUTO_MIGRATE": "0"}, "AutoMigrate", false},
		{"json logs", map[string]string{"JSON_LOGS": "yes"}, "JSONLogs", true},
		{"db max conns", map[string]string{"DB_MAX_CONNS": "25"}, "DBMaxConns", 25},
		{"http max conns", map[string]string{"HTTP_MAX_CONNS": "250"}, "HTTPMaxConns", 250},
		{"http idle timeout", map[string]string{"HTTP_IDLE_TIMEOUT": "620s"}, "HTTPIdleTimeout", 620 * time.Second},
		{"pprof", map[string]string{"PPROF": "1"}, "PProf", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, tt.vars)
			got := fieldOf(reflect.ValueOf(cfg), tt.field)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v, want %#v", tt.field, got, tt.want)
			}
		})
	}
}

// secretVars are variables whose values must never appear in an error.
var secretVars = map[string]bool{
	"SECRET_KEY": true, "DATABASE_URL": true, "DB_PASS": true, "REDIS_URL": true,
	"METRICS_TOKEN": true, "JWT_SIGNING_KEY": true, "JWT_VERIFYING_KEYS": true,
}

func TestLoad_Malformed(t *testing.T) {
	tests := []struct {
		name  string
		value string
		extra map[string]string // other variables the case needs
	}{
		{"APP_ENV", "staging", nil},
		{"DEBUG", "maybe", nil},
		{"SECRET_KEY", "line\nbreak-hunter2", nil},
		{"ALLOWED_HOSTS", "example.com:8000", nil},
		{"ALLOWED_HOSTS", "https://example.com", nil},
		{"ALLOWED_HOSTS", "exa mple.com", nil},
		{"DATABASE_URL", "mysql://u:hunter2@h/db", nil},
		{"DATABASE_URL", "postgres://u:hun%zzter2@h/db", nil},
		{"DATABASE_URL", "sqlite://relative-hunter2.db", nil},
		{"DATABASE_URL", "sqlite:", nil},
		{"DATABASE_URL", "hunter2", nil},
		{"DB_ENGINE", "oracle", nil},
		{"DB_ENGINE", "", map[string]string{"DB_HOST": "db"}},
		{"DB_PORT", "99999", map[string]string{"DB_ENGINE": "postgres"}},
		{"DB_HOST", "db", map[string]string{"DB_ENGINE": "sqlite"}},
		{"DB_MAX_CONNS", "0", nil},
		{"DB_MAX_CONNS", "ten", nil},
		{"CONN_MAX_AGE", "-1", nil},
		{"CONN_MAX_AGE", "5m", nil},
		{"AUTO_MIGRATE", "sometimes", nil},
		{"REDIS_URL", "http://:hunter2@cache:6379", nil},
		{"REDIS_URL", "redis://:hunter2@cache:6379/x", nil},
		{"REDIS_URL", "redis:///0", nil},
		{"JSON_LOGS", "2", nil},
		{"LOG_LEVEL", "verbose", nil},
		{"HTTP_ADDR", "8000", nil},
		{"HTTP_ADDR", "localhost:http", nil},
		{"HTTP_ADDR", "a b:80", nil},
		{"SHUTDOWN_TIMEOUT", "15", nil},
		{"SHUTDOWN_TIMEOUT", "0s", nil},
		{"SHUTDOWN_TIMEOUT", "-5s", nil},
		{"SHUTDOWN_DELAY", "5", nil},
		{"SHUTDOWN_DELAY", "-1s", nil},
		{"SHUTDOWN_DELAY", "11m", nil},
		{"MAX_BODY_BYTES", "0", nil},
		{"MAX_BODY_BYTES", "1 TB", nil},
		{"MAX_BODY_BYTES", "99999999999999999999", nil},
		{"CORS_ALLOWED_ORIGINS", "example.com", nil},
		{"CORS_ALLOWED_ORIGINS", "https://example.com/app", nil},
		{"CORS_ALLOWED_ORIGINS", "*", nil},
		{"CORS_ALLOWED_ORIGINS", "ftp://example.com", nil},
		{"CSRF_TRUSTED_ORIGINS", "https://*.example.com", nil},
		{"CSRF_TRUSTED_ORIGINS", "https://example.com?x=1", nil},
		{"SECURITY_HEADERS_ENABLED", "enable", nil},
		{"CSP_ENABLED", "y", nil},
		{"CSP_REPORT_ONLY", "n", nil},
		{"CSP_POLICY", "default-src 'self'\r\nX-Evil: 1", nil},
		{"REFERRER_POLICY", "same-site", nil},
		{"PERMISSIONS_POLICY", "camera=()\nX-Evil: 1", nil},
		{"SECURE_SSL_REDIRECT", "https", nil},
		{"SECURE_HSTS_SECONDS", "1y", nil},
		{"SECURE_HSTS_SECONDS", "-1", nil},
		{"SECURE_HSTS_INCLUDE_SUBDOMAINS", "all", nil},
		{"SECURE_HSTS_PRELOAD", "2", nil},
		{"SESSION_COOKIE_SECURE", "secure", nil},
		{"TRUSTED_PROXIES", "10.0.0.0/33", nil},
		{"TRUSTED_PROXIES", "proxy.internal", nil},
		{"ACCESS_TOKEN_LIFETIME", "10 minutes", nil},
		{"ACCESS_TOKEN_LIFETIME", "0", nil},
		{"REFRESH_TOKEN_LIFETIME", "7days", nil},
		{"SESSION_MAX_LIFETIME", "0", nil},
		{"SESSION_MAX_LIFETIME", "-30d", nil},
		{"SESSION_MAX_LIFETIME", "30 days", nil},
		{"AUTH_COOKIE", "on", nil},
		{"TRUSTED_PROXY_HEADER", "X-Real-IP", nil},
		{"TRUSTED_PROXY_HEADER", "X-Forwarded-For, Forwarded", nil},
		{"JWT_ALGORITHM", "none", nil},
		{"JWT_ALGORITHM", "HS512", nil},
		{"JWT_SIGNING_KEY", "hunter2", map[string]string{"JWT_ALGORITHM": "EdDSA"}},
		{"JWT_SIGNING_KEY", "", map[string]string{"JWT_ALGORITHM": "RS256"}},
		{"JWT_VERIFYING_KEYS", "file:/etc/hunter2.pem", nil},
		{"JWT_ISSUER", "a\nb", nil},
		{"THROTTLE_ANON", "100", nil},
		{"THROTTLE_USER", "0/hour", nil},
		{"THROTTLE_LOGIN", "10/fortnight", nil},
		{"THROTTLE_LOGIN_FAILURES", "0/hour", nil},
		{"THROTTLE_LOGIN_ACCOUNT_FAILURES", "50/week", nil},
		{"THROTTLE_REGISTER", "-1/minute", nil},
		{"THROTTLE_REFRESH", "ten/minute", nil},
		{"THROTTLE_CSP_REPORT", "1.5/minute", nil},
		{"METRICS_TOKEN", "hunter2\x00", nil},
		{"METRICS_ADDR", "metrics", nil},
		{"HTTP_MAX_CONNS", "0", nil},
		{"HTTP_MAX_CONNS", "unlimited", nil},
		{"HTTP_MAX_CONNS", "2000000", nil},
		{"HTTP_IDLE_TIMEOUT", "0", nil},
		{"HTTP_IDLE_TIMEOUT", "2h", nil},
		{"HTTP_IDLE_TIMEOUT", "soon", nil},
		{"PPROF", "maybe", nil},
		{"METRICS_ADDR", "127.0.0.1:8000", map[string]string{"HTTP_ADDR": "127.0.0.1:8000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			vars := map[string]string{tt.name: tt.value}
			for k, v := range tt.extra {
				vars[k] = v
			}
			_, err := config.Load(envOf(vars))
			var le *config.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load: err = %v, want a *LoadError", err)
			}
			if !le.Has(tt.name) || len(le.Vars) != 1 {
				t.Errorf("Load: %v, want exactly one error, naming %s", err, tt.name)
			}
			if !strings.HasPrefix(err.Error(), "config: "+tt.name+": ") {
				t.Errorf("error %q does not start with %q", err, "config: "+tt.name+": ")
			}
			if secretVars[tt.name] && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q reveals the secret value", err)
			}
		})
	}
}

func TestLoad_CollectsAllErrors(t *testing.T) {
	_, err := config.Load(envOf(map[string]string{
		"DEBUG":          "maybe",
		"THROTTLE_LOGIN": "10/fortnight",
		"HTTP_ADDR":      "nope",
	}))
	want := `config: DEBUG: "maybe" is not a boolean (use 1/0, true/false, yes/no or on/off); HTTP_ADDR: "nope" is not host:port`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want prefix %q", err, want)
	}
	var le *config.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err is %T, want *LoadError", err)
	}
	var names []string
	for _, v := range le.Vars {
		names = append(names, v.Var)
	}
	if got := strings.Join(names, ","); got != "DEBUG,HTTP_ADDR,THROTTLE_LOGIN" {
		t.Errorf("variables = %s, want DEBUG,HTTP_ADDR,THROTTLE_LOGIN", got)
	}
	var ve *config.VarError
	if !errors.As(err, &ve) || ve.Var != "DEBUG" {
		t.Errorf("errors.As(*VarError) = %v, want the DEBUG error", ve)
	}
}

func TestLoad_Database(t *testing.T) {
	const hardPass = "p@ss:w/rd?#%&+ é$"
	tests := []struct {
		name       string
		vars       map[string]string
		wantURL    string
		wantEngine string
		wantDSN    string
	}{
		{"default", nil, "sqlite:blip.db", "sqlite", "blip.db"},
		{"sqlite relative", map[string]string{"DATABASE_URL": "sqlite:data/blip.db"}, "sqlite:data/blip.db", "sqlite", "data/blip.db"},
		{"sqlite absolute", map[string]string{"DATABASE_URL": "sqlite:///var/lib/blip/blip.db"}, "sqlite:/var/lib/blip/blip.db", "sqlite", "/var/lib/blip/blip.db"},
		{"sqlite four slashes", map[string]string{"DATABASE_URL": "sqlite:////var/blip.db"}, "sqlite:/var/blip.db", "sqlite", "/var/blip.db"},
		{"sqlite memory", map[string]string{"DATABASE_URL": "sqlite::memory:"}, "sqlite::memory:", "sqlite", ":memory:"},
		{"sqlite memory url", map[string]string{"DATABASE_URL": "sqlite://:memory:"}, "sqlite::memory:", "sqlite", ":memory:"},
		{"sqlite query kept", map[string]string{"DATABASE_URL": "sqlite:blip.db?_pragma=busy_timeout(5000)"}, "sqlite:blip.db?_pragma=busy_timeout(5000)", "sqlite", "blip.db?_pragma=busy_timeout(5000)"},
		{"file uri", map[string]string{"DATABASE_URL": "file:blip.db?mode=rwc"}, "file:blip.db?mode=rwc", "sqlite", "file:blip.db?mode=rwc"},
		{"postgres", map[string]string{"DATABASE_URL": "postgres://u:p@db:5432/blip?sslmode=disable"}, "postgres://u:p@db:5432/blip?sslmode=disable", "postgres", ""},
		{"postgresql", map[string]string{"DATABASE_URL": "postgresql://db/blip"}, "postgresql://db/blip", "postgres", ""},
		{"db_engine sqlite", map[string]string{"DB_ENGINE": "sqlite", "DB_NAME": "/tmp/x.db"}, "sqlite:/tmp/x.db", "sqlite", "/tmp/x.db"},
		{"db_engine sqlite default name", map[string]string{"DB_ENGINE": "sqlite3"}, "sqlite:blip.db", "sqlite", "blip.db"},
		{"db_engine postgres defaults", map[string]string{"DB_ENGINE": "postgres"}, "postgres://localhost:5432/blip", "postgres", ""},
		{"db_engine postgres full", map[string]string{"DB_ENGINE": "postgresql", "DB_NAME": "app", "DB_USER": "bob", "DB_PASS": "s3cret", "DB_HOST": "db.internal", "DB_PORT": "6432"},
			"postgres://bob:s3cret@db.internal:6432/app", "postgres", ""},
		{"db_engine postgres ipv6", map[string]string{"DB_ENGINE": "postgres", "DB_HOST": "::1"}, "postgres://[::1]:5432/blip", "postgres", ""},
		{"db_engine postgres socket", map[string]string{"DB_ENGINE": "postgres", "DB_HOST": "/var/run/postgresql", "DB_USER": "bob"},
			"postgres://bob@/blip?host=%2Fvar%2Frun%2Fpostgresql&port=5432", "postgres", ""},
		{"DATABASE_URL wins", map[string]string{"DATABASE_URL": "postgres://db/blip", "DB_ENGINE": "sqlite"}, "postgres://db/blip", "postgres", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, tt.vars)
			if cfg.DatabaseURL != tt.wantURL || cfg.DBEngine != tt.wantEngine {
				t.Errorf("DatabaseURL, DBEngine = %q, %q, want %q, %q", cfg.DatabaseURL, cfg.DBEngine, tt.wantURL, tt.wantEngine)
			}
			if got := cfg.SQLiteDSN(); got != tt.wantDSN {
				t.Errorf("SQLiteDSN() = %q, want %q", got, tt.wantDSN)
			}
		})
	}

	t.Run("password escaping", func(t *testing.T) {
		cfg := mustLoad(t, map[string]string{
			"DB_ENGINE": "postgres", "DB_USER": "user@corp", "DB_PASS": hardPass,
			"DB_HOST": "db", "DB_PORT": "5433", "DB_NAME": "blip",
		})
		u, err := url.Parse(cfg.DatabaseURL)
		if err != nil {
			t.Fatalf("built URL does not parse: %v", err)
		}
		pass, _ := u.User.Password()
		if u.User.Username() != "user@corp" || pass != hardPass || u.Host != "db:5433" || u.Path != "/blip" {
			t.Errorf("round trip: user=%q pass=%q host=%q path=%q", u.User.Username(), pass, u.Host, u.Path)
		}
	})

	t.Run("error hides password", func(t *testing.T) {
		_, err := config.Load(envOf(map[string]string{
			"DB_ENGINE": "postgres", "DB_PASS": "hunter2", "DB_NAME": "a/b",
		}))
		if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "DB_NAME") {
			t.Errorf("err = %v, want a DB_NAME error without the password", err)
		}
	})
}

func TestRate(t *testing.T) {
	tests := []struct {
		rate         config.Rate
		str          string
		wantInterval time.Duration
	}{
		{config.Rate{Count: 100, Period: time.Hour}, "100/hour", 36 * time.Second},
		{config.Rate{Count: 10, Period: time.Minute}, "10/minute", 6 * time.Second},
		{config.Rate{Count: 2, Period: time.Second}, "2/second", 500 * time.Millisecond},
		{config.Rate{Count: 1, Period: 24 * time.Hour}, "1/day", 24 * time.Hour},
		{config.Rate{Count: 5, Period: 90 * time.Second}, "5/1m30s", 18 * time.Second},
		{config.Rate{}, "0/0s", 0},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.rate.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.rate.Interval(); got != tt.wantInterval {
				t.Errorf("Interval() = %v, want %v", got, tt.wantInterval)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"0", 0, false},
		{"10m", 10 * time.Minute, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"1d12h30m", 36*time.Hour + 30*time.Minute, false},
		{"12h1d", 36 * time.Hour, false},
		{"0.5d", 12 * time.Hour, false},
		{"-1d", -24 * time.Hour, false},
		{"1500ms", 1500 * time.Millisecond, false},
		{"", 0, true},
		{"7", 0, true},
		{"d", 0, true},
		{"1..5d", 0, true},
		{"7days", 0, true},
		{"1d-2h", 0, true},
		{"--1d", 0, true},
		{"200000000d", 0, true},
		{"106751d", 106751 * 24 * time.Hour, false},
		{"106751d24h", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := config.ParseDuration(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestConfig_StringRedacts(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"SECRET_KEY":    "hunter2-secret-key",
		"DATABASE_URL":  "postgres://u:hunter2@db/blip",
		"REDIS_URL":     "redis://:hunter2@cache:6379/0",
		"METRICS_TOKEN": "hunter2",
		"JWT_ALGORITHM": "EdDSA", "JWT_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----\\nhunter2\\n-----END PRIVATE KEY-----",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector", "OTEL_EXPORTER_OTLP_HEADERS": "api-key=hunter2",
	})
	for _, s := range []string{fmt.Sprint(cfg.Tracing), fmt.Sprintf("%+v", cfg.Tracing.Headers)} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "[redacted]") {
			t.Errorf("OTLP headers not redacted: %s", s)
		}
	}
	for _, s := range []string{cfg.String(), cfg.GoString()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("String() reveals a secret: %s", s)
		}
		if !strings.Contains(s, "db/blip") {
			t.Errorf("String() lost the database host: %s", s)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", cfg)
	if strings.Contains(buf.String(), "hunter2") || !strings.Contains(buf.String(), "db/blip") {
		t.Errorf("slog JSON output is not the redacted config: %s", buf.String())
	}
	if cfg.SecretKey != "hunter2-secret-key" {
		t.Error("Redacted modified the original Config")
	}
}

// fieldOf returns the named field of a Config, a blip.Secret as its string
// (its %#v would say "[redacted]", hiding what a failing test compared).
func fieldOf(cfg reflect.Value, name string) any {
	got := cfg.FieldByName(name).Interface()
	if s, ok := got.(blip.Secret); ok {
		return string(s)
	}
	return got
}
