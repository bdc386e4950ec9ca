package apidocs_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/apidocs"
)

// tag is one start tag of an HTML page, with what follows it up to the
// next tag (the element's leading text).
type tag struct {
	name  string
	attrs map[string]string
	text  string
}

var (
	tagPattern  = regexp.MustCompile(`(?s)<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>([^<]*)`)
	attrPattern = regexp.MustCompile(`([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?`)
)

// scanTags is a deliberately simple HTML scan, enough for a page this
// package writes: start tags, their attributes, the text after them.
func scanTags(html string) []tag {
	var out []tag
	for _, m := range tagPattern.FindAllStringSubmatch(html, -1) {
		t := tag{name: strings.ToLower(m[1]), attrs: map[string]string{}, text: m[3]}
		for _, a := range attrPattern.FindAllStringSubmatch(m[2], -1) {
			t.attrs[strings.ToLower(a[1])] = a[2] + a[3] + a[4]
		}
		out = append(out, t)
	}
	return out
}

func TestDocsHandler_Index(t *testing.T) {
	h := apidocs.DocsHandler()
	for _, path := range []string{"/api/docs/", "/api/docs"} {
		t.Run(path, func(t *testing.T) {
			rec := serve(t, h, http.MethodGet, path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if rec.Header().Get("ETag") == "" {
				t.Error("no ETag")
			}
			body := rec.Body.String()
			if !strings.Contains(body, `id="swagger-ui"`) || !strings.Contains(body, apidocs.SchemaPath) {
				t.Error("page lacks the #swagger-ui root or the schema URL")
			}
		})
	}
}

// TestDocsHandler_CSPClean checks what the enforced default CSP
// (script-src 'self'; style-src 'self') would block: inline scripts,
// <style> elements, style attributes, event-handler attributes,
// javascript: URLs and anything loaded from another origin.
func TestDocsHandler_CSPClean(t *testing.T) {
	rec := serve(t, apidocs.DocsHandler(), http.MethodGet, "/api/docs/", nil)
	tags := scanTags(rec.Body.String())
	scripts := 0
	for _, tg := range tags {
		switch tg.name {
		case "script":
			scripts++
			if tg.attrs["src"] == "" {
				t.Error("<script> without src")
			}
			if strings.TrimSpace(tg.text) != "" {
				t.Errorf("<script> with an inline body %q", tg.text)
			}
		case "style":
			t.Error("<style> element")
		}
		for name, value := range tg.attrs {
			if name == "style" {
				t.Errorf("<%s> has a style attribute", tg.name)
			}
			if strings.HasPrefix(name, "on") {
				t.Errorf("<%s> has an event handler %s", tg.name, name)
			}
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(value)), "javascript:") {
				t.Errorf("<%s %s> is a javascript: URL", tg.name, name)
			}
			if (name == "src" || name == "href") && (strings.Contains(value, "//") && !strings.HasPrefix(value, "/api/")) {
				t.Errorf("<%s %s=%q> loads from another origin", tg.name, name, value)
			}
		}
	}
	if scripts != 2 {
		t.Errorf("%d scripts, want 2 (bundle and init)", scripts)
	}
}

func TestDocsHandler_Assets(t *testing.T) {
	h := apidocs.DocsHandler()
	page := serve(t, h, http.MethodGet, "/api/docs/", nil).Body.String()
	wantType := map[string]string{
		"script": "text/javascript; charset=utf-8",
		"link":   "text/css; charset=utf-8",
	}
	n := 0
	for _, tg := range scanTags(page) {
		url := tg.attrs["src"]
		if tg.name == "link" && tg.attrs["rel"] == "stylesheet" {
			url = tg.attrs["href"]
		}
		if url == "" || tg.name == "a" {
			continue
		}
		n++
		t.Run(url, func(t *testing.T) {
			if !strings.HasPrefix(url, apidocs.DocsPath) || !strings.Contains(url, "?v=") {
				t.Fatalf("asset URL %q is not under %s with a version", url, apidocs.DocsPath)
			}
			rec := serve(t, h, http.MethodGet, url, nil)
			if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
				t.Fatalf("status %d, %d bytes", rec.Code, rec.Body.Len())
			}
			if ct := rec.Header().Get("Content-Type"); ct != wantType[tg.name] {
				t.Errorf("Content-Type = %q, want %q", ct, wantType[tg.name])
			}
			if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
				t.Errorf("versioned URL: Cache-Control = %q, want immutable", cc)
			}
			etag := rec.Header().Get("ETag")
			if again := serve(t, h, http.MethodGet, url, http.Header{"If-None-Match": {etag}}); again.Code != http.StatusNotModified {
				t.Errorf("If-None-Match: status %d, want 304", again.Code)
			}
			bare, _, _ := strings.Cut(url, "?")
			if cc := serve(t, h, http.MethodGet, bare, nil).Header().Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("unversioned URL: Cache-Control = %q, want no-cache", cc)
			}
			gz := serve(t, h, http.MethodGet, url, http.Header{"Accept-Encoding": {"gzip, br"}})
			switch encoded := gz.Header().Get("Content-Encoding") == "gzip"; {
			case encoded:
				zr, err := gzip.NewReader(gz.Body)
				if err != nil {
					t.Fatalf("gzip: %v", err)
				}
				plain, err := io.ReadAll(zr)
				if err != nil || !bytes.Equal(plain, rec.Body.Bytes()) {
					t.Errorf("gzip body does not decode to the asset (err %v)", err)
				}
			case rec.Body.Len() > 10_000:
				t.Errorf("%d bytes not gzip-encoded for a client accepting gzip", rec.Body.Len())
			}
		})
	}
	if n != 4 {
		t.Errorf("%d assets referenced, want 4 (two stylesheets, two scripts)", n)
	}
}

func TestDocsHandler_Errors(t *testing.T) {
	h := apidocs.DocsHandler()
	tests := []struct {
		name, method, path string
		want               int
	}{
		{"unknown asset", http.MethodGet, "/api/docs/nope.js", http.StatusNotFound},
		{"no traversal", http.MethodGet, "/api/docs/../docs/init.js", http.StatusNotFound},
		{"index.html is not an asset", http.MethodGet, "/api/docs/index.html", http.StatusNotFound},
		{"other prefix", http.MethodGet, "/api/schema/", http.StatusNotFound},
		{"asset with slash", http.MethodGet, "/api/docs/init.js/", http.StatusNotFound},
		{"licence", http.MethodGet, "/api/docs/swagger-ui.LICENSE", http.StatusOK},
		{"head", http.MethodHead, "/api/docs/", http.StatusOK},
		{"post", http.MethodPost, "/api/docs/", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, h, tt.method, tt.path, nil)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if tt.want < 400 {
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var p struct {
				Status int
				Code   string
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != tt.want || p.Code == "" {
				t.Errorf("problem body %s (err %v)", rec.Body, err)
			}
		})
	}
}

func TestDocsHandler_ProblemCarriesRequestID(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-ID", "req-123") // as httpapi's middleware does
		apidocs.DocsHandler().ServeHTTP(w, r)
	})
	rec := serve(t, h, http.MethodGet, "/api/docs/missing", nil)
	if !strings.Contains(rec.Body.String(), `"request_id":"req-123"`) {
		t.Errorf("problem %s lacks the request id", rec.Body)
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"br, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"*", true},
		{"*;q=0", false},
		{"identity", false},
		{"deflate, br", false},
		{"x-gzip", true},
		{"gzip;q=bogus", true},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := apidocs.AcceptsGzip([]string{tt.header}); got != tt.want {
				t.Errorf("AcceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

// FuzzDocsHandler feeds hostile paths and header values to both handlers:
// they must never panic and only answer with the statuses they document.
func FuzzDocsHandler(f *testing.F) {
	for _, s := range []string{"/api/docs/", "/api/docs", "/api/docs/init.js", "/api/docs/%2e%2e/x", "/api/docs/swagger-ui.css?v=1"} {
		f.Add(s, "gzip", `"x"`, "bytes=0-10")
	}
	docs := apidocs.DocsHandler()
	schema := apidocs.SchemaHandler("fuzz")
	allowed := map[int]bool{200: true, 206: true, 304: true, 404: true, 416: true}
	f.Fuzz(func(t *testing.T, path, acceptEncoding, ifNoneMatch, rangeHeader string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#") || !validHeader(acceptEncoding+ifNoneMatch+rangeHeader) {
			t.Skip()
		}
		h := http.Header{"Accept-Encoding": {acceptEncoding}, "If-None-Match": {ifNoneMatch}, "Range": {rangeHeader}}
		for _, handler := range []http.Handler{docs, schema} {
			rec := serveRaw(t.Context(), handler, path, h)
			if rec == nil {
				t.Skip()
			}
			if !allowed[rec.Code] {
				t.Errorf("GET %q: status %d", path, rec.Code)
			}
		}
	})
}

func validHeader(s string) bool {
	for _, c := range s {
		if c < 0x20 || c == 0x7f || c > 0x7e {
			return false
		}
	}
	return true
}

// TestDocsHandler_IgnoresRange: the page, its assets and the schema are
// small and always sent whole. Honouring Range would let one request with
// thousands of ranges make the server build a multipart answer many times
// the asset's size, so Range (and If-Range) are ignored: 200, whole body,
// "Accept-Ranges: none".
func TestDocsHandler_IgnoresRange(t *testing.T) {
	h := apidocs.DocsHandler()
	schema := apidocs.SchemaHandler("test")
	many := "bytes=" + strings.Repeat("0-0,", 2000) + "0-0"
	for _, tc := range []struct {
		name    string
		handler http.Handler
		path    string
	}{
		{"page", h, apidocs.DocsPath},
		{"asset", h, apidocs.DocsPath + "swagger-ui.css"},
		{"schema", schema, apidocs.SchemaPath},
	} {
		for _, rng := range []string{"bytes=0-0", "bytes=10-20,30-40", many} {
			t.Run(tc.name+"/"+rng[:min(len(rng), 20)], func(t *testing.T) {
				whole := serve(t, tc.handler, http.MethodGet, tc.path, nil)
				if whole.Code != http.StatusOK {
					t.Fatalf("plain GET: status %d", whole.Code)
				}
				rec := serve(t, tc.handler, http.MethodGet, tc.path, http.Header{"Range": {rng}, "If-Range": {whole.Header().Get("ETag")}})
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d, want 200 (Range ignored)", rec.Code)
				}
				if cr := rec.Header().Get("Content-Range"); cr != "" {
					t.Errorf("Content-Range = %q, want none", cr)
				}
				if ar := rec.Header().Get("Accept-Ranges"); ar != "none" {
					t.Errorf("Accept-Ranges = %q, want none", ar)
				}
				if !bytes.Equal(rec.Body.Bytes(), whole.Body.Bytes()) {
					t.Errorf("body is %d bytes, want the whole %d", rec.Body.Len(), whole.Body.Len())
				}
			})
		}
	}
}
