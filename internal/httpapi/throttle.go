package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/blipsocial/blip/internal/apidocs"
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/ratelimit"
)

// throttleErrorLogInterval bounds how often a policy that cannot be applied
// is logged: it is a configuration bug, logged loudly but not once per
// request.
const throttleErrorLogInterval = time.Minute

// accountKeyContext separates the HMAC key used for account throttle keys
// from every other use of SECRET_KEY.
const accountKeyContext = "blip/ratelimit/account/v1"

// throttle applies the THROTTLE_* policies of docs/ratelimit.md:
// general() limits every request per user or, for anonymous callers and
// callers whose credentials fail (allowFailedCredentials), per client IP; route() adds a stricter per-IP class to one route;
// allowAccount() is the per-account half of the login policy.
//
// A nil *throttle throttles nothing, so handlers can be built without one
// in tests; production wiring always passes a limiter.
type throttle struct {
	logger   *slog.Logger
	limiter  *ratelimit.Limiter
	policies map[string]ratelimit.Policy
	onReject func(policy string)
	// accountMAC keys the HMAC that turns an email address into a store
	// key, so addresses never sit in Redis in clear and cannot be
	// recovered from a dump by hashing a list of known addresses.
	accountMAC []byte
	lastErrLog atomic.Int64 // unix nanoseconds of the last policy-error log line
}

// newThrottle returns the throttle for cfg's THROTTLE_* rates, applied
// by limiter. onReject (may be nil) is called with the policy name of every
// rejected request: wire it to Metrics.RateLimitRejected, and leave the
// limiter's own Hooks.OnReject unset so rejections are not counted twice.
//
// A nil limiter yields a nil throttle, which throttles nothing; that is
// logged as an error because it switches a security control off. An invalid
// rate (config.Load refuses them, so only hand-built configs have them) is
// logged here, and requests under that policy are refused with 503.
func newThrottle(logger *slog.Logger, cfg config.Config, limiter *ratelimit.Limiter, onReject func(policy string)) *throttle {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if limiter == nil {
		logger.Error("no rate limiter configured; requests are not throttled")
		return nil
	}
	t := &throttle{
		logger:   logger,
		limiter:  limiter,
		onReject: onReject,
		policies: map[string]ratelimit.Policy{},
	}
	for _, p := range []struct {
		name string
		rate config.Rate
		env  string
	}{
		{ratelimit.PolicyAnon, cfg.ThrottleAnon, "THROTTLE_ANON"},
		{ratelimit.PolicyUser, cfg.ThrottleUser, "THROTTLE_USER"},
		{ratelimit.PolicyLogin, cfg.ThrottleLogin, "THROTTLE_LOGIN"},
		{ratelimit.PolicyLoginFailures, cfg.ThrottleLoginFailures, "THROTTLE_LOGIN_FAILURES"},
		{ratelimit.PolicyLoginAccount, cfg.ThrottleLoginAccountFailures, "THROTTLE_LOGIN_ACCOUNT_FAILURES"},
		{ratelimit.PolicyRegister, cfg.ThrottleRegister, "THROTTLE_REGISTER"},
		{ratelimit.PolicyRefresh, cfg.ThrottleRefresh, "THROTTLE_REFRESH"},
		{ratelimit.PolicyCSPReport, cfg.ThrottleCSPReport, "THROTTLE_CSP_REPORT"},
	} {
		policy := ratelimit.Policy{Name: p.name, Rate: ratelimit.Rate(p.rate)}
		if err := policy.Rate.Valid(); err != nil {
			logger.Error("invalid throttle rate; requests under this policy are refused with 503",
				"variable", p.env, "policy", p.name, "error", err)
		}
		t.policies[p.name] = policy
	}
	mac := hmac.New(sha256.New, []byte(cfg.SecretKey))
	mac.Write([]byte(accountKeyContext))
	t.accountMAC = mac.Sum(nil)
	return t
}

// policy returns the named policy. An unknown name is a wiring bug: it is
// logged, and the zero rate makes every request under it a 503 rather than
// an unthrottled one.
func (t *throttle) policy(name string) ratelimit.Policy {
	p, ok := t.policies[name]
	if !ok {
		t.logger.Error("unknown throttle policy; requests under it are refused with 503", "policy", name)
		return ratelimit.Policy{Name: name}
	}
	return p
}

// general limits every request but health checks, metrics scrapes, CORS
// preflights and the docs page's assets (throttleExempt): an authenticated
// caller under the user policy, keyed by user id, an anonymous one under
// the anon policy, keyed by client IP. It must
// run after authentication, which sets the principal it reads, and after
// clientIPMiddleware. Every throttled response, allowed or not, carries
// RateLimit-Policy and RateLimit; a rejection is a 429 throttled problem
// with Retry-After.
func (t *throttle) general() func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if t == nil {
			return next
		}
		anon, user := t.policy(ratelimit.PolicyAnon), t.policy(ratelimit.PolicyUser)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if throttleExempt(r) {
				next.ServeHTTP(w, r)
				return
			}
			p, key := anon, ipKey(logClientIP(r))
			if id := userID(r.Context()); id != "" {
				p, key = user, id
			}
			if !t.allow(w, r, p, key, true) {
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// allowFailedCredentials counts a request whose credentials were refused
// against the anonymous policy of its client IP, as general would have had
// the request been anonymous. When it returns false it has written the 429
// (or 503) and the caller must not answer.
func (t *throttle) allowFailedCredentials(w http.ResponseWriter, r *http.Request) bool {
	if t == nil {
		return true
	}
	return t.allow(w, r, t.policy(ratelimit.PolicyAnon), ipKey(logClientIP(r)), true)
}

// route wraps next, the handler of one route, in the stricter per-IP
// policy named (ratelimit.PolicyLogin, PolicyRegister, PolicyRefresh or
// PolicyCSPReport). It applies in addition to general: a request spends
// both budgets, and its response lists both policies in its RateLimit
// headers, the stricter first.
func (t *throttle) route(policy string, next http.Handler) http.Handler {
	if t == nil {
		return next
	}
	p := t.policy(policy)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !t.allow(w, r, p, ipKey(logClientIP(r)), true) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// knownAddressFor is how long an address a user logged in from stays
// exempt from the account's failure cap (THROTTLE_LOGIN_ACCOUNT_FAILURES).
const knownAddressFor = 30 * 24 * time.Hour

// knownAddress is the policy under which a successful login marks its
// (account, address) pair as known. It limits nothing: its budget of one
// per knownAddressFor makes the limiter a store of expiring marks (Allow
// sets one, an exhausted Peek finds it), shared by every replica like any
// budget, with the same fallback during a Redis outage.
var knownAddress = ratelimit.Policy{Name: "login-known", Rate: ratelimit.Rate{Count: 1, Period: knownAddressFor}}

// loginAttempt is one login's passage through the failure budgets; the
// login handler reports its outcome with failed or succeeded. A nil
// *loginAttempt (no throttle, or no email to key on) does nothing.
type loginAttempt struct {
	t *throttle
	// account keys the account's cap, pair the (account, address) budget
	// and the known-address mark.
	account, pair string
}

// beginLogin applies the failure budgets of docs/ratelimit.md (Login) to a
// login attempt for email, after the per-IP THROTTLE_LOGIN of route and
// before any password hashing:
//
//   - the account's cap (THROTTLE_LOGIN_ACCOUNT_FAILURES) must have room,
//     unless the client's address logged into the account within
//     knownAddressFor: an attacker failing from many addresses can then
//     lock out new addresses, never the user's own;
//   - one unit of the strict (account, address) budget
//     (THROTTLE_LOGIN_FAILURES) is spent now, atomically, so parallel
//     guesses cannot overrun it; succeeded gives it back by resetting the
//     pair, so only failures remain counted.
//
// The account's cap is only read here and spent by failed: successes never
// count. When beginLogin returns ok false it has written the answer (429, or
// 503 for an unusable policy). Keys are HMACs of the normalised, lower-cased
// address whether or not an account has it, so unknown and known emails are
// counted and answered alike, and addresses never reach the store in clear.
// An allowed attempt adds no header: an account's remaining budget is
// nobody's business but would tell a caller whether someone else is trying
// it.
func (t *throttle) beginLogin(w http.ResponseWriter, r *http.Request, email string) (attempt *loginAttempt, ok bool) {
	if t == nil {
		return nil, true
	}
	email = strings.ToLower(blip.NormalizeEmail(email))
	if email == "" {
		return nil, true // validation answers 400 before any password is checked
	}
	a := &loginAttempt{t: t, account: t.accountKey(email)}
	a.pair = a.account + "|" + ipKey(logClientIP(r))
	if !t.knownAddress(r, a.pair) && !t.check(w, r, t.policy(ratelimit.PolicyLoginAccount), a.account) {
		return nil, false
	}
	if !t.allow(w, r, t.policy(ratelimit.PolicyLoginFailures), a.pair, false) {
		return nil, false
	}
	return a, true
}

// failed counts a failed login against the account's cap.
func (a *loginAttempt) failed(r *http.Request) {
	if a == nil {
		return
	}
	// The request is already refused; the result only matters to the next.
	_, _ = a.t.limiter.Allow(r.Context(), a.t.policy(ratelimit.PolicyLoginAccount), a.account)
}

// succeeded resets the (account, address) failures and marks the address
// as known for the account, for knownAddressFor from now.
func (a *loginAttempt) succeeded(r *http.Request) {
	if a == nil {
		return
	}
	ctx, l := r.Context(), a.t.limiter
	l.Reset(ctx, a.t.policy(ratelimit.PolicyLoginFailures), a.pair)
	l.Reset(ctx, knownAddress, a.pair)
	_, _ = l.Allow(ctx, knownAddress, a.pair)
}

// knownAddress reports whether the pair's address logged into its account
// within knownAddressFor: its mark leaves no budget.
func (t *throttle) knownAddress(r *http.Request, pair string) bool {
	res, err := t.limiter.Peek(r.Context(), knownAddress, pair)
	return err == nil && !res.Allowed
}

// accountKey is the store key of an account: "account:" and 128 bits of
// HMAC-SHA256 of the address, keyed from SECRET_KEY, so every replica
// (which shares SECRET_KEY) derives the same key.
func (t *throttle) accountKey(email string) string {
	mac := hmac.New(sha256.New, t.accountMAC)
	mac.Write([]byte(email))
	return "account:" + hex.EncodeToString(mac.Sum(nil)[:16])
}

// allow counts one request of key under p. When the request may proceed it
// returns true, having set the RateLimit headers if headersOnAllow;
// otherwise it has written a 429 (or a 503) and returns false.
//
// Limiter.Allow errs only for a policy with an invalid rate. Failing open
// would silently switch a security control off, and a 429 would blame the
// client, so such a request is refused with 503 unavailable and the
// misconfiguration logged at error level (at most once a minute).
// config.Load refuses invalid rates, so this should never be seen.
func (t *throttle) allow(w http.ResponseWriter, r *http.Request, p ratelimit.Policy, key string, headersOnAllow bool) bool {
	return t.answer(w, r, p, key, headersOnAllow, t.limiter.Allow)
}

// answer is allow and check, with decide the limiter's Allow or Peek.
func (t *throttle) answer(w http.ResponseWriter, r *http.Request, p ratelimit.Policy, key string, headersOnAllow bool,
	decide func(context.Context, ratelimit.Policy, string) (ratelimit.Result, error)) bool {
	res, err := decide(r.Context(), p, key)
	if err != nil {
		t.logPolicyError(r, p, err)
		writeProblem(w, r, t.logger, blip.Errorf(blip.CodeUnavailable,
			"Service temporarily unavailable, try again later."))
		return false
	}
	if res.Allowed {
		if headersOnAllow {
			setRateLimitHeaders(w.Header(), p, res)
		}
		return true
	}
	setRateLimitHeaders(w.Header(), p, res)
	if t.onReject != nil {
		t.onReject(p.Name)
	}
	writeProblem(w, r, t.logger, blip.Errorf(blip.CodeThrottled, "%s", throttledDetail(res.RetryAfterSeconds())))
	return false
}

// check is allow without spending: it refuses the request when key has no
// budget left under p, and otherwise lets it through uncounted.
func (t *throttle) check(w http.ResponseWriter, r *http.Request, p ratelimit.Policy, key string) bool {
	return t.answer(w, r, p, key, false, t.limiter.Peek)
}

func (t *throttle) logPolicyError(r *http.Request, p ratelimit.Policy, err error) {
	now := time.Now().UnixNano()
	last := t.lastErrLog.Load()
	if now-last < int64(throttleErrorLogInterval) || !t.lastErrLog.CompareAndSwap(last, now) {
		return
	}
	t.logger.ErrorContext(r.Context(), "throttle policy cannot be applied; refusing request with 503",
		"policy", p.Name, "error", err)
}

// throttledDetail is DRF's message for a throttled request.
func throttledDetail(seconds int64) string {
	unit := "seconds"
	if seconds == 1 {
		unit = "second"
	}
	return fmt.Sprintf("Request was throttled. Expected available in %d %s.", seconds, unit)
}

// throttleExempt reports whether general must let r through unthrottled:
// load-balancer probes and metrics scrapes (a 429 there would take a healthy
// replica out of rotation or blind monitoring) and CORS preflights (which
// allowCORS answers before they get here; a browser cannot retry them
// sensibly anyway), and the static assets of /api/docs/ (a page view loads
// half a dozen; they are embedded files, cached for a year). Only exact
// paths are exempt: anything else, the docs page itself included, is
// throttled.
func throttleExempt(r *http.Request) bool {
	if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != "" {
		return true
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && apidocs.IsAsset(r.URL.Path) {
		return true
	}
	switch r.URL.Path {
	case "/health", "/health/", "/health/live", "/health/live/", "/metrics", "/metrics/":
		return true
	}
	return false
}

// ipKey is the store key of a client address. IPv6 clients are keyed by
// their /64, the smallest block ISPs assign: keying single addresses would
// let one subscriber rotate through 2^64 of them and never be throttled.
// A value that is not an IP (a Unix socket peer) is used as it is; the
// limiter hashes anything long.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "ip:" + ip
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		return "ip:" + netip.PrefixFrom(a, 64).Masked().String()
	}
	return "ip:" + a.String()
}

// setRateLimitHeaders merges res's RateLimit-Policy and RateLimit items for
// p into h. When several policies apply to a request (anon and login, say)
// both fields become Structured Field lists with one item per policy, the
// one set last (the stricter, route-specific one) first; an item of the same
// policy is replaced. Retry-After is the rejecting policy's.
func setRateLimitHeaders(h http.Header, p ratelimit.Policy, res ratelimit.Result) {
	for k, v := range res.Headers(p) {
		if k == ratelimit.HeaderRetryAfter {
			h.Set(k, v)
			continue
		}
		h.Set(k, mergeRateLimitItem(h.Get(k), v))
	}
}

// mergeRateLimitItem puts item at the head of the list, dropping any item
// with the same policy name. Items are written by ratelimit.Result.Headers
// from Blip's own policy names, which contain neither ',' nor ';'.
func mergeRateLimitItem(list, item string) string {
	name, _, _ := strings.Cut(item, ";")
	items := []string{item}
	for it := range strings.SplitSeq(list, ",") {
		it = strings.TrimSpace(it)
		if n, _, _ := strings.Cut(it, ";"); it == "" || n == name {
			continue
		}
		items = append(items, it)
	}
	return strings.Join(items, ", ")
}
