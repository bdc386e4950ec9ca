package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/blipsocial/blip/internal/apidocs"
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/ratelimit"
)

// addRoutes lists the whole API. Patterns are written in their canonical
// form, as docs/api.md lists them; router.handle makes each answer with and
// without one trailing slash, and uses the pattern as the route label.
func addRoutes(
	rt *router,
	logger *slog.Logger,
	cfg config.Config,
	metrics *Metrics,
	health *Health,
	accounts *blip.Accounts,
	feed *blip.Feed,
	keys KeySet,
	th *throttle,
) {
	maxBody := cfg.MaxBodyBytes
	cookies := newTokenCookies(cfg)
	cursors := newCursorCodec([]byte(cfg.SecretKey))
	user := func(h http.Handler) http.Handler { return requireAuth(logger, h) }

	// Platform (unversioned).
	rt.handle("GET /", handleRoot(logger, health.version))
	rt.handle("GET /health/", handleHealth(logger, health))
	rt.handle("GET /health/live", handleLive(logger))
	rt.handle("GET /metrics/", handleMetrics(logger, cfg, metrics))
	rt.handle("POST "+cspReportPath, th.route(ratelimit.PolicyCSPReport, handleCSPReport(logger, metrics.CSPReport)))
	rt.handle("GET /.well-known/jwks.json", handleJWKS(logger, keys))
	rt.handle("GET "+apidocs.SchemaPath, apidocs.SchemaHandler(health.version))
	docs := apidocs.DocsHandler()
	rt.handle("GET "+apidocs.DocsPath, docs)
	rt.handle("GET "+apidocs.DocsPath+"{asset...}", docs)

	// Tokens (SimpleJWT wire format).
	rt.handle("POST /api/token/", th.route(ratelimit.PolicyLogin, handleTokenObtain(logger, maxBody, accounts, cookies, th)))
	rt.handle("POST /api/token/refresh/", th.route(ratelimit.PolicyRefresh, handleTokenRefresh(logger, maxBody, accounts, cookies)))
	rt.handle("POST /api/token/verify/", handleTokenVerify(logger, maxBody, accounts))
	rt.handle("POST /api/token/blacklist/", handleTokenBlacklist(logger, maxBody, accounts, cookies))

	// Users and sessions.
	rt.handle("POST /api/v1/users", th.route(ratelimit.PolicyRegister, handleUserCreate(logger, maxBody, accounts)))
	rt.handle("GET /api/v1/users/{username}", handleUserGet(logger, feed))
	rt.handle("GET /api/v1/me", user(handleMeGet(logger, accounts)))
	rt.handle("PATCH /api/v1/me", user(handleMePatch(logger, maxBody, accounts)))
	rt.handle("DELETE /api/v1/me", user(handleMeDelete(logger, maxBody, accounts, cookies)))
	rt.handle("POST /api/v1/me/password", user(handleMePassword(logger, maxBody, accounts)))
	rt.handle("GET /api/v1/me/sessions", user(handleSessionList(logger, accounts)))
	rt.handle("DELETE /api/v1/me/sessions/{id}", user(handleSessionDelete(logger, accounts)))
	rt.handle("GET /api/v1/admin/users", user(handleAdminUserList(logger, accounts)))
	rt.handle("PATCH /api/v1/admin/users/{id}", user(handleAdminUserPatch(logger, maxBody, accounts)))

	// Blips, likes, follows, timelines.
	rt.handle("POST /api/v1/blips", user(handleBlipCreate(logger, maxBody, feed)))
	rt.handle("GET /api/v1/blips/{id}", handleBlipGet(logger, feed))
	rt.handle("DELETE /api/v1/blips/{id}", user(handleBlipDelete(logger, feed)))
	rt.handle("GET /api/v1/blips/{id}/replies", handleReplyList(logger, cursors, feed))
	rt.handle("PUT /api/v1/blips/{id}/like", user(handleLikePut(logger, feed)))
	rt.handle("DELETE /api/v1/blips/{id}/like", user(handleLikeDelete(logger, feed)))
	rt.handle("GET /api/v1/users/{username}/blips", handleUserBlipList(logger, cursors, feed))
	rt.handle("PUT /api/v1/users/{username}/follow", user(handleFollowPut(logger, feed)))
	rt.handle("DELETE /api/v1/users/{username}/follow", user(handleFollowDelete(logger, feed)))
	rt.handle("GET /api/v1/users/{username}/followers", handleFollowerList(logger, cursors, feed))
	rt.handle("GET /api/v1/users/{username}/following", handleFollowingList(logger, cursors, feed))
	rt.handle("GET /api/v1/timeline", user(handleTimeline(logger, cursors, feed)))
}

// handleJWKS handles GET /.well-known/jwks.json.
func handleJWKS(logger *slog.Logger, keys KeySet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		ok := false
		if keys != nil {
			body, ok = keys.JWKS()
		}
		if !ok {
			writeProblem(w, r, logger, blip.Errorf(blip.CodeNotFound, "No public keys: tokens are signed with a shared secret."))
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(body)
	})
}
