package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/blipsocial/blip/internal/apidocs"
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
)

type principalKey struct{}

// principal returns the authenticated caller, or nil for an anonymous one.
func principal(ctx context.Context) *blip.Principal {
	p, _ := ctx.Value(principalKey{}).(*blip.Principal)
	return p
}

// userID returns the caller's user id, or "" for an anonymous caller.
func userID(ctx context.Context) string {
	if p := principal(ctx); p != nil {
		return p.UserID
	}
	return ""
}

// authenticate resolves an `Authorization: Bearer` access token into the
// request's principal. A request without Bearer credentials stays
// anonymous (routes that need a user answer 401 not_authenticated); a
// request with a bad Bearer token is refused with 401 token_not_valid on
// every route, as DRF's JWTAuthentication does. A refused request never
// reaches the general rate limit, so it is counted here against its client
// IP's anonymous budget (th.allowFailedCredentials): guessing tokens costs
// what anonymous traffic costs, and past the budget the answer is 429.
func authenticate(logger *slog.Logger, accounts *blip.Accounts, th *throttle) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := bearerToken(r)
			if !ok || accounts == nil || !usesUserAuth(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			p, err := accounts.Authenticate(r.Context(), string(token))
			if err != nil {
				if !th.allowFailedCredentials(w, r) {
					return
				}
				writeProblem(w, r, logger, err)
				return
			}
			setLogUserID(r.Context(), p.UserID)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
		})
	}
}

// usesUserAuth reports whether a path takes user tokens: the platform
// endpoints do not (/metrics/ has its own Bearer token, probes and CSP
// reports are anonymous by nature), nor do the token endpoints, which, like
// SimpleJWT's views (authentication_classes = ()), ignore Authorization: a
// client still sending its expired or revoked access token must be able to
// log in and refresh.
func usesUserAuth(path string) bool {
	for _, p := range []string{"/metrics", "/health", "/csp-report", "/api/token"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return false
		}
	}
	return true
}

// bearerToken extracts the token of an `Authorization: Bearer <token>`
// header, as a Secret. Other schemes are not Blip's and are ignored.
func bearerToken(r *http.Request) (blip.Secret, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return blip.Secret(token), token != ""
}

// requireAuth answers 401 not_authenticated to anonymous callers.
func requireAuth(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if principal(r.Context()) == nil {
			writeProblem(w, r, logger, blip.Errorf(blip.CodeNotAuthenticated, "Authentication credentials were not provided."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refreshCookieName names the cookie that carries the refresh token when
// AUTH_COOKIE is both or only.
const refreshCookieName = apidocs.RefreshCookie

// tokenCookies implements AUTH_COOKIE (docs/api.md, Cookie mode).
type tokenCookies struct {
	mode    string // off|both|only
	secure  bool
	maxAge  int
	trusted map[string]bool // CSRF_TRUSTED_ORIGINS, normalised
}

func newTokenCookies(cfg config.Config) tokenCookies {
	trusted := map[string]bool{}
	for _, o := range cfg.CSRFTrustedOrigins {
		trusted[strings.ToLower(strings.TrimRight(o, "/"))] = true
	}
	return tokenCookies{
		mode: cfg.AuthCookie,
		// Secure unless development over plain HTTP, where browsers would
		// drop a Secure cookie set by http://localhost.
		secure:  cfg.SessionCookieSecure || cfg.Env != config.Development,
		maxAge:  int(cfg.RefreshTokenLifetime.Seconds()),
		trusted: trusted,
	}
}

func (c tokenCookies) enabled() bool { return c.mode == "both" || c.mode == "only" }

// inBody reports whether refresh tokens appear in JSON bodies.
func (c tokenCookies) inBody() bool { return c.mode != "only" }

func (c tokenCookies) set(w http.ResponseWriter, r *http.Request, refresh blip.Secret) {
	if !c.enabled() {
		return
	}
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: HttpOnly and SameSite=Strict always; Secure false only in development over plain http (c.secure, isHTTPS), as the cookie mode requires
		Name: refreshCookieName, Value: string(refresh), Path: "/api/token/", MaxAge: c.maxAge,
		HttpOnly: true, Secure: c.secure || isHTTPS(r), SameSite: http.SameSiteStrictMode,
	})
}

func (c tokenCookies) clear(w http.ResponseWriter, r *http.Request) {
	if !c.enabled() {
		return
	}
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: HttpOnly and SameSite=Strict always; Secure false only in development over plain http (c.secure, isHTTPS), as the cookie mode requires
		Name: refreshCookieName, Value: "", Path: "/api/token/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure || isHTTPS(r), SameSite: http.SameSiteStrictMode,
	})
}

// refreshToken returns the refresh token of a request: from the body when
// present, else from the cookie (when enabled) after the CSRF origin check.
func (c tokenCookies) refreshToken(r *http.Request, fromBody blip.Secret) (blip.Secret, error) {
	if fromBody != "" {
		return fromBody, nil
	}
	if c.enabled() {
		if ck, err := r.Cookie(refreshCookieName); err == nil && ck.Value != "" {
			if !c.originAllowed(r) {
				return "", blip.Errorf(blip.CodeCSRFFailed, "CSRF Failed: Origin checking failed.")
			}
			return blip.Secret(ck.Value), nil
		}
	}
	return "", blip.ValidationError(map[string][]string{"refresh": {"This field is required."}})
}

// originAllowed checks a cookie-authenticated request's Origin (or, without
// one, its Referer) against CSRF_TRUSTED_ORIGINS and the request's own
// origin. A request with neither header is not from a browser, which
// always sends Origin on POST, so SameSite=Strict already covers it.
func (c tokenCookies) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		ref := r.Header.Get("Referer")
		if ref == "" {
			return true
		}
		u, err := url.Parse(ref)
		if err != nil || u.Host == "" {
			return false
		}
		origin = u.Scheme + "://" + u.Host
	}
	origin = strings.ToLower(origin)
	if origin == "null" {
		return false
	}
	own := strings.ToLower(requestScheme(r) + "://" + r.Host)
	return origin == own || c.trusted[origin]
}
