package apidocs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Paths at which httpapi mounts the handlers of this package. The document
// and the docs page refer to them, so they are fixed here.
const (
	SchemaPath = "/api/schema/"
	DocsPath   = "/api/docs/"
)

// RefreshCookie is the name under which the document says the refresh
// token travels when AUTH_COOKIE is "both" or "only".
const RefreshCookie = "blip_refresh"

// devVersion is info.version of the document Schema returns.
const devVersion = "dev"

// Schema returns the OpenAPI 3.1 document of every Blip route, as indented
// JSON, with info.version "dev". SchemaHandler serves it with the server's
// real version.
func Schema() []byte { return document(devVersion) }

// document renders the OpenAPI document with info.version set to version.
func document(version string) []byte {
	b, err := json.MarshalIndent(openAPI(version), "", "  ")
	if err != nil {
		// The document is a constant apart from version, a string: a
		// failure here is a bug in this file, which the tests catch.
		panic(fmt.Sprintf("apidocs: encode OpenAPI document: %v", err))
	}
	return append(b, '\n')
}

// auth is who may call an operation, rendered as its security requirement.
type auth int

const (
	authNone     auth = iota // anyone; no credentials are read
	authOptional             // anyone; a bearer token adds the caller's view (followed_by_me, liked_by_me)
	authUser                 // a valid access token is required
	authMetrics              // METRICS_TOKEN as a bearer token, when it is set
	authRefresh              // the refresh token in the body or, in cookie mode, its cookie
)

// operation is one method on one path, with the parts that vary; op turns
// it into an OpenAPI Operation Object with the responses every operation
// of its kind shares.
type operation struct {
	method, path string
	id           string // operationId
	tag          string
	summary      string
	desc         string
	auth         auth
	params       list     // Parameter Objects or $refs
	body         object   // Request Body Object; nil for none
	success      object   // status → Response Object of the 1xx-3xx answers
	errors       []string // extra error statuses, beyond those implied below
	unthrottled  bool     // not subject to the per-IP/per-user rate limits
	noDatabase   bool     // never answers 503: touches no dependency
}

// op renders o. Statuses implied by its shape are added: 400, 413 and 415
// for a JSON body, 401 for authentication, 429 unless unthrottled, 503
// unless noDatabase, and "default" (500) always.
func (o operation) op() object {
	errs := slices.Clone(o.errors)
	if o.body != nil {
		errs = append(errs, "400", "413", "415")
	}
	if o.auth != authNone {
		errs = append(errs, "401")
	}
	if !o.unthrottled {
		errs = append(errs, "429")
	}
	if !o.noDatabase {
		errs = append(errs, "503")
	}
	responses := slices.Clone(o.success)
	for _, status := range errs {
		if !slices.ContainsFunc(responses, func(m member) bool { return m.key == status }) {
			responses = append(responses, member{status, ref("responses", errorResponse(status))})
		}
	}
	slices.SortStableFunc(responses, func(a, b member) int { return strings.Compare(a.key, b.key) })
	responses = append(responses, member{"default", ref("responses", "Error")})

	out := object{
		{"tags", list{o.tag}},
		{"summary", o.summary},
		{"operationId", o.id},
	}
	if o.desc != "" {
		out = append(out, member{"description", o.desc})
	}
	out = append(out, member{"security", o.auth.requirement()})
	if len(o.params) > 0 {
		out = append(out, member{"parameters", o.params})
	}
	if o.body != nil {
		out = append(out, member{"requestBody", o.body})
	}
	return append(out, member{"responses", responses})
}

// requirement renders a as a Security Requirement list; an empty object
// in the list means "anonymous is also fine".
func (a auth) requirement() list {
	bearer := object{{"bearerAuth", list{}}}
	switch a {
	case authOptional:
		return list{object{}, bearer}
	case authUser:
		return list{bearer}
	case authMetrics:
		return list{object{}, object{{"metricsToken", list{}}}}
	case authRefresh:
		return list{object{}, object{{"refreshCookie", list{}}}}
	}
	return list{}
}

// errorResponse names the component response of an error status; "Error"
// (the generic 500) for a status this file does not describe.
func errorResponse(status string) string {
	switch status {
	case "400":
		return "BadRequest"
	case "401":
		return "Unauthorized"
	case "403":
		return "Forbidden"
	case "404":
		return "NotFound"
	case "405":
		return "MethodNotAllowed"
	case "409":
		return "Conflict"
	case "413":
		return "PayloadTooLarge"
	case "415":
		return "UnsupportedMediaType"
	case "422":
		return "IdempotencyKeyReused"
	case "429":
		return "TooManyRequests"
	case "503":
		return "Unavailable"
	}
	return "Error"
}

func ref(kind, name string) object {
	return object{{"$ref", "#/components/" + kind + "/" + name}}
}

func schemaRef(name string) object { return ref("schemas", name) }

func paramRef(name string) object { return ref("parameters", name) }

func headerRef(name string) object { return ref("headers", name) }

// jsonBody is a required JSON request body of the named schema.
func jsonBody(schema, desc string) object {
	return object{
		{"description", desc},
		{"required", true},
		{"content", object{{"application/json", object{{"schema", schemaRef(schema)}}}}},
	}
}

// jsonResponse is a response with a JSON body of schema and headers.
func jsonResponse(desc string, schema any, headers ...member) object {
	out := object{{"description", desc}}
	if len(headers) > 0 {
		out = append(out, member{"headers", object(headers)})
	}
	return append(out, member{"content", object{{"application/json", object{{"schema", schema}}}}})
}

// noContent is a 204 response.
func noContent(desc string) object { return object{{"description", desc}} }

// header is a headers-map member referring to a component header.
func header(name string) member { return member{name, headerRef(name)} }

// pathParam is a required path parameter.
func pathParam(name, desc string, schema object) object {
	return object{
		{"name", name},
		{"in", "path"},
		{"required", true},
		{"description", desc},
		{"schema", schema},
	}
}

// usernameParam is the {username} path parameter.
func usernameParam() object {
	return pathParam("username", "Username, matched case-insensitively.", schemaRef("Username"))
}

// blipIDParam is the {id} path parameter of the blip routes.
func blipIDParam() object { return pathParam("id", "Blip id (UUIDv7).", schemaRef("ID")) }

// cursorParams are the query parameters of every cursor-paginated list.
func cursorParams() list { return list{paramRef("limit"), paramRef("cursor")} }

// cursorPage is the 200 response of a cursor-paginated list of item.
func cursorPage(item, desc string) object {
	return object{{"200", jsonResponse(desc, schemaRef(item+"Page"))}}
}

// conditionalGET is the 200-with-ETag and 304 pair of a single-resource GET.
func conditionalGET(schema, desc string) object {
	return object{
		{"200", jsonResponse(desc, schemaRef(schema), header("ETag"))},
		{"304", ref("responses", "NotModified")},
	}
}

// operations lists every route, in the order docs/api.md lists them.
func operations() []operation {
	return []operation{
		// Platform.
		{method: "get", path: "/", id: "getRoot", tag: "Platform", summary: "API root",
			desc: "Names the service and links to the documentation, the schema and the readiness probe, like DRF's API root.",
			auth: authNone, noDatabase: true,
			success: object{{"200", jsonResponse("The API root.", schemaRef("Root"))}}},
		{method: "get", path: "/health/", id: "getHealth", tag: "Platform", summary: "Readiness probe",
			desc: "Pings the database and the cache. 200 with `ok`, or `degraded` when only the cache is unreachable " +
				"(Blip keeps working from the database); 503 with `unavailable` and `Retry-After` when the database " +
				"is unreachable or the server is draining. Exempt from `ALLOWED_HOSTS` and the HTTPS redirect.",
			auth: authNone, unthrottled: true, noDatabase: true,
			success: object{
				{"200", jsonResponse("Ready: `ok` or `degraded`.", schemaRef("Health"))},
				{"503", jsonResponse("Not ready: `unavailable`.", schemaRef("Health"), header("Retry-After"))},
			}},
		{method: "get", path: "/health/live", id: "getLiveness", tag: "Platform", summary: "Liveness probe",
			desc: "200 while the process serves; touches no dependency, so a database outage never gets healthy processes restarted.",
			auth: authNone, unthrottled: true, noDatabase: true,
			success: object{{"200", jsonResponse("Alive.", schemaRef("Liveness"))}}},
		{method: "get", path: "/metrics/", id: "getMetrics", tag: "Platform", summary: "Prometheus metrics",
			desc: "Prometheus text exposition. When `METRICS_TOKEN` is set, requires it as `Authorization: Bearer <token>`. " +
				"Exempt from the HTTPS redirect. With `METRICS_ADDR` set, metrics are served only on that internal " +
				"listener (`/metrics`, same token) and this route answers 404.",
			auth: authMetrics, unthrottled: true, noDatabase: true,
			success: object{{"200", object{
				{"description", "Metrics in the Prometheus text format."},
				{"content", object{{"text/plain; version=0.0.4; charset=utf-8", object{{"schema", object{{"type", "string"}}}}}}},
			}}},
			errors: []string{"404"}},
		{method: "post", path: "/csp-report/", id: "postCSPReport", tag: "Platform", summary: "Receive CSP violation reports",
			desc: "Accepts `application/csp-report` (the `report-uri` directive) and `application/reports+json` " +
				"(the Reporting API, `report-to`), at most 64 KiB. Each violation is logged as structured JSON and " +
				"counted by directive in `blip_csp_reports_total`. Throttled by `THROTTLE_CSP_REPORT` per client IP.",
			auth: authNone, noDatabase: true,
			body: object{
				{"description", "One or more violation reports."},
				{"required", true},
				{"content", object{
					{"application/csp-report", object{{"schema", schemaRef("CSPReport")}}},
					{"application/reports+json", object{{"schema", schemaRef("ReportingAPIReports")}}},
				}},
			},
			success: object{{"204", noContent("Accepted.")}}},
		{method: "get", path: SchemaPath, id: "getSchema", tag: "Platform", summary: "OpenAPI document",
			desc: "This document, OpenAPI 3.1, as `application/json`, with an `ETag`.",
			auth: authNone, noDatabase: true,
			params: list{paramRef("If-None-Match")},
			success: object{
				{"200", object{
					{"description", "The OpenAPI document."},
					{"headers", object{header("ETag")}},
					{"content", object{{"application/json", object{{"schema", object{{"type", "object"}}}}}}},
				}},
				{"304", ref("responses", "NotModified")},
			}},
		{method: "get", path: DocsPath, id: "getDocs", tag: "Platform", summary: "Interactive API reference",
			desc: "This page: Swagger UI, served by the binary with its assets under `/api/docs/`; it works under " +
				"the default Content-Security-Policy enforced (no inline script or style, no CDN).",
			auth: authNone, noDatabase: true,
			success: object{{"200", object{
				{"description", "The HTML page."},
				{"headers", object{header("ETag")}},
				{"content", object{{"text/html; charset=utf-8", object{{"schema", object{{"type", "string"}}}}}}},
			}}}},
		{method: "get", path: "/.well-known/jwks.json", id: "getJWKS", tag: "Platform", summary: "JSON Web Key Set",
			desc: "The public keys that verify Blip's tokens, when an asymmetric algorithm (EdDSA, RS256) is configured; " +
				"keys being rotated out are listed until they stop verifying. With HS256 only there is no public key to publish.",
			auth: authNone, noDatabase: true,
			success: object{{"200", jsonResponse("The key set.", schemaRef("JWKS"))}},
			errors:  []string{"404"}},

		// Tokens (SimpleJWT wire format).
		{method: "post", path: "/api/token/", id: "createToken", tag: "Tokens", summary: "Log in: obtain a token pair",
			desc: "Checks the credentials and opens a session (a refresh-token family). Bad credentials and an inactive " +
				"account are the same 401 `no_active_account`, and take the same time. Throttled by `THROTTLE_LOGIN` " +
				"per client IP, and failed logins by `THROTTLE_LOGIN_FAILURES` per account and client IP (reset by a " +
				"success) and `THROTTLE_LOGIN_ACCOUNT_FAILURES` per account (addresses that logged into it in the last " +
				"30 days exempt). With `AUTH_COOKIE=both|only` the refresh token is also " +
				"set as the `" + RefreshCookie + "` cookie; with `only` it is left out of the body.",
			auth:    authNone,
			body:    jsonBody("TokenObtainRequest", "The account's credentials."),
			success: object{{"200", jsonResponse("Logged in.", schemaRef("TokenPair"), header("Set-Cookie"))}},
			errors:  []string{"401"}},
		{method: "post", path: "/api/token/refresh/", id: "refreshToken", tag: "Tokens", summary: "Rotate the refresh token",
			desc: "Returns a new access token and a new refresh token, which replaces the presented one; that one is " +
				"revoked. Presenting an already-rotated refresh token is treated as theft: 401 `token_not_valid`, and " +
				"the whole session is revoked. The refresh token may come from the `" + RefreshCookie + "` cookie when " +
				"the body has none (cookie mode); a cookie-authenticated request from an untrusted `Origin` is 403 " +
				"`csrf_failed`. Throttled by `THROTTLE_REFRESH`.",
			auth: authRefresh,
			body: object{
				{"description", "The refresh token; may be `{}` in cookie mode."},
				{"required", true},
				{"content", object{{"application/json", object{{"schema", schemaRef("TokenRefreshRequest")}}}}},
			},
			success: object{{"200", jsonResponse("Rotated.", schemaRef("TokenPair"), header("Set-Cookie"))}},
			errors:  []string{"401", "403"}},
		{method: "post", path: "/api/token/verify/", id: "verifyToken", tag: "Tokens", summary: "Verify a token",
			desc:    "200 `{}` when the token's signature, expiry and revocation state check out, whichever its type; else 401 `token_not_valid`.",
			auth:    authNone,
			body:    jsonBody("TokenVerifyRequest", "The token to check."),
			success: object{{"200", jsonResponse("Valid.", schemaRef("Empty"))}},
			errors:  []string{"401"}},
		{method: "post", path: "/api/token/blacklist/", id: "blacklistToken", tag: "Tokens", summary: "Log out",
			desc: "Revokes the refresh token's session: its refresh token at once, its access tokens on every replica " +
				"within one second. Accepts the `" + RefreshCookie + "` cookie when the body has none, and clears it.",
			auth: authRefresh,
			body: object{
				{"description", "The refresh token; may be `{}` in cookie mode."},
				{"required", true},
				{"content", object{{"application/json", object{{"schema", schemaRef("TokenRefreshRequest")}}}}},
			},
			success: object{{"200", jsonResponse("Logged out.", schemaRef("Empty"), header("Set-Cookie"))}},
			errors:  []string{"401", "403"}},

		// Users and sessions.
		{method: "post", path: "/api/v1/users", id: "createUser", tag: "Users", summary: "Register",
			desc: "Creates an account with role `user`. Username `[A-Za-z0-9_]{3,30}`; email and username are unique " +
				"case-insensitively (409 `conflict`). The password must be at least 8 characters, not entirely " +
				"numeric, not a common password and not too similar to the email or username (400 `invalid` with " +
				"`errors.password`). Throttled by `THROTTLE_REGISTER`.",
			auth:    authNone,
			body:    jsonBody("Registration", "The new account."),
			success: object{{"201", jsonResponse("Created.", schemaRef("Me"), header("Location"))}},
			errors:  []string{"409"}},
		{method: "get", path: "/api/v1/users/{username}", id: "getUser", tag: "Users", summary: "Public profile",
			auth:    authOptional,
			params:  list{usernameParam(), paramRef("If-None-Match")},
			success: conditionalGET("User", "The profile; `followed_by_me` when authenticated."),
			errors:  []string{"404"}},
		{method: "get", path: "/api/v1/me", id: "getMe", tag: "Me", summary: "Own profile",
			auth:    authUser,
			params:  list{paramRef("If-None-Match")},
			success: conditionalGET("Me", "The caller's profile with email and role.")},
		{method: "patch", path: "/api/v1/me", id: "updateMe", tag: "Me", summary: "Edit own profile",
			auth:    authUser,
			body:    jsonBody("ProfileUpdate", "The fields to change; absent fields are kept."),
			success: object{{"200", jsonResponse("The updated profile.", schemaRef("Me"))}}},
		{method: "delete", path: "/api/v1/me", id: "deleteMe", tag: "Me", summary: "Deactivate own account",
			desc:    "Requires the password. Deactivates the account and revokes every session and access token.",
			auth:    authUser,
			body:    jsonBody("AccountDeletion", "The current password, as confirmation."),
			success: object{{"204", noContent("Deactivated.")}}},
		{method: "post", path: "/api/v1/me/password", id: "changePassword", tag: "Me", summary: "Change password",
			desc: "Revokes every other session and, within one second, every access token issued before the change " +
				"(this session's included). This session's refresh token keeps working; tokens issued afterwards work at once.",
			auth:    authUser,
			body:    jsonBody("PasswordChange", "The current and the new password."),
			success: object{{"204", noContent("Changed.")}}},
		{method: "get", path: "/api/v1/me/sessions", id: "listSessions", tag: "Me", summary: "List own sessions",
			desc:    "Active logins (token families), most recently used first; `current` marks the caller's.",
			auth:    authUser,
			params:  cursorParams(),
			success: cursorPage("Session", "A page of sessions."),
			errors:  []string{"400"}},
		{method: "delete", path: "/api/v1/me/sessions/{id}", id: "revokeSession", tag: "Me", summary: "Revoke a session",
			desc:    "Logs that session out: its refresh token at once, its access tokens on every replica within one second.",
			auth:    authUser,
			params:  list{pathParam("id", "Session id (the tokens' `sid`).", schemaRef("ID"))},
			success: object{{"204", noContent("Revoked.")}},
			errors:  []string{"404"}},
		{method: "get", path: "/api/v1/admin/users", id: "adminListUsers", tag: "Admin", summary: "List users",
			desc:    "Role `admin` only. Offset-paginated, newest first; `q` filters by a case-insensitive substring of username or email.",
			auth:    authUser,
			params:  list{paramRef("limit"), paramRef("offset"), paramRef("q")},
			success: object{{"200", jsonResponse("A page of users.", schemaRef("AdminUserPage"))}},
			errors:  []string{"400", "403"}},
		{method: "patch", path: "/api/v1/admin/users/{id}", id: "adminUpdateUser", tag: "Admin", summary: "Change a user's role or status",
			desc: "Role `admin` only. Setting `is_active` to false suspends the user: their sessions and access tokens " +
				"are revoked at once.",
			auth:    authUser,
			params:  list{pathParam("id", "User id (UUIDv7).", schemaRef("ID"))},
			body:    jsonBody("AdminUserUpdate", "The fields to change; absent fields are kept."),
			success: object{{"200", jsonResponse("The updated user.", schemaRef("Me"))}},
			errors:  []string{"403", "404"}},

		// Blips.
		{method: "post", path: "/api/v1/blips", id: "createBlip", tag: "Blips", summary: "Post a blip",
			desc: "Text: 1–280 Unicode code points after NFC normalisation and trimming, valid UTF-8, no control " +
				"characters but newline, no bidirectional embedding, override or isolate characters, not only " +
				"invisible characters. With `Idempotency-Key`, a retry with the same key and body replays the first " +
				"response (same status and body) and creates nothing, also after a restart, for 24 hours; the same key " +
				"with another body is 422 `idempotency_key_reused`; a duplicate racing the first may get 409.",
			auth:    authUser,
			params:  list{paramRef("Idempotency-Key")},
			body:    jsonBody("BlipCreate", "The blip."),
			success: object{{"201", jsonResponse("Created (or replayed).", schemaRef("Blip"), header("Location"))}},
			errors:  []string{"409", "422"}},
		{method: "get", path: "/api/v1/blips/{id}", id: "getBlip", tag: "Blips", summary: "Get a blip",
			auth:    authOptional,
			params:  list{blipIDParam(), paramRef("If-None-Match")},
			success: conditionalGET("Blip", "The blip; `liked_by_me` when authenticated."),
			errors:  []string{"404"}},
		{method: "delete", path: "/api/v1/blips/{id}", id: "deleteBlip", tag: "Blips", summary: "Delete a blip",
			desc:    "By its author, a moderator or an admin. The blip disappears from every read and timeline.",
			auth:    authUser,
			params:  list{blipIDParam()},
			success: object{{"204", noContent("Deleted.")}},
			errors:  []string{"403", "404"}},
		{method: "get", path: "/api/v1/blips/{id}/replies", id: "listReplies", tag: "Blips", summary: "Replies to a blip",
			desc:    "Oldest first.",
			auth:    authOptional,
			params:  append(list{blipIDParam()}, cursorParams()...),
			success: cursorPage("Blip", "A page of replies."),
			errors:  []string{"400", "404"}},
		{method: "put", path: "/api/v1/blips/{id}/like", id: "likeBlip", tag: "Blips", summary: "Like a blip",
			desc:    "Idempotent.",
			auth:    authUser,
			params:  list{blipIDParam()},
			success: object{{"204", noContent("Liked.")}},
			errors:  []string{"404"}},
		{method: "delete", path: "/api/v1/blips/{id}/like", id: "unlikeBlip", tag: "Blips", summary: "Unlike a blip",
			desc:    "Idempotent.",
			auth:    authUser,
			params:  list{blipIDParam()},
			success: object{{"204", noContent("Not liked.")}},
			errors:  []string{"404"}},
		{method: "get", path: "/api/v1/users/{username}/blips", id: "listUserBlips", tag: "Blips", summary: "A user's blips",
			desc:    "Newest first.",
			auth:    authOptional,
			params:  append(list{usernameParam()}, cursorParams()...),
			success: cursorPage("Blip", "A page of blips."),
			errors:  []string{"400", "404"}},

		// Follows.
		{method: "put", path: "/api/v1/users/{username}/follow", id: "followUser", tag: "Follows", summary: "Follow a user",
			desc:    "Idempotent. Following yourself is 400 `invalid`.",
			auth:    authUser,
			params:  list{usernameParam()},
			success: object{{"204", noContent("Following.")}},
			errors:  []string{"400", "404"}},
		{method: "delete", path: "/api/v1/users/{username}/follow", id: "unfollowUser", tag: "Follows", summary: "Unfollow a user",
			desc:    "Idempotent.",
			auth:    authUser,
			params:  list{usernameParam()},
			success: object{{"204", noContent("Not following.")}},
			errors:  []string{"404"}},
		{method: "get", path: "/api/v1/users/{username}/followers", id: "listFollowers", tag: "Follows", summary: "A user's followers",
			desc:    "Most recent follow first.",
			auth:    authOptional,
			params:  append(list{usernameParam()}, cursorParams()...),
			success: cursorPage("User", "A page of users."),
			errors:  []string{"400", "404"}},
		{method: "get", path: "/api/v1/users/{username}/following", id: "listFollowing", tag: "Follows", summary: "Whom a user follows",
			desc:    "Most recent follow first.",
			auth:    authOptional,
			params:  append(list{usernameParam()}, cursorParams()...),
			success: cursorPage("User", "A page of users."),
			errors:  []string{"400", "404"}},

		// Timeline.
		{method: "get", path: "/api/v1/timeline", id: "getTimeline", tag: "Timeline", summary: "Home timeline",
			desc: "The caller's blips and those of the users they follow, newest first. After a follow it includes " +
				"the followee's earlier blips; a followee's new blip shows on the very next read.",
			auth:    authUser,
			params:  cursorParams(),
			success: cursorPage("Blip", "A page of blips."),
			errors:  []string{"400"}},
	}
}

// paths groups the operations by path, in order of first appearance.
func paths() object {
	var out object
	for _, o := range operations() {
		i := slices.IndexFunc(out, func(m member) bool { return m.key == o.path })
		if i < 0 {
			out = append(out, member{o.path, object{}})
			i = len(out) - 1
		}
		out[i].value = append(out[i].value.(object), member{o.method, o.op()})
	}
	return out
}

// openAPI is the whole document.
func openAPI(version string) object {
	return object{
		{"openapi", "3.1.0"},
		{"info", object{
			{"title", "Blip API"},
			{"version", version},
			{"summary", "Microblogging API: accounts, blips, follows, likes and timelines."},
			{"description", infoDescription},
			{"license", object{{"name", "MIT"}, {"identifier", "MIT"}}},
		}},
		{"servers", list{object{{"url", "/"}, {"description", "This server."}}}},
		{"tags", list{
			object{{"name", "Platform"}, {"description", "Unversioned service routes: root, probes, metrics, CSP reports, this documentation, JWKS."}},
			object{{"name", "Tokens"}, {"description", "JWT login, refresh rotation, verification and logout, in SimpleJWT's wire format."}},
			object{{"name", "Users"}, {"description", "Registration and public profiles."}},
			object{{"name", "Me"}, {"description", "The caller's own account and sessions."}},
			object{{"name", "Admin"}, {"description", "User administration (role `admin`)."}},
			object{{"name", "Blips"}, {"description", "Posting, reading, deleting, replying to and liking blips."}},
			object{{"name", "Follows"}, {"description", "The social graph."}},
			object{{"name", "Timeline"}, {"description", "The home timeline."}},
		}},
		{"paths", paths()},
		{"components", components()},
	}
}

// infoDescription is the document's introduction, in CommonMark.
const infoDescription = `Blip is a microblogging API. Its conventions:

* **Trailing slashes.** Every route also answers with one trailing slash added or removed: ` + "`/health`" + ` and ` + "`/health/`" + `, ` + "`/api/v1/blips`" + ` and ` + "`/api/v1/blips/`" + `, without a redirect. This document uses the canonical forms.
* **JSON** in and out (` + "`application/json; charset=utf-8`" + `). A request body of another type is 415, malformed JSON, unknown fields or wrong types 400, a body over ` + "`MAX_BODY_BYTES`" + ` (default 1 MiB) 413.
* **Errors** are RFC 9457 ` + "`application/problem+json`" + ` with a stable ` + "`code`" + `, the ` + "`request_id`" + ` (also echoed as ` + "`X-Request-ID`" + `), and ` + "`errors: {field: [messages]}`" + ` for validation. A wrong method is 405 with ` + "`Allow`" + `; an unknown path 404.
* **Authentication.** ` + "`POST /api/token/`" + ` returns an access token (default lifetime 10 minutes) and a refresh token (7 days); send the access token as ` + "`Authorization: Bearer <access>`" + ` and rotate with ` + "`POST /api/token/refresh/`" + `. With ` + "`AUTH_COOKIE=both|only`" + ` the refresh token also travels in the HttpOnly ` + "`" + RefreshCookie + "`" + ` cookie (` + "`SameSite=Strict; Path=/api/token/`" + `).
* **Pagination.** Collections take ` + "`limit`" + ` (default 20, max 100) and an opaque ` + "`cursor`" + `, and answer ` + "`{\"results\": [...], \"next\": URL-or-null}`" + `; follow ` + "`next`" + ` until it is null. The admin user list uses ` + "`limit`/`offset`" + ` and ` + "`{count, next, previous, results}`" + `.
* **Caching.** Single-resource GETs send an ` + "`ETag`" + `; send it back in ` + "`If-None-Match`" + ` to get 304.
* **Idempotency.** ` + "`POST /api/v1/blips`" + ` honours ` + "`Idempotency-Key`" + ` for 24 hours.
* **Rate limits.** Anonymous requests are limited per client IP, authenticated ones per user, with stricter classes for login, registration, refresh and CSP reports. Throttled responses carry ` + "`RateLimit-Policy`" + ` and ` + "`RateLimit`" + `; a rejection is 429 with ` + "`Retry-After`" + `.
* **IDs** are UUIDv7 strings; **times** are RFC 3339 in UTC.
`
