package apidocs

// This file holds the reusable parts of the OpenAPI document: the
// representations (field names are part of the API), the
// request bodies, parameters, headers, problem responses and security
// schemes that the operations in openapi.go refer to.

// components is the document's Components Object.
func components() object {
	return object{
		{"securitySchemes", securitySchemes()},
		{"parameters", parameters()},
		{"headers", headers()},
		{"responses", responses()},
		{"schemas", schemas()},
	}
}

func securitySchemes() object {
	return object{
		{"bearerAuth", object{
			{"type", "http"},
			{"scheme", "bearer"},
			{"bearerFormat", "JWT"},
			{"description", "An access token from `POST /api/token/` or `POST /api/token/refresh/`, as " +
				"`Authorization: Bearer <access>`. A refresh token, an expired, revoked or foreign token is 401 `token_not_valid`."},
		}},
		{"refreshCookie", object{
			{"type", "apiKey"},
			{"in", "cookie"},
			{"name", RefreshCookie},
			{"description", "Cookie mode (`AUTH_COOKIE=both|only`): login and refresh set the refresh token in this " +
				"HttpOnly, SameSite=Strict cookie scoped to `/api/token/`; refresh and logout read it when the body " +
				"has no `refresh`. A cookie-authenticated request whose `Origin` is neither trusted " +
				"(`CSRF_TRUSTED_ORIGINS`) nor the server's own is 403 `csrf_failed`."},
		}},
		{"metricsToken", object{
			{"type", "http"},
			{"scheme", "bearer"},
			{"description", "`METRICS_TOKEN`, required by `/metrics/` when set."},
		}},
	}
}

func parameters() object {
	return object{
		{"limit", object{
			{"name", "limit"}, {"in", "query"},
			{"description", "Page size; a larger value is lowered to 100."},
			{"schema", object{{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 20}}},
		}},
		{"cursor", object{
			{"name", "cursor"}, {"in", "query"},
			{"description", "Opaque position from a previous page's `next`; omit for the first page. Do not build or parse it."},
			{"schema", object{{"type", "string"}}},
		}},
		{"offset", object{
			{"name", "offset"}, {"in", "query"},
			{"description", "Number of items to skip, at most 1000000 (a larger offset is a 400 `invalid` problem naming `offset`)."},
			{"schema", object{{"type", "integer"}, {"minimum", 0}, {"maximum", 1000000}, {"default", 0}}},
		}},
		{"q", object{
			{"name", "q"}, {"in", "query"},
			{"description", "Case-insensitive substring of the username or email."},
			{"schema", object{{"type", "string"}}},
		}},
		{"Idempotency-Key", object{
			{"name", "Idempotency-Key"}, {"in", "header"},
			{"description", "A unique key per logical request, chosen by the client (a UUID is a good choice), kept " +
				"24 hours per user. A retry with the same key and body replays the first response."},
			{"schema", object{{"type", "string"}, {"minLength", 1}, {"maxLength", 255}}},
		}},
		{"If-None-Match", object{
			{"name", "If-None-Match"}, {"in", "header"},
			{"description", "An `ETag` from an earlier response; 304 without a body when it still matches."},
			{"schema", object{{"type", "string"}}},
		}},
	}
}

func headers() object {
	str := func(desc string) object {
		return object{{"description", desc}, {"schema", object{{"type", "string"}}}}
	}
	return object{
		{"ETag", str("Entity tag of the representation; send it back in `If-None-Match`.")},
		{"Location", str("URL of the created resource.")},
		{"Retry-After", object{
			{"description", "Seconds to wait before retrying."},
			{"schema", object{{"type", "integer"}, {"minimum", 1}}},
		}},
		{"RateLimit-Policy", str("The throttle that applies (draft-ietf-httpapi-ratelimit-headers), e.g. " +
			"`\"login\";q=10;w=60`: quota `q` per window of `w` seconds.")},
		{"RateLimit", str("Remaining quota `r` and seconds `t` until more is available, e.g. `\"login\";r=0;t=6`.")},
		{"X-Request-ID", str("The request's id, also in problem bodies and logs. A client-sent `X-Request-ID` " +
			"of at most 128 characters of `[A-Za-z0-9._-]` is kept; otherwise one is generated.")},
		{"Allow", str("The methods the path supports.")},
		{"Set-Cookie", str("In cookie mode only: the `" + RefreshCookie + "` refresh-token cookie " +
			"(HttpOnly; Secure; SameSite=Strict; Path=/api/token/), cleared on logout.")},
	}
}

// problemResponse is a component response with a problem+json body and
// one example per code that status can carry.
func problemResponse(desc string, extra []member, examples ...object) object {
	hs := object{header("X-Request-ID")}
	hs = append(hs, extra...)
	media := object{{"schema", schemaRef("Problem")}}
	if len(examples) > 0 {
		ex := object{}
		for _, e := range examples {
			ex = append(ex, member{e[4].value.(string), object{{"value", e}}})
		}
		media = append(media, member{"examples", ex})
	}
	return object{
		{"description", desc},
		{"headers", hs},
		{"content", object{{"application/problem+json", media}}},
	}
}

// problemExample is a problem body; its fifth member is the code, which
// names the example.
func problemExample(status int, title, code, detail string, fields ...member) object {
	p := object{
		{"type", "https://blip.dev/problems/" + code},
		{"title", title},
		{"status", status},
		{"detail", detail},
		{"code", code},
		{"request_id", "0194f0a2-7c1e-7b3a-9f1d-2e4c6a8b0d1f"},
	}
	if len(fields) > 0 {
		p = append(p, member{"errors", object(fields)})
	}
	return p
}

func responses() object {
	return object{
		{"NotModified", object{
			{"description", "Not modified: the `If-None-Match` ETag still matches; no body."},
			{"headers", object{header("ETag")}},
		}},
		{"BadRequest", problemResponse("Bad request: validation (`invalid`, with `errors`), malformed JSON, unknown "+
			"fields or wrong types (`parse_error`), or a Host not in `ALLOWED_HOSTS` (`bad_host`).", nil,
			problemExample(400, "Bad Request", "invalid", "Invalid input.",
				member{"username", list{"Enter a valid username: 3 to 30 letters, digits or underscores."}}),
			problemExample(400, "Bad Request", "parse_error", "JSON parse error - unexpected end of input."),
			problemExample(400, "Bad Request", "bad_host", "Invalid Host header."))},
		{"Unauthorized", problemResponse("Not authenticated: no credentials (`not_authenticated`), a bad, expired "+
			"or revoked token (`token_not_valid`), or bad login credentials (`no_active_account`).", nil,
			problemExample(401, "Unauthorized", "not_authenticated", "Authentication credentials were not provided."),
			problemExample(401, "Unauthorized", "token_not_valid", "Token is invalid or expired"),
			problemExample(401, "Unauthorized", "no_active_account", "No active account found with the given credentials"))},
		{"Forbidden", problemResponse("Forbidden: the caller's role does not allow it (`permission_denied`), or a "+
			"cookie-authenticated request came from an untrusted Origin (`csrf_failed`).", nil,
			problemExample(403, "Forbidden", "permission_denied", "You do not have permission to perform this action."),
			problemExample(403, "Forbidden", "csrf_failed", "CSRF Failed: Origin checking failed."))},
		{"NotFound", problemResponse("Not found.", nil,
			problemExample(404, "Not Found", "not_found", "Not found."))},
		{"MethodNotAllowed", problemResponse("Method not allowed on this path; `Allow` lists those that are. "+
			"Any path of this document answers it for the methods it does not list.", []member{header("Allow")},
			problemExample(405, "Method Not Allowed", "method_not_allowed", `Method "PATCH" not allowed.`))},
		{"Conflict", problemResponse("Conflict: the email or username is taken, or a request with the same "+
			"Idempotency-Key is still being processed.", nil,
			problemExample(409, "Conflict", "conflict", "A user with that email or username already exists."))},
		{"PayloadTooLarge", problemResponse("The body exceeds `MAX_BODY_BYTES` (64 KiB for CSP reports).", nil,
			problemExample(413, "Request Entity Too Large", "payload_too_large", "Request body exceeds 1048576 bytes."))},
		{"UnsupportedMediaType", problemResponse("The body is not `application/json`.", nil,
			problemExample(415, "Unsupported Media Type", "unsupported_media_type", "Unsupported media type; send application/json."))},
		{"IdempotencyKeyReused", problemResponse("The Idempotency-Key was used with a different request body.", nil,
			problemExample(422, "Unprocessable Entity", "idempotency_key_reused", "This Idempotency-Key was used with a different request."))},
		{"TooManyRequests", problemResponse("Throttled.",
			[]member{header("Retry-After"), header("RateLimit-Policy"), header("RateLimit")},
			problemExample(429, "Too Many Requests", "throttled", "Request was throttled. Expected available in 6 seconds."))},
		{"Unavailable", problemResponse("A dependency (the database) is unreachable; retry after `Retry-After`.",
			[]member{header("Retry-After")},
			problemExample(503, "Service Unavailable", "unavailable", "Service temporarily unavailable, try again soon."))},
		{"Error", problemResponse("Internal error: a generic problem that reveals nothing of the cause; the "+
			"`request_id` finds it in the logs.", nil,
			problemExample(500, "Internal Server Error", "internal", "The server encountered an internal error."))},
	}
}

// Schema helpers.

func typed(t, desc string) object { return object{{"type", t}, {"description", desc}} }

func dateTime(desc string) object {
	return object{{"type", "string"}, {"format", "date-time"}, {"description", desc}, {"example", "2025-01-31T12:34:56.789Z"}}
}

func count(desc string) object {
	return object{{"type", "integer"}, {"format", "int64"}, {"minimum", 0}, {"description", desc}}
}

// objectSchema is a JSON object schema; closed objects reject unknown
// members, as request decoding does.
func objectSchema(desc string, required []string, closed bool, props ...member) object {
	out := object{{"type", "object"}}
	if desc != "" {
		out = append(out, member{"description", desc})
	}
	if len(required) > 0 {
		req := list{}
		for _, r := range required {
			req = append(req, r)
		}
		out = append(out, member{"required", req})
	}
	out = append(out, member{"properties", object(props)})
	if closed {
		out = append(out, member{"additionalProperties", false})
	}
	return out
}

// page is a cursor page of item.
func page(item string) object {
	return objectSchema("A cursor page.", []string{"results", "next"}, false,
		member{"results", object{{"type", "array"}, {"items", schemaRef(item)}}},
		member{"next", object{
			{"type", list{"string", "null"}}, {"format", "uri"},
			{"description", "Absolute URL of the next page on the request's own scheme and host; null on the last page."},
		}},
	)
}

// userRequired lists the members every user representation has.
func userRequired() []string {
	return []string{"id", "username", "name", "bio", "created_at", "followers_count", "following_count", "blips_count"}
}

// textRules are the rules every free-text field shares (blip text, names,
// bios), as the domain's text rule enforces them.
const textRules = "no bidirectional embedding, override or isolate characters (U+202A–U+202E, U+2066–U+2069); " +
	"not made only of invisible characters (zero-width spaces and joiners, word joiner, BOM, fillers). " +
	"Zero-width joiners inside visible text (emoji sequences) and directional marks are fine."

// userProps are the members of the public profile, shared by User and Me
// (written out in both rather than joined with allOf, which code
// generators and Swagger UI render less clearly).
func userProps(name, bio object) []member {
	return []member{
		{"id", schemaRef("ID")},
		{"username", schemaRef("Username")},
		{"name", name},
		{"bio", bio},
		{"created_at", dateTime("When the account was created.")},
		{"followers_count", count("Users following this one.")},
		{"following_count", count("Users this one follows.")},
		{"blips_count", count("Blips posted and not deleted.")},
	}
}

func schemas() object {
	password := func(desc string) object {
		return object{{"type", "string"}, {"format", "password"}, {"minLength", 1}, {"description", desc}}
	}
	newPassword := object{{"type", "string"}, {"format", "password"}, {"minLength", 8},
		{"description", "At least 8 characters, not entirely numeric, not a common password, not too similar to the email or username."}}
	name := object{{"type", "string"}, {"maxLength", 100}, {"description", "Display name, trimmed; at most 100 characters; " + textRules}}
	bio := object{{"type", "string"}, {"maxLength", 500}, {"description", "Trimmed; at most 500 characters, newlines allowed; " + textRules}}
	healthCheck := objectSchema("", []string{"status", "latency_ms"}, false,
		member{"status", object{{"type", "string"}, {"enum", list{"ok", "unavailable"}}}},
		member{"latency_ms", object{{"type", "number"}, {"description", "Round-trip time of the ping, in milliseconds."}}},
	)
	return object{
		{"ID", object{{"type", "string"}, {"format", "uuid"}, {"description", "A UUIDv7 (time-ordered, not enumerable)."},
			{"example", "01946f1c-8a3b-7c2d-9e4f-5a6b7c8d9e0f"}}},
		{"Username", object{{"type", "string"}, {"pattern", "^[A-Za-z0-9_]{3,30}$"}, {"example", "ada_l"}}},
		{"Role", object{{"type", "string"}, {"enum", list{"user", "moderator", "admin"}},
			{"description", "`moderator` may delete any blip; `admin` may do everything, including user administration."}}},

		// Representations.
		{"User", objectSchema("A public profile.", userRequired(), false,
			append(userProps(name, bio),
				member{"followed_by_me", typed("boolean", "Whether the caller follows this user; present only for an authenticated caller.")})...,
		)},
		{"Me", objectSchema("The caller's own profile (and a user as admins see it): the public profile plus email, role and status.",
			append(userRequired(), "email", "role", "is_active"), false,
			append(userProps(name, bio),
				member{"email", object{{"type", "string"}, {"format", "email"}}},
				member{"role", schemaRef("Role")},
				member{"is_active", typed("boolean", "False once deactivated or suspended.")})...,
		)},
		{"AuthorSummary", objectSchema("The author of a blip.", []string{"id", "username", "name"}, false,
			member{"id", schemaRef("ID")},
			member{"username", schemaRef("Username")},
			member{"name", name},
		)},
		{"Blip", objectSchema("A blip.",
			[]string{"id", "text", "created_at", "author", "reply_to", "like_count", "reply_count"}, false,
			member{"id", schemaRef("ID")},
			member{"text", object{{"type", "string"}, {"minLength", 1}, {"maxLength", 280}}},
			member{"created_at", dateTime("When it was posted.")},
			member{"author", schemaRef("AuthorSummary")},
			member{"reply_to", object{{"type", list{"string", "null"}}, {"format", "uuid"}, {"description", "The blip this one replies to, or null."}}},
			member{"like_count", count("Likes.")},
			member{"reply_count", count("Replies not deleted.")},
			member{"liked_by_me", typed("boolean", "Whether the caller likes it; present only for an authenticated caller.")},
		)},
		{"Session", objectSchema("A login (refresh-token family).",
			[]string{"id", "created_at", "last_used_at", "user_agent", "ip", "current"}, false,
			member{"id", object{{"$ref", "#/components/schemas/ID"}, {"description", "The tokens' `sid` claim."}}},
			member{"created_at", dateTime("Login time.")},
			member{"last_used_at", dateTime("Last login or refresh.")},
			member{"user_agent", typed("string", "User-Agent of the last login or refresh.")},
			member{"ip", typed("string", "Client IP of the last login or refresh.")},
			member{"current", typed("boolean", "Whether the caller's access token belongs to this session.")},
		)},
		{"BlipPage", page("Blip")},
		{"UserPage", page("User")},
		{"SessionPage", page("Session")},
		{"AdminUserPage", objectSchema("An offset page of users.", []string{"count", "next", "previous", "results"}, false,
			member{"count", count("Users matching the filter, over all pages.")},
			member{"next", object{{"type", list{"string", "null"}}, {"format", "uri"}, {"description", "Absolute URL of the next page, or null."}}},
			member{"previous", object{{"type", list{"string", "null"}}, {"format", "uri"}, {"description", "Absolute URL of the previous page, or null."}}},
			member{"results", object{{"type", "array"}, {"items", schemaRef("Me")}}},
		)},
		{"Problem", objectSchema("An RFC 9457 problem with Blip's extension members. It never carries stack traces, SQL or internal text.",
			[]string{"type", "title", "status", "detail", "code"}, false,
			member{"type", object{{"type", "string"}, {"format", "uri"}, {"description", "Identifies the problem type; ends with the code."}}},
			member{"title", typed("string", "The status's reason phrase.")},
			member{"status", object{{"type", "integer"}, {"minimum", 400}, {"maximum", 599}}},
			member{"detail", typed("string", "Human-readable explanation of this occurrence.")},
			member{"code", schemaRef("ErrorCode")},
			member{"request_id", typed("string", "The request's id, as in `X-Request-ID` and the logs.")},
			member{"errors", object{
				{"type", "object"},
				{"description", "Validation messages by field (`code` `invalid`); `non_field_errors` for the request as a whole."},
				{"additionalProperties", object{{"type", "array"}, {"items", object{{"type", "string"}}}}},
			}},
		)},
		{"ErrorCode", object{{"type", "string"}, {"description", "Stable machine-readable error code (DRF's names where DRF has one)."},
			{"enum", list{"invalid", "parse_error", "bad_host", "not_authenticated", "token_not_valid", "no_active_account",
				"permission_denied", "csrf_failed", "not_found", "method_not_allowed", "conflict", "payload_too_large",
				"unsupported_media_type", "idempotency_key_reused", "throttled", "unavailable", "internal"}}}},

		// Request bodies.
		{"TokenObtainRequest", objectSchema("", []string{"email", "password"}, true,
			member{"email", object{{"type", "string"}, {"format", "email"}, {"example", "ada@example.com"}}},
			member{"password", password("The account's password.")},
		)},
		{"TokenPair", objectSchema("SimpleJWT's token pair.", []string{"access"}, false,
			member{"access", typed("string", "Access JWT (`token_type` `access`), default lifetime 10 minutes.")},
			member{"refresh", typed("string", "Refresh JWT (`token_type` `refresh`), default lifetime 7 days; "+
				"single use: refreshing replaces it. Absent with `AUTH_COOKIE=only`, where it travels only in the cookie.")},
		)},
		{"TokenRefreshRequest", objectSchema("", nil, true,
			member{"refresh", typed("string", "The refresh token; required unless the refresh cookie is sent.")},
		)},
		{"TokenVerifyRequest", objectSchema("", []string{"token"}, true,
			member{"token", typed("string", "An access or refresh token.")},
		)},
		{"Empty", object{{"type", "object"}, {"description", "An empty object, `{}`."}, {"maxProperties", 0}}},
		{"Registration", objectSchema("", []string{"email", "username", "password"}, true,
			member{"email", object{{"type", "string"}, {"format", "email"}, {"maxLength", 254}, {"example", "ada@example.com"}}},
			member{"username", schemaRef("Username")},
			member{"password", newPassword},
			member{"name", name},
		)},
		{"ProfileUpdate", objectSchema("", nil, true,
			member{"name", name},
			member{"bio", bio},
		)},
		{"PasswordChange", objectSchema("", []string{"current_password", "new_password"}, true,
			member{"current_password", password("The current password.")},
			member{"new_password", newPassword},
		)},
		{"AccountDeletion", objectSchema("", []string{"password"}, true,
			member{"password", password("The current password.")},
		)},
		{"AdminUserUpdate", objectSchema("", nil, true,
			member{"role", schemaRef("Role")},
			member{"is_active", typed("boolean", "False suspends the account and revokes its sessions and tokens at once.")},
		)},
		{"BlipCreate", objectSchema("", []string{"text"}, true,
			member{"text", object{{"type", "string"}, {"minLength", 1}, {"maxLength", 280},
				{"description", "1–280 Unicode code points after NFC and trimming; valid UTF-8; no control characters but newline; " + textRules},
				{"example", "Hello, Blip!"}}},
			member{"reply_to", object{{"type", list{"string", "null"}}, {"format", "uuid"}, {"description", "Id of the blip replied to; omit or null for a new thread."}, {"example", nil}}},
		)},

		// Platform.
		{"Root", objectSchema("", []string{"name", "version", "links"}, false,
			member{"name", object{{"type", "string"}, {"const", "blip"}}},
			member{"version", typed("string", "The server's version.")},
			member{"links", objectSchema("", []string{"docs", "schema", "health"}, false,
				member{"docs", object{{"type", "string"}, {"const", DocsPath}}},
				member{"schema", object{{"type", "string"}, {"const", SchemaPath}}},
				member{"health", object{{"type", "string"}, {"const", "/health/"}}},
			)},
		)},
		{"Health", objectSchema("", []string{"status", "timestamp", "version", "checks"}, false,
			member{"status", object{{"type", "string"}, {"enum", list{"ok", "degraded", "unavailable"}}}},
			member{"timestamp", dateTime("When the checks ran.")},
			member{"version", typed("string", "The server's version.")},
			member{"draining", typed("boolean", "Present and true while the server shuts down.")},
			member{"checks", objectSchema("", []string{"database"}, false,
				member{"database", healthCheck},
				member{"cache", healthCheck},
			)},
		)},
		{"Liveness", objectSchema("", []string{"status"}, false,
			member{"status", object{{"type", "string"}, {"const", "ok"}}},
		)},
		{"JWKS", objectSchema("RFC 7517 JSON Web Key Set.", []string{"keys"}, false,
			member{"keys", object{{"type", "array"}, {"items", objectSchema("A public JWK.", []string{"kty", "kid"}, false,
				member{"kty", object{{"type", "string"}, {"enum", list{"OKP", "RSA"}}}},
				member{"kid", typed("string", "Key id, as in the tokens' `kid` header.")},
				member{"alg", object{{"type", "string"}, {"enum", list{"EdDSA", "RS256"}}}},
				member{"use", object{{"type", "string"}, {"const", "sig"}}},
				member{"crv", typed("string", "OKP curve (`Ed25519`).")},
				member{"x", typed("string", "OKP public key, base64url.")},
				member{"n", typed("string", "RSA modulus, base64url.")},
				member{"e", typed("string", "RSA exponent, base64url.")},
			)}}},
		)},
		{"CSPReport", objectSchema("A `report-uri` violation report (application/csp-report).", []string{"csp-report"}, false,
			member{"csp-report", object{
				{"type", "object"},
				{"properties", object{
					{"document-uri", object{{"type", "string"}}},
					{"referrer", object{{"type", "string"}}},
					{"violated-directive", object{{"type", "string"}}},
					{"effective-directive", object{{"type", "string"}}},
					{"original-policy", object{{"type", "string"}}},
					{"disposition", object{{"type", "string"}, {"enum", list{"enforce", "report"}}}},
					{"blocked-uri", object{{"type", "string"}}},
					{"line-number", object{{"type", "integer"}}},
					{"column-number", object{{"type", "integer"}}},
					{"source-file", object{{"type", "string"}}},
					{"status-code", object{{"type", "integer"}}},
					{"script-sample", object{{"type", "string"}}},
				}},
			}},
		)},
		{"ReportingAPIReports", object{
			{"type", "array"},
			{"description", "Reporting API reports (application/reports+json); reports of type `csp-violation` are counted."},
			{"items", objectSchema("", []string{"type", "body"}, false,
				member{"type", object{{"type", "string"}, {"example", "csp-violation"}}},
				member{"age", object{{"type", "integer"}}},
				member{"url", object{{"type", "string"}}},
				member{"user_agent", object{{"type", "string"}}},
				member{"body", object{{"type", "object"}, {"description", "For `csp-violation`: documentURL, effectiveDirective, blockedURL, disposition, …"}}},
			)},
		}},
	}
}
