// Package config reads Blip's configuration from environment variables, with
// the names of the Django template Blip replaces, and checks it for
// deployment. Load is pure: it reads only through the getenv it is given
// (its one other input is crypto/rand, for a development SECRET_KEY).
//
// Every variable and its default per APP_ENV is in Load, in this file (the
// OTEL_* ones in tracing.go); docs/configuration.md and .env.example
// describe them for operators.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// Env is the deployment environment (APP_ENV).
type Env string

// Environments.
const (
	Development Env = "development"
	Production  Env = "production"
	Test        Env = "test"
)

// Rate is a throttle rate such as "100/hour": at most Count requests per
// Period. Load only produces rates with Count ≥ 1 and Period > 0.
type Rate struct {
	Count  int
	Period time.Duration
}

// Config is the whole configuration. Every field comes from one variable
// of docs/configuration.md (named in its comment) or is derived from them. An empty
// variable counts as unset and takes its default.
type Config struct {
	Env   Env  // APP_ENV: development (default), production or test
	Debug bool // DEBUG

	// SecretKey signs HS256 tokens and cursors (SECRET_KEY). When unset in
	// development or test, Load generates a random one and sets
	// SecretKeyGenerated; in production it stays empty and StartupErrors
	// reports it.
	SecretKey          blip.Secret
	SecretKeyGenerated bool

	// AllowedHosts (ALLOWED_HOSTS) holds lower-case host names, IPv4
	// literals, bracketed IPv6 literals ("[::1]"), ".example.com" (the
	// domain and its subdomains) or "*"; never a port.
	AllowedHosts []string

	// DatabaseURL is DATABASE_URL, or built from DB_ENGINE, DB_NAME, …, or
	// "sqlite:blip.db" by default. SQLite URLs are normalised to
	// "sqlite:<path>" (path relative, absolute or ":memory:", with any
	// ?query kept) or left as "file:…" URIs; see SQLiteDSN. PostgreSQL
	// URLs are kept as given (postgres:// or postgresql://).
	DatabaseURL string
	// DBEngine is "sqlite" or "postgres", derived from DatabaseURL.
	DBEngine string
	// DBMaxConns caps the connection pool (DB_MAX_CONNS, ≥ 1).
	DBMaxConns int
	// ConnMaxAge is how long a pooled connection may live (CONN_MAX_AGE,
	// in seconds); 0 means no limit.
	ConnMaxAge  time.Duration
	AutoMigrate bool // AUTO_MIGRATE

	RedisURL string // REDIS_URL (redis:// or rediss://); "" means in-process caches and limits

	JSONLogs bool   // JSON_LOGS
	LogLevel string // LOG_LEVEL: debug|info|warn|error ("warning" is read as warn)

	HTTPAddr string // HTTP_ADDR: host:port, host may be empty
	// HTTPMaxConns (HTTP_MAX_CONNS) caps the connections open at once on
	// HTTP_ADDR, idle keep-alive ones included; at the cap new ones wait.
	HTTPMaxConns int
	// HTTPIdleTimeout (HTTP_IDLE_TIMEOUT) closes idle keep-alive
	// connections; keep it above a load balancer's own idle timeout.
	HTTPIdleTimeout time.Duration
	// ShutdownDelay is how long the server keeps serving, with readiness
	// (/health/) already 503, after SIGTERM and before it stops accepting
	// connections: the time load balancers need to see the failing probe
	// and route elsewhere. 0 stops accepting at once.
	ShutdownDelay   time.Duration // SHUTDOWN_DELAY
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT: drain of in-flight requests, after the delay
	MaxBodyBytes    int64         // MAX_BODY_BYTES

	// CORSAllowedOrigins and CSRFTrustedOrigins hold origins normalised to
	// lower-case "scheme://host[:port]", without a default port.
	CORSAllowedOrigins []string // CORS_ALLOWED_ORIGINS
	CSRFTrustedOrigins []string // CSRF_TRUSTED_ORIGINS

	SecurityHeadersEnabled bool   // SECURITY_HEADERS_ENABLED
	CSPEnabled             bool   // CSP_ENABLED
	CSPReportOnly          bool   // CSP_REPORT_ONLY
	CSPPolicy              string // CSP_POLICY
	ReferrerPolicy         string // REFERRER_POLICY
	PermissionsPolicy      string // PERMISSIONS_POLICY

	SecureSSLRedirect           bool           // SECURE_SSL_REDIRECT
	SecureHSTSSeconds           int            // SECURE_HSTS_SECONDS
	SecureHSTSIncludeSubdomains bool           // SECURE_HSTS_INCLUDE_SUBDOMAINS
	SecureHSTSPreload           bool           // SECURE_HSTS_PRELOAD
	SessionCookieSecure         bool           // SESSION_COOKIE_SECURE
	TrustedProxies              []netip.Prefix // TRUSTED_PROXIES: masked prefixes; a bare IP is a /32 or /128
	// TrustedProxyHeader is TRUSTED_PROXY_HEADER: the one header trusted
	// proxies write the client's address in, HeaderXForwardedFor (with
	// X-Forwarded-Proto) or HeaderForwarded (RFC 7239); the other is ignored.
	TrustedProxyHeader string

	AccessTokenLifetime  time.Duration // ACCESS_TOKEN_LIFETIME
	RefreshTokenLifetime time.Duration // REFRESH_TOKEN_LIFETIME
	// SessionMaxLifetime is SESSION_MAX_LIFETIME: how long a session may
	// last from its login, however often its refresh token is rotated.
	SessionMaxLifetime time.Duration
	AuthCookie         string // AUTH_COOKIE: off|both|only
	// JWT algorithm and keys; HS256 from SecretKey unless keys are given.
	JWTAlgorithm string // JWT_ALGORITHM: HS256|EdDSA|RS256 (canonical case)
	// JWTSigningKey is JWT_SIGNING_KEY: a PEM private key (or a path to
	// one, prefix "file:"), required for EdDSA and RS256. Literal "\n"
	// sequences in a one-line value are turned into newlines.
	JWTSigningKey blip.Secret
	// JWTVerifyingKeys is JWT_VERIFYING_KEYS: extra PEM public keys
	// accepted during rotation, "\n" handled as for JWTSigningKey.
	JWTVerifyingKeys string
	JWTIssuer        string // JWT_ISSUER

	ThrottleAnon  Rate // THROTTLE_ANON
	ThrottleUser  Rate // THROTTLE_USER
	ThrottleLogin Rate // THROTTLE_LOGIN
	// ThrottleLoginFailures is THROTTLE_LOGIN_FAILURES: failed logins per
	// account and client address (IPv6 by /64); a success resets it.
	ThrottleLoginFailures Rate
	// ThrottleLoginAccountFailures is THROTTLE_LOGIN_ACCOUNT_FAILURES:
	// failed logins per account from all addresses, not applied to
	// addresses the account recently logged in from.
	ThrottleLoginAccountFailures Rate
	ThrottleRegister             Rate // THROTTLE_REGISTER
	ThrottleRefresh              Rate // THROTTLE_REFRESH
	ThrottleCSPReport            Rate // THROTTLE_CSP_REPORT

	MetricsToken blip.Secret // METRICS_TOKEN
	MetricsAddr  string      // METRICS_ADDR: host:port of an internal listener, "" for none
	// PProf is PPROF: serve net/http/pprof on the METRICS_ADDR listener
	// (behind METRICS_TOKEN when set); never on the public one.
	PProf bool

	// Tracing is the OpenTelemetry span export (the OTEL_* variables).
	Tracing Tracing

	// shadowedDBVars lists DB_* variables that were set but ignored
	// because DATABASE_URL was set too; Check warns about them.
	shadowedDBVars []string
	// connMaxAgeZeroSet records an explicit CONN_MAX_AGE=0, which means
	// "no limit" here but "close after each request" in Django; Check
	// warns, since it is likely a carried-over Django setting.
	connMaxAgeZeroSet bool
}

// Values of TRUSTED_PROXY_HEADER (matched without regard to case).
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
)

// Default policies, used when the variable is unset. The CSP lets a page
// load its own scripts, styles, fonts and images (the API docs page
// vendors its assets) and nothing else; no inline code.
const (
	DefaultCSPPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
		"img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; " +
		"base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
	DefaultReferrerPolicy    = "same-origin"
	DefaultPermissionsPolicy = "accelerometer=(), autoplay=(), camera=(), display-capture=(), " +
		"geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), " +
		"usb=(), xr-spatial-tracking=()"
)

// Load reads the configuration through getenv (os.Getenv, or Layered for a
// .env file), applies the defaults of APP_ENV, and validates every value.
// All malformed variables are reported together in a *LoadError; values
// of secret variables are never quoted in it.
func Load(getenv func(string) string) (Config, error) {
	l := &loader{getenv: getenv}
	var c Config

	c.Env = l.env("APP_ENV")
	prod := c.Env == Production
	// pick returns the production default or the development/test one.
	pick := func(production, other string) string {
		if prod {
			return production
		}
		return other
	}

	// Off everywhere by default, even in development: DEBUG may expose
	// internals, and a laptop is not always behind a firewall.
	c.Debug = l.boolean("DEBUG", "off")

	c.SecretKey = l.secret("SECRET_KEY")
	if c.SecretKey == "" && !prod {
		c.SecretKey, c.SecretKeyGenerated = blip.Secret(generateSecretKey()), true
	}
	c.AllowedHosts = l.hosts("ALLOWED_HOSTS", pick("", "localhost,127.0.0.1,[::1]"))

	l.database(&c)
	c.DBMaxConns = l.integer("DB_MAX_CONNS", "10", 1, 10_000)
	c.ConnMaxAge = time.Duration(l.integer("CONN_MAX_AGE", "300", 0, 10*365*86400)) * time.Second
	c.connMaxAgeZeroSet = l.ok("CONN_MAX_AGE") && l.value("CONN_MAX_AGE", "") != "" && c.ConnMaxAge == 0
	c.AutoMigrate = l.boolean("AUTO_MIGRATE", pick("off", "on"))
	c.RedisURL = l.redisURL("REDIS_URL")

	c.JSONLogs = l.boolean("JSON_LOGS", pick("on", "off"))
	c.LogLevel = l.logLevel("LOG_LEVEL", "info")

	c.HTTPAddr = l.addr("HTTP_ADDR", pick(":8000", "127.0.0.1:8000"))
	c.HTTPMaxConns = l.integer("HTTP_MAX_CONNS", "1000", 1, 1_000_000)
	c.HTTPIdleTimeout = l.duration("HTTP_IDLE_TIMEOUT", "65s")
	if c.HTTPIdleTimeout > time.Hour {
		l.bad("HTTP_IDLE_TIMEOUT", l.getenv("HTTP_IDLE_TIMEOUT"), "must be at most 1h")
	}
	c.ShutdownDelay = l.durationAtMost("SHUTDOWN_DELAY", pick("5s", "0s"), 10*time.Minute)
	c.ShutdownTimeout = l.duration("SHUTDOWN_TIMEOUT", "15s")
	c.MaxBodyBytes = l.size("MAX_BODY_BYTES", "1MiB")

	c.CORSAllowedOrigins = l.origins("CORS_ALLOWED_ORIGINS")
	c.CSRFTrustedOrigins = l.origins("CSRF_TRUSTED_ORIGINS")

	c.SecurityHeadersEnabled = l.boolean("SECURITY_HEADERS_ENABLED", "on")
	c.CSPEnabled = l.boolean("CSP_ENABLED", "on")
	c.CSPReportOnly = l.boolean("CSP_REPORT_ONLY", "on")
	c.CSPPolicy = l.headerValue("CSP_POLICY", DefaultCSPPolicy)
	c.ReferrerPolicy = l.referrerPolicy("REFERRER_POLICY", DefaultReferrerPolicy)
	c.PermissionsPolicy = l.headerValue("PERMISSIONS_POLICY", DefaultPermissionsPolicy)

	c.SecureSSLRedirect = l.boolean("SECURE_SSL_REDIRECT", pick("on", "off"))
	c.SecureHSTSSeconds = l.integer("SECURE_HSTS_SECONDS", pick("31536000", "0"), 0, 1<<31-1)
	c.SecureHSTSIncludeSubdomains = l.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", "off")
	c.SecureHSTSPreload = l.boolean("SECURE_HSTS_PRELOAD", "off")
	c.SessionCookieSecure = l.boolean("SESSION_COOKIE_SECURE", pick("on", "off"))
	c.TrustedProxies = l.prefixes("TRUSTED_PROXIES")
	c.TrustedProxyHeader = l.oneOf("TRUSTED_PROXY_HEADER", HeaderXForwardedFor, HeaderXForwardedFor, HeaderForwarded)

	c.AccessTokenLifetime = l.duration("ACCESS_TOKEN_LIFETIME", "10m")
	c.RefreshTokenLifetime = l.duration("REFRESH_TOKEN_LIFETIME", "7d")
	c.SessionMaxLifetime = l.duration("SESSION_MAX_LIFETIME", "30d")
	c.AuthCookie = l.oneOf("AUTH_COOKIE", "off", "off", "both", "only")
	c.JWTAlgorithm = l.oneOf("JWT_ALGORITHM", "HS256", "HS256", "EdDSA", "RS256")
	c.JWTSigningKey = blip.Secret(l.pem("JWT_SIGNING_KEY", true))
	c.JWTVerifyingKeys = l.pem("JWT_VERIFYING_KEYS", false)
	if c.JWTAlgorithm != "HS256" && c.JWTSigningKey == "" && l.ok("JWT_SIGNING_KEY") {
		l.fail("JWT_SIGNING_KEY", "required when JWT_ALGORITHM is "+c.JWTAlgorithm)
	}
	c.JWTIssuer = l.headerValue("JWT_ISSUER", "blip")

	c.ThrottleAnon = l.rate("THROTTLE_ANON", "100/hour")
	c.ThrottleUser = l.rate("THROTTLE_USER", "1000/hour")
	c.ThrottleLogin = l.rate("THROTTLE_LOGIN", "10/minute")
	c.ThrottleLoginFailures = l.rate("THROTTLE_LOGIN_FAILURES", "10/hour")
	c.ThrottleLoginAccountFailures = l.rate("THROTTLE_LOGIN_ACCOUNT_FAILURES", "50/hour")
	c.ThrottleRegister = l.rate("THROTTLE_REGISTER", "10/minute")
	c.ThrottleRefresh = l.rate("THROTTLE_REFRESH", "60/minute")
	c.ThrottleCSPReport = l.rate("THROTTLE_CSP_REPORT", "60/minute")

	c.MetricsToken = l.secret("METRICS_TOKEN")
	c.MetricsAddr = l.addr("METRICS_ADDR", "")
	c.PProf = l.boolean("PPROF", "off")
	if c.MetricsAddr != "" && c.MetricsAddr == c.HTTPAddr && l.ok("HTTP_ADDR") {
		l.fail("METRICS_ADDR", "must differ from HTTP_ADDR ("+c.HTTPAddr+")")
	}

	c.Tracing = l.tracing()

	if len(l.errs) > 0 {
		return Config{}, &LoadError{Vars: l.errs}
	}
	return c, nil
}

// database sets DatabaseURL and DBEngine from DATABASE_URL, else from
// DB_ENGINE and its DB_* companions, else to the default SQLite file.
func (l *loader) database(c *Config) {
	dbVars := []string{"DB_ENGINE", "DB_NAME", "DB_USER", "DB_PASS", "DB_HOST", "DB_PORT"}
	var set []string
	for _, name := range dbVars {
		if l.getenv(name) != "" {
			set = append(set, name)
		}
	}
	if raw := strings.TrimSpace(l.getenv("DATABASE_URL")); raw != "" {
		u, engine, err := parseDatabaseURL(raw)
		if err != nil {
			l.fail("DATABASE_URL", err.Error())
			return
		}
		c.DatabaseURL, c.DBEngine, c.shadowedDBVars = u, engine, set
		return
	}
	engine := strings.ToLower(strings.TrimSpace(l.getenv("DB_ENGINE")))
	switch engine {
	case "":
		if len(set) > 0 {
			l.fail("DB_ENGINE", "not set, but "+strings.Join(set, ", ")+
				" are; set DB_ENGINE to sqlite or postgres, or use DATABASE_URL")
			return
		}
		c.DatabaseURL, c.DBEngine = "sqlite:blip.db", "sqlite"
	case "sqlite", "sqlite3", "django.db.backends.sqlite3":
		name := strings.TrimSpace(l.getenv("DB_NAME"))
		if name == "" {
			name = "blip.db"
		}
		for _, v := range []string{"DB_USER", "DB_PASS", "DB_HOST", "DB_PORT"} {
			if l.getenv(v) != "" {
				l.fail(v, "not used with DB_ENGINE=sqlite; unset it")
			}
		}
		u, _, err := parseDatabaseURL("sqlite:" + name)
		if err != nil {
			l.fail("DB_NAME", err.Error())
			return
		}
		c.DatabaseURL, c.DBEngine = u, "sqlite"
	case "postgres", "postgresql", "django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2":
		port := l.integer("DB_PORT", "5432", 1, 65535)
		u, err := buildPostgresURL(
			strings.TrimSpace(l.getenv("DB_NAME")),
			strings.TrimSpace(l.getenv("DB_USER")),
			l.getenv("DB_PASS"), // passwords may legitimately have spaces
			strings.TrimSpace(l.getenv("DB_HOST")),
			port,
		)
		if err != nil {
			l.fail("DB_NAME", err.Error())
			return
		}
		c.DatabaseURL, c.DBEngine = u, "postgres"
	default:
		l.bad("DB_ENGINE", engine, "is not sqlite or postgres")
	}
}

// generateSecretKey returns 32 random bytes, base64url encoded (43
// characters), which passes Check's strength rules.
func generateSecretKey() string {
	var b [32]byte
	// crypto/rand.Read never fails on supported platforms (it aborts the
	// program instead), so the error is always nil.
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// String returns the rate as THROTTLE_* variables spell it, e.g.
// "100/hour". A period Load never produces prints as a Go duration
// ("5/1m30s").
func (r Rate) String() string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Second, "second"}, {time.Minute, "minute"}, {time.Hour, "hour"}, {24 * time.Hour, "day"}} {
		if r.Period == u.d {
			return fmt.Sprintf("%d/%s", r.Count, u.name)
		}
	}
	return fmt.Sprintf("%d/%s", r.Count, r.Period)
}

// Interval returns Period/Count, the steady-state spacing between requests
// (GCRA's emission interval); 0 for a zero Rate.
func (r Rate) Interval() time.Duration {
	if r.Count <= 0 {
		return 0
	}
	return r.Period / time.Duration(r.Count)
}

// SQLiteDSN returns what to hand the SQLite driver for a "sqlite:" or
// "file:" DatabaseURL: the path (with any ?query) or the file: URI as is.
// It returns "" when DBEngine is not "sqlite".
func (c Config) SQLiteDSN() string {
	if c.DBEngine != "sqlite" {
		return ""
	}
	if rest, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:"); ok {
		return rest
	}
	return c.DatabaseURL
}

// Redacted returns a copy safe to print or log: passwords in DatabaseURL
// and RedisURL are masked, and JWTVerifyingKeys (public, but long and of
// no use in a log) becomes "[redacted]". The secret fields need nothing:
// they are blip.Secrets, which print as "[redacted]" whatever the verb.
func (c Config) Redacted() Config {
	if c.JWTVerifyingKeys != "" {
		c.JWTVerifyingKeys = blip.Redacted
	}
	c.DatabaseURL = redactURL(c.DatabaseURL)
	c.RedisURL = redactURL(c.RedisURL)
	return c
}

// String formats the redacted configuration, so printing a Config with
// %v or %+v never shows a secret.
func (c Config) String() string {
	type plain Config // drops the methods, avoiding recursion
	return fmt.Sprintf("%+v", plain(c.Redacted()))
}

// GoString is String for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue makes log/slog print the redacted form too, whatever the handler.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// redactURL masks the password of a URL; a string that does not parse is
// masked whole, as it might be a password itself.
func redactURL(s string) string {
	if s == "" || !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "[redacted]"
	}
	return u.Redacted()
}
