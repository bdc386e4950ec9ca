package apidocs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/apidocs"
)

// specRoutes is every route of the API (docs/api.md, Routes), as "METHOD path" in the
// document's canonical form.
var specRoutes = []string{
	// Platform.
	"GET /",
	"GET /health/",
	"GET /health/live",
	"GET /metrics/",
	"POST /csp-report/",
	"GET /api/schema/",
	"GET /api/docs/",
	"GET /.well-known/jwks.json",
	// Tokens.
	"POST /api/token/",
	"POST /api/token/refresh/",
	"POST /api/token/verify/",
	"POST /api/token/blacklist/",
	// Users and sessions.
	"POST /api/v1/users",
	"GET /api/v1/users/{username}",
	"GET /api/v1/me",
	"PATCH /api/v1/me",
	"DELETE /api/v1/me",
	"POST /api/v1/me/password",
	"GET /api/v1/me/sessions",
	"DELETE /api/v1/me/sessions/{id}",
	"GET /api/v1/admin/users",
	"PATCH /api/v1/admin/users/{id}",
	// Blips.
	"POST /api/v1/blips",
	"GET /api/v1/blips/{id}",
	"DELETE /api/v1/blips/{id}",
	"GET /api/v1/blips/{id}/replies",
	"PUT /api/v1/blips/{id}/like",
	"DELETE /api/v1/blips/{id}/like",
	"GET /api/v1/users/{username}/blips",
	"PUT /api/v1/users/{username}/follow",
	"DELETE /api/v1/users/{username}/follow",
	"GET /api/v1/users/{username}/followers",
	"GET /api/v1/users/{username}/following",
	"GET /api/v1/timeline",
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// decodeSchema parses apidocs.Schema() into generic JSON.
func decodeSchema(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(apidocs.Schema(), &doc); err != nil {
		t.Fatalf("Schema() is not valid JSON: %v", err)
	}
	return doc
}

// operations returns every operation of doc by "METHOD path".
func operations(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	ops := map[string]map[string]any{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			ops[strings.ToUpper(method)+" "+path] = op.(map[string]any)
		}
	}
	return ops
}

func TestSchema_Header(t *testing.T) {
	doc := decodeSchema(t)
	if got := doc["openapi"]; got != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", got)
	}
	info := doc["info"].(map[string]any)
	if info["version"] != "dev" || info["title"] == "" {
		t.Errorf("info = %v, want title and version dev", info)
	}
	if desc, _ := info["description"].(string); !strings.Contains(desc, "trailing slash") {
		t.Error("info.description does not mention the trailing-slash rule")
	}
}

func TestSchema_EverySpecRoute(t *testing.T) {
	ops := operations(t, decodeSchema(t))
	for _, route := range specRoutes {
		t.Run(route, func(t *testing.T) {
			if _, ok := ops[route]; !ok {
				t.Errorf("%s is not in the document", route)
			}
		})
	}
	for route := range ops {
		if !slices.Contains(specRoutes, route) {
			t.Errorf("%s is in the document but not in the route list", route)
		}
	}
}

func TestSchema_Operations(t *testing.T) {
	doc := decodeSchema(t)
	seen := map[string]string{}
	wildcard := regexp.MustCompile(`\{([^}]+)\}`)
	for route, op := range operations(t, doc) {
		t.Run(route, func(t *testing.T) {
			id, _ := op["operationId"].(string)
			if id == "" {
				t.Fatal("no operationId")
			}
			if other, dup := seen[id]; dup {
				t.Errorf("operationId %q also used by %s", id, other)
			}
			seen[id] = route
			if s, _ := op["summary"].(string); s == "" {
				t.Error("no summary")
			}
			if tags, _ := op["tags"].([]any); len(tags) == 0 {
				t.Error("no tags")
			}
			if _, ok := op["security"].([]any); !ok {
				t.Error("no security requirement (use [] for none)")
			}
			responses, _ := op["responses"].(map[string]any)
			success := 0
			for status := range responses {
				if status >= "200" && status < "400" {
					success++
				}
			}
			if success == 0 {
				t.Errorf("no 2xx/3xx response among %v", keys(responses))
			}
			if _, ok := responses["default"]; !ok {
				t.Error("no default (500) response")
			}
			if strings.HasPrefix(route, "POST ") || strings.HasPrefix(route, "PATCH ") {
				if _, ok := responses["415"]; !ok && op["requestBody"] != nil {
					t.Error("a JSON body but no 415 response")
				}
			}
			// Every {wildcard} of the path is a declared path parameter.
			declared := map[string]bool{}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm := resolve(t, doc, p).(map[string]any)
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
				}
			}
			for _, m := range wildcard.FindAllStringSubmatch(route, -1) {
				if !declared[m[1]] {
					t.Errorf("path parameter %q not declared", m[1])
				}
			}
		})
	}
}

func TestSchema_RefsResolve(t *testing.T) {
	doc := decodeSchema(t)
	var walk func(at string, v any)
	n := 0
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				n++
				if _, err := pointer(doc, ref); err != nil {
					t.Errorf("%s: $ref %q: %v", at, ref, err)
				}
			}
			for k, child := range v {
				walk(at+"/"+k, child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s/%d", at, i), child)
			}
		}
	}
	walk("#", doc)
	if n < 50 {
		t.Errorf("only %d $refs found; the walk is broken", n)
	}
}

func TestSchema_Components(t *testing.T) {
	doc := decodeSchema(t)
	comp := doc["components"].(map[string]any)
	responses := comp["responses"].(map[string]any)
	for _, name := range []string{"NotModified", "BadRequest", "Unauthorized", "Forbidden", "NotFound",
		"MethodNotAllowed", "Conflict", "PayloadTooLarge", "UnsupportedMediaType", "IdempotencyKeyReused",
		"TooManyRequests", "Unavailable", "Error"} {
		if _, ok := responses[name]; !ok {
			t.Errorf("components.responses.%s missing", name)
		}
	}
	tooMany := responses["TooManyRequests"].(map[string]any)["headers"].(map[string]any)
	for _, h := range []string{"Retry-After", "RateLimit", "RateLimit-Policy"} {
		if _, ok := tooMany[h]; !ok {
			t.Errorf("429 lacks header %s", h)
		}
	}
	schemas := comp["schemas"].(map[string]any)
	props := func(name string) []string {
		s := schemas[name].(map[string]any)
		return keys(s["properties"].(map[string]any))
	}
	tests := []struct {
		schema string
		fields []string
	}{
		{"User", []string{"id", "username", "name", "bio", "created_at", "followers_count", "following_count", "blips_count", "followed_by_me"}},
		{"Blip", []string{"id", "text", "created_at", "author", "reply_to", "like_count", "reply_count", "liked_by_me"}},
		{"Me", []string{"id", "username", "name", "bio", "created_at", "followers_count", "following_count", "blips_count", "email", "role", "is_active"}},
		{"AuthorSummary", []string{"id", "username", "name"}},
		{"Session", []string{"id", "created_at", "last_used_at", "user_agent", "ip", "current"}},
		{"BlipPage", []string{"results", "next"}},
		{"AdminUserPage", []string{"count", "next", "previous", "results"}},
		{"Problem", []string{"type", "title", "status", "detail", "code", "request_id", "errors"}},
		{"TokenPair", []string{"access", "refresh"}},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			got := props(tt.schema)
			slices.Sort(got)
			want := slices.Clone(tt.fields)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s properties = %v, want %v", tt.schema, got, want)
			}
		})
	}
	for _, name := range []string{"bearerAuth", "refreshCookie"} {
		if _, ok := comp["securitySchemes"].(map[string]any)[name]; !ok {
			t.Errorf("security scheme %s missing", name)
		}
	}
}

func TestSchema_CreatedHasLocation(t *testing.T) {
	ops := operations(t, decodeSchema(t))
	for _, route := range []string{"POST /api/v1/users", "POST /api/v1/blips"} {
		created := ops[route]["responses"].(map[string]any)["201"].(map[string]any)
		if _, ok := created["headers"].(map[string]any)["Location"]; !ok {
			t.Errorf("%s 201 has no Location header", route)
		}
	}
	for _, route := range []string{"GET /api/v1/users/{username}", "GET /api/v1/me", "GET /api/v1/blips/{id}"} {
		if _, ok := ops[route]["responses"].(map[string]any)["304"]; !ok {
			t.Errorf("%s has no 304", route)
		}
	}
}

// TestSchema_Statuses spot-checks the statuses docs/api.md promises.
func TestSchema_Statuses(t *testing.T) {
	ops := operations(t, decodeSchema(t))
	tests := []struct {
		route    string
		statuses []string
	}{
		{"POST /api/token/", []string{"200", "400", "401", "429"}},
		{"POST /api/token/refresh/", []string{"200", "401", "403", "429"}},
		{"POST /api/token/verify/", []string{"200", "401"}},
		{"POST /api/token/blacklist/", []string{"200", "401", "403"}},
		{"POST /api/v1/users", []string{"201", "400", "409", "413", "415", "429"}},
		{"GET /api/v1/users/{username}", []string{"200", "304", "404"}},
		{"GET /api/v1/me", []string{"200", "304", "401"}},
		{"POST /api/v1/me/password", []string{"204", "400", "401"}},
		{"DELETE /api/v1/me", []string{"204", "401"}},
		{"GET /api/v1/admin/users", []string{"200", "401", "403"}},
		{"PATCH /api/v1/admin/users/{id}", []string{"200", "403", "404"}},
		{"POST /api/v1/blips", []string{"201", "400", "401", "409", "413", "415", "422", "429", "503"}},
		{"GET /api/v1/blips/{id}", []string{"200", "304", "404"}},
		{"DELETE /api/v1/blips/{id}", []string{"204", "403", "404"}},
		{"PUT /api/v1/users/{username}/follow", []string{"204", "400", "404"}},
		{"GET /api/v1/timeline", []string{"200", "401"}},
		{"GET /health/", []string{"200", "503"}},
		{"POST /csp-report/", []string{"204", "400", "413", "415", "429"}},
		{"GET /api/schema/", []string{"200", "304"}},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			responses := ops[tt.route]["responses"].(map[string]any)
			for _, s := range tt.statuses {
				if _, ok := responses[s]; !ok {
					t.Errorf("no %s response (has %v)", s, keys(responses))
				}
			}
		})
	}
}

func TestSchemaHandler(t *testing.T) {
	h := apidocs.SchemaHandler("1.2.3")
	rec := serve(t, h, http.MethodGet, apidocs.SchemaPath, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	etag := rec.Header().Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(etag) {
		t.Errorf("ETag = %q, want a strong hex tag", etag)
	}
	var doc struct {
		Info struct{ Version string } `json:"info"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Info.Version != "1.2.3" {
		t.Errorf("info.version = %q (err %v), want 1.2.3", doc.Info.Version, err)
	}

	rec = serve(t, h, http.MethodGet, apidocs.SchemaPath, http.Header{"If-None-Match": {etag}})
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match: status %d, %d body bytes; want 304, none", rec.Code, rec.Body.Len())
	}

	rec = serve(t, h, http.MethodGet, apidocs.SchemaPath, http.Header{"Accept-Encoding": {"gzip"}})
	if rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("ETag") == etag {
		t.Errorf("gzip: Content-Encoding %q, ETag %q; want gzip and a tag of its own",
			rec.Header().Get("Content-Encoding"), rec.Header().Get("ETag"))
	}

	rec = serve(t, h, http.MethodPost, apidocs.SchemaPath, nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}

	other := serve(t, apidocs.SchemaHandler("2.0.0"), http.MethodGet, apidocs.SchemaPath, nil)
	if other.Header().Get("ETag") == etag {
		t.Error("another version has the same ETag")
	}
}

// serve runs one request through h.
func serve(t *testing.T, h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// resolve follows v's $ref, if it has one.
func resolve(t *testing.T, doc map[string]any, v any) any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	ref, ok := m["$ref"].(string)
	if !ok {
		return v
	}
	got, err := pointer(doc, ref)
	if err != nil {
		t.Fatalf("$ref %q: %v", ref, err)
	}
	return got
}

// pointer resolves a local JSON Pointer reference ("#/a/b").
func pointer(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	var cur any = doc
	for tok := range strings.SplitSeq(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q: parent is not an object", tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%q not found", tok)
		}
	}
	return cur, nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// serveRaw is serve without *testing.T, for fuzz inputs that
// httptest.NewRequest would reject; nil when the target is unparsable.
func serveRaw(ctx context.Context, h http.Handler, target string, header http.Header) *httptest.ResponseRecorder {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://example.com"+target, nil)
	if err != nil {
		return nil
	}
	req.Header = header
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
