package config

import (
	"cmp"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strings"
)

// Level is how serious a Problem is.
type Level string

// Levels. `blip check` exits 1 when any problem is an error.
const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
)

// Problem is one finding of Check, in the manner of Django's system
// checks: a stable ID (listed in docs/configuration.md), a level, what is
// wrong and how to fix it. Messages never contain secret values.
type Problem struct {
	ID      string // e.g. "security.E001"
	Level   Level
	Message string
	Fix     string
}

// String formats the problem as `blip check` prints it.
func (p Problem) String() string {
	return fmt.Sprintf("%s (%s): %s\n\tHINT: %s", p.ID, p.Level, p.Message, p.Fix)
}

// HasErrors reports whether any of problems is an error.
func HasErrors(problems []Problem) bool {
	return slices.ContainsFunc(problems, func(p Problem) bool { return p.Level == LevelError })
}

// Secret-key rules: at least 32 random bytes (docs/configuration.md).
const (
	minSecretKeyLen      = 32
	minSecretKeyDistinct = 10
	// minMetricsTokenLen is the shortest METRICS_TOKEN check --deploy
	// accepts without a warning: `openssl rand -hex 32` prints 64.
	minMetricsTokenLen = 32
	hstsOneYear        = 31536000
)

// StartupErrors returns the problems `blip serve` refuses to start on: in
// production, a missing, weak or placeholder SECRET_KEY, DEBUG on, or an
// empty ALLOWED_HOSTS. Outside production it returns nil.
func (c Config) StartupErrors() []Problem {
	if c.Env != Production {
		return nil
	}
	return sortProblems(c.essentials())
}

// Check validates the configuration beyond what Load can: combinations,
// and with deploy (`blip check --deploy`) the production checklist (DEBUG,
// SECRET_KEY, ALLOWED_HOSTS, HTTPS redirect, HSTS, cookies, CSP). In
// production, or with deploy, it includes StartupErrors. The result has
// errors first, then warnings, each in ID order.
func (c Config) Check(deploy bool) []Problem {
	var ps []Problem
	if deploy || c.Env == Production {
		ps = append(ps, c.essentials()...)
	} else if c.SecretKeyGenerated {
		ps = append(ps, Problem{"security.W001", LevelWarning,
			"SECRET_KEY is not set: a random key was generated for this process, so tokens stop working at every restart and replicas reject each other's tokens.",
			"Set SECRET_KEY to at least 32 random bytes, e.g. the output of `openssl rand -base64 48`."})
	}
	ps = append(ps, c.combinations()...)
	if deploy {
		ps = append(ps, c.deployChecklist()...)
	}
	return sortProblems(ps)
}

// essentials are the checks production cannot run without.
func (c Config) essentials() []Problem {
	var ps []Problem
	if p, weak := c.secretKeyProblem(); weak {
		ps = append(ps, p)
	}
	if c.Debug {
		ps = append(ps, Problem{"security.E005", LevelError,
			"DEBUG is on; it must be off in production.",
			"Set DEBUG=0."})
	}
	if len(c.AllowedHosts) == 0 {
		ps = append(ps, Problem{"security.E006", LevelError,
			"ALLOWED_HOSTS is empty, so every request would be refused with 400 bad_host.",
			"Set ALLOWED_HOSTS to the host names clients use, e.g. ALLOWED_HOSTS=api.example.com."})
	}
	return ps
}

// secretKeyProblem applies the secret-key rules; the message says which
// rule failed but never shows the key.
func (c Config) secretKeyProblem() (Problem, bool) {
	const fix = "Set SECRET_KEY to at least 32 random bytes from a generator, e.g. the output of `openssl rand -base64 48` (or `head -c 48 /dev/urandom | base64`), kept in a secret store; never a typed or made-up value."
	k := string(c.SecretKey)
	switch {
	case k == "" || c.SecretKeyGenerated:
		return Problem{"security.E001", LevelError,
			"SECRET_KEY is not set; production needs a fixed key shared by every replica.", fix}, true
	case isPlaceholderKey(k):
		return Problem{"security.E003", LevelError,
			"SECRET_KEY is a placeholder or well-known default value.", fix}, true
	case len(k) < minSecretKeyLen:
		return Problem{"security.E002", LevelError,
			fmt.Sprintf("SECRET_KEY is %d bytes long; it must have at least %d.", len(k), minSecretKeyLen), fix}, true
	case distinctRunes(k) < minSecretKeyDistinct:
		return Problem{"security.E004", LevelError,
			fmt.Sprintf("SECRET_KEY has fewer than %d distinct characters, so it is not random.", minSecretKeyDistinct), fix}, true
	case keyEntropyBits(k) < minSecretKeyBits:
		return Problem{"security.E008", LevelError,
			fmt.Sprintf("SECRET_KEY is guessable: its runs, repeats, sequences or keyboard walks leave it an estimated %.0f bits of entropy, under the %d required.",
				math.Floor(keyEntropyBits(k)), minSecretKeyBits), fix}, true
	}
	return Problem{}, false
}

// isPlaceholderKey reports keys copied from templates and tutorials.
func isPlaceholderKey(k string) bool {
	lk := strings.ToLower(k)
	if strings.HasPrefix(lk, "django-insecure") {
		return true
	}
	for _, word := range []string{
		"changeme", "change-me", "change_me", "change me", "replaceme", "replace-me", "replace_me",
		"secret", "insecure", "example", "default", "password", "your-", "your_", "xxxxxx",
	} {
		if strings.Contains(lk, word) {
			return true
		}
	}
	return false
}

func distinctRunes(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// combinations checks settings that are each valid but wrong together.
// They apply in every environment.
func (c Config) combinations() []Problem {
	var ps []Problem
	if c.SecureSSLRedirect && len(c.TrustedProxies) == 0 {
		ps = append(ps, Problem{"security.W010", LevelWarning,
			"SECURE_SSL_REDIRECT is on but TRUSTED_PROXIES is empty: Blip serves plain HTTP and ignores X-Forwarded-Proto from untrusted peers, so behind a TLS-terminating proxy every request is redirected, forever.",
			"Set TRUSTED_PROXIES to your load balancer's addresses (e.g. 10.0.0.0/8), or SECURE_SSL_REDIRECT=0 if the proxy redirects to HTTPS itself."})
	}
	if c.SecureHSTSPreload && (c.SecureHSTSSeconds < hstsOneYear || !c.SecureHSTSIncludeSubdomains) {
		ps = append(ps, Problem{"security.W011", LevelWarning,
			"SECURE_HSTS_PRELOAD is on, but the HSTS preload list also requires SECURE_HSTS_SECONDS ≥ 31536000 and SECURE_HSTS_INCLUDE_SUBDOMAINS=1.",
			"Set SECURE_HSTS_SECONDS=31536000 and SECURE_HSTS_INCLUDE_SUBDOMAINS=1, or SECURE_HSTS_PRELOAD=0."})
	}
	if c.JWTAlgorithm == "HS256" && (c.JWTSigningKey != "" || c.JWTVerifyingKeys != "") {
		ps = append(ps, Problem{"auth.W001", LevelWarning,
			"JWT_SIGNING_KEY or JWT_VERIFYING_KEYS is set but JWT_ALGORITHM is HS256, which signs with SECRET_KEY: the keys are ignored.",
			"Set JWT_ALGORITHM=EdDSA or RS256 to use the keys, or unset them."})
	}
	if c.AccessTokenLifetime > 0 && c.AccessTokenLifetime >= c.RefreshTokenLifetime {
		ps = append(ps, Problem{"auth.W002", LevelWarning,
			fmt.Sprintf("ACCESS_TOKEN_LIFETIME (%s) is not shorter than REFRESH_TOKEN_LIFETIME (%s); revocation relies on short-lived access tokens.",
				c.AccessTokenLifetime, c.RefreshTokenLifetime),
			"Keep access tokens short (minutes) and refresh tokens long (days)."})
	}
	if c.PProf && c.MetricsAddr == "" {
		ps = append(ps, Problem{"metrics.W004", LevelWarning,
			"PPROF is on but METRICS_ADDR is empty: pprof is served only on the internal listener, so it is not served at all.",
			"Set METRICS_ADDR to an internal address such as 127.0.0.1:9100, or PPROF=0."})
	}
	if len(c.shadowedDBVars) > 0 {
		ps = append(ps, Problem{"database.W002", LevelWarning,
			"DATABASE_URL is set, so " + strings.Join(c.shadowedDBVars, ", ") + " are ignored.",
			"Unset the DB_* variables, or unset DATABASE_URL to build the URL from them."})
	}
	if c.connMaxAgeZeroSet {
		ps = append(ps, Problem{"database.W004", LevelWarning,
			"CONN_MAX_AGE=0 is set. In Blip it means pooled connections live without a time limit; in Django it meant the opposite, closing the connection after every request. A .env carried over from the Django template changes meaning here.",
			"To recycle connections (after a failover or a PgBouncer change), set a lifetime in seconds, e.g. CONN_MAX_AGE=300 (the default); to keep them for ever, unset CONN_MAX_AGE or leave it at 0 knowingly."})
	}
	if dsn := c.SQLiteDSN(); strings.HasPrefix(dsn, "/") && path.Dir(strings.SplitN(dsn, "?", 2)[0]) == "/" {
		ps = append(ps, Problem{"database.W003", LevelWarning,
			"The SQLite database is a file in the root directory (" + strings.SplitN(dsn, "?", 2)[0] + "). Blip reads sqlite:///name as an absolute path, where dj-database-url read it as relative.",
			"Use sqlite:name.db for a path relative to the working directory, or a full absolute path such as sqlite:///var/lib/blip/blip.db."})
	}
	return ps
}

// deployChecklist is the production checklist of `blip check --deploy`.
// Errors are holes nothing upstream can plug; warnings are settings a
// proxy or platform often provides instead (HTTPS redirect, HSTS, headers).
func (c Config) deployChecklist() []Problem {
	var ps []Problem
	warn := func(id, msg, fix string) { ps = append(ps, Problem{id, LevelWarning, msg, fix}) }
	if c.Env != Production {
		warn("config.W001", fmt.Sprintf("APP_ENV is %s; the deploy checks assume production, whose defaults differ.", c.Env),
			"Set APP_ENV=production in deployments.")
	}
	if slices.Contains(c.AllowedHosts, "*") {
		warn("security.W002", "ALLOWED_HOSTS contains '*', which disables Host header validation.",
			"List the host names clients use instead of '*'.")
	}
	if !c.SecureSSLRedirect {
		warn("security.W003", "SECURE_SSL_REDIRECT is off, so plain-HTTP requests are served rather than redirected to HTTPS.",
			"Set SECURE_SSL_REDIRECT=1, unless your proxy already redirects HTTP to HTTPS.")
	}
	switch {
	case c.SecureHSTSSeconds <= 0:
		warn("security.W004", "SECURE_HSTS_SECONDS is 0, so no Strict-Transport-Security header is sent.",
			"Set SECURE_HSTS_SECONDS=31536000 once the site is served only over HTTPS.")
	case c.SecureHSTSSeconds < hstsOneYear:
		warn("security.W005", fmt.Sprintf("SECURE_HSTS_SECONDS is %d, less than one year.", c.SecureHSTSSeconds),
			"Raise SECURE_HSTS_SECONDS to 31536000 once HTTPS works everywhere.")
	}
	if !c.SessionCookieSecure {
		if c.AuthCookie == "both" || c.AuthCookie == "only" {
			ps = append(ps, Problem{"security.E007", LevelError,
				"AUTH_COOKIE is " + c.AuthCookie + " but SESSION_COOKIE_SECURE is off, so the refresh-token cookie may travel over plain HTTP.",
				"Set SESSION_COOKIE_SECURE=1."})
		} else {
			warn("security.W006", "SESSION_COOKIE_SECURE is off; it matters as soon as AUTH_COOKIE is enabled.",
				"Set SESSION_COOKIE_SECURE=1.")
		}
	}
	if !c.SecurityHeadersEnabled {
		warn("security.W007", "SECURITY_HEADERS_ENABLED is off, so responses lack nosniff, frame and referrer protections.",
			"Set SECURITY_HEADERS_ENABLED=1, unless your proxy adds these headers.")
	}
	switch {
	case !c.CSPEnabled:
		warn("security.W008", "CSP_ENABLED is off, so no Content-Security-Policy is sent.",
			"Set CSP_ENABLED=1.")
	case c.CSPReportOnly:
		warn("security.W009", "CSP_REPORT_ONLY is on: the Content-Security-Policy is reported but not enforced.",
			"Once /csp-report/ receives no unexpected reports, set CSP_REPORT_ONLY=0.")
	}
	for _, o := range slices.Concat(c.CORSAllowedOrigins, c.CSRFTrustedOrigins) {
		if strings.HasPrefix(o, "http://") && !isLocalOrigin(o) {
			warn("security.W012", "Origin "+o+" in CORS_ALLOWED_ORIGINS or CSRF_TRUSTED_ORIGINS uses plain HTTP.",
				"Use https:// origins in production.")
			break
		}
	}
	switch {
	case c.MetricsAddr == "" && c.MetricsToken == "":
		warn("metrics.W001", "/metrics/ is served on the public listener without a token: anyone who reaches Blip reads its metrics (authentication counters, build info).",
			"Set METRICS_TOKEN to a random token (e.g. `openssl rand -hex 32`), or METRICS_ADDR to an internal listener such as 127.0.0.1:9100 (the public /metrics/ then answers 404).")
	case c.MetricsAddr != "" && c.MetricsToken == "" && !isLoopbackAddr(c.MetricsAddr):
		warn("metrics.W003", "METRICS_ADDR ("+c.MetricsAddr+") listens beyond loopback without METRICS_TOKEN: anything on that network reads the metrics (and pprof, with PPROF=1).",
			"Set METRICS_TOKEN to a random token (e.g. `openssl rand -hex 32`) and give it to the scraper, or bind METRICS_ADDR to 127.0.0.1.")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < minMetricsTokenLen {
		warn("metrics.W002", fmt.Sprintf("METRICS_TOKEN is shorter than %d characters.", minMetricsTokenLen),
			"Use a random token, e.g. the output of `openssl rand -hex 32`.")
	}
	if c.PProf {
		warn("metrics.W005", "PPROF is on: the internal listener serves profiles, and a CPU profile or trace request costs the process while it runs.",
			"Turn PPROF off (the default) outside profiling sessions.")
	}
	if c.DBEngine == "sqlite" {
		warn("database.W001", "The database is SQLite: fine for one process, but replicas cannot share it.",
			"Set DATABASE_URL=postgres://… for production deployments.")
	}
	if c.RedisURL == "" {
		warn("cache.W001", "REDIS_URL is empty: caches, rate limits and revocation state live in each process, so replicas do not share them.",
			"Set REDIS_URL=redis://… when running more than one replica.")
	}
	if len(c.Tracing.Headers) > 0 && c.Tracing.Enabled() && !httpsOrLoopback(c.Tracing.Endpoint) {
		warn("tracing.W001", "OTEL_EXPORTER_OTLP_HEADERS are sent to a plain-http trace collector on another host, so whatever they hold (an API key, usually) crosses the network in clear.",
			"Use an https:// OTEL_EXPORTER_OTLP_ENDPOINT, or a collector on localhost (a sidecar or node agent).")
	}
	return ps
}

// httpsOrLoopback reports whether a URL (one Load accepted) is https or
// reaches a loopback host.
func httpsOrLoopback(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || isLoopbackHost(u.Hostname()))
}

// isLocalOrigin reports origins on the loopback interface, where plain
// HTTP is normal.
func isLocalOrigin(origin string) bool {
	u := strings.TrimPrefix(origin, "http://")
	host, _, err := net.SplitHostPort(u)
	if err != nil {
		host = u
	}
	return isLoopbackHost(strings.Trim(host, "[]"))
}

// isLoopbackAddr reports whether a listen address binds only to the
// loopback interface: an empty host (every interface) does not.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && host != "" && isLoopbackHost(host)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// sortProblems orders errors before warnings, then by ID.
func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if a.Level != b.Level {
			if a.Level == LevelError {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return ps
}
