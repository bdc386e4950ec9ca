// Package config reads Blip's configuration from environment variables, with
// the names of the Django template Blip replaces, and checks it for
// deployment. Load is pure: it reads only through the getenv it is given.
package config

import (
	"net/netip"
	"time"
)

// Env is the deployment environment (APP_ENV).
type Env string

// Environments.
const (
	Development Env = "development"
	Production  Env = "production"
	Test        Env = "test"
)

// Rate is a throttle rate such as "100/hour".
type Rate struct {
	Count  int
	Period time.Duration
}

// Config is the whole configuration. Every field comes from one variable
// of SPEC §3 (named in its comment) or is derived from them.
type Config struct {
	Env   Env  // APP_ENV
	Debug bool // DEBUG

	// SecretKey signs HS256 tokens and cursors (SECRET_KEY). When unset in
	// development, Load generates a random one and sets SecretKeyGenerated.
	SecretKey          string
	SecretKeyGenerated bool

	AllowedHosts []string // ALLOWED_HOSTS

	DatabaseURL string // DATABASE_URL, or built from DB_ENGINE, DB_NAME, …; "sqlite:blip.db" by default
	// DBEngine is "sqlite" or "postgres", derived from DatabaseURL.
	DBEngine    string
	DBMaxConns  int           // DB_MAX_CONNS
	ConnMaxAge  time.Duration // CONN_MAX_AGE (seconds)
	AutoMigrate bool          // AUTO_MIGRATE

	RedisURL string // REDIS_URL; "" means in-process caches and limits

	JSONLogs bool   // JSON_LOGS
	LogLevel string // LOG_LEVEL: debug|info|warn|error

	HTTPAddr        string        // HTTP_ADDR
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT
	MaxBodyBytes    int64         // MAX_BODY_BYTES

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
	TrustedProxies              []netip.Prefix // TRUSTED_PROXIES

	AccessTokenLifetime  time.Duration // ACCESS_TOKEN_LIFETIME
	RefreshTokenLifetime time.Duration // REFRESH_TOKEN_LIFETIME
	AuthCookie           string        // AUTH_COOKIE: off|both|only
	// JWT algorithm and keys; HS256 from SecretKey unless keys are given.
	JWTAlgorithm     string // JWT_ALGORITHM: HS256|EdDSA|RS256
	JWTSigningKey    string // JWT_SIGNING_KEY: PEM private key (or a path to one, prefix "file:")
	JWTVerifyingKeys string // JWT_VERIFYING_KEYS: extra PEM public keys accepted during rotation
	JWTIssuer        string // JWT_ISSUER

	ThrottleAnon      Rate // THROTTLE_ANON
	ThrottleUser      Rate // THROTTLE_USER
	ThrottleLogin     Rate // THROTTLE_LOGIN
	ThrottleRegister  Rate // THROTTLE_REGISTER
	ThrottleRefresh   Rate // THROTTLE_REFRESH
	ThrottleCSPReport Rate // THROTTLE_CSP_REPORT

	MetricsToken string // METRICS_TOKEN
	MetricsAddr  string // METRICS_ADDR
}
