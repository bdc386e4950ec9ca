package apidocs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// files holds the docs page: Swagger UI's bundle and stylesheet (vendored
// verbatim, see assets/README.md), their licences, and Blip's own page,
// init script and stylesheet.
//
//go:embed assets/index.html assets/*.js assets/*.css assets/*.txt assets/swagger-ui.LICENSE assets/swagger-ui.NOTICE
var files embed.FS

// Cache lifetimes. Asset URLs carry a hash of their content (?v=), so a
// response to the URL with the current hash never changes and may be
// cached for a year; the page and the schema are revalidated every time,
// cheaply, with their ETag.
const (
	cacheImmutable   = "public, max-age=31536000, immutable"
	cacheRevalidate  = "no-cache"
	schemaMediaType  = "application/json; charset=utf-8"
	problemMediaType = "application/problem+json"
	problemTypeBase  = "https://blip.dev/problems/"
)

// resource is one response body with the headers that describe it.
type resource struct {
	body        []byte
	contentType string
	etag        string // strong ETag of body
	version     string // short content hash, the ?v= of asset URLs

	// gzipped is body compressed, made on the first request that accepts
	// gzip (so that building the handlers costs nothing at start-up); nil
	// when compression does not pay.
	gzipOnce sync.Once
	gzipped  []byte
}

func newResource(body []byte, contentType string) *resource {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	return &resource{
		body:        body,
		contentType: contentType,
		etag:        `"` + hash[:32] + `"`,
		version:     hash[:16],
	}
}

// compressed returns the gzip encoding of the body, nil if it is not
// worth sending (less than a tenth smaller).
func (res *resource) compressed() []byte {
	res.gzipOnce.Do(func() {
		if len(res.body) < 1024 {
			return
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, err := zw.Write(res.body)
		if err == nil {
			err = zw.Close()
		}
		if err == nil && buf.Len() < len(res.body)*9/10 {
			res.gzipped = buf.Bytes()
		}
	})
	return res.gzipped
}

// serve writes res for a GET or HEAD, honouring If-None-Match (304),
// gzip-encoded when the client accepts it. It never honours Range: these
// bodies are small and always sent whole, and a request naming thousands of
// ranges must not make the server assemble a multipart answer many times
// the body's size (which http.ServeContent would do).
func (res *resource) serve(w http.ResponseWriter, r *http.Request, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", res.contentType)
	h.Set("Cache-Control", cacheControl)
	body, etag := res.body, res.etag
	if len(res.body) >= 1024 {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Values("Accept-Encoding")) {
			if gz := res.compressed(); gz != nil {
				// Another encoding is another representation, with a
				// strong ETag of its own.
				body, etag = gz, strings.TrimSuffix(res.etag, `"`)+`-gzip"`
				h.Set("Content-Encoding", "gzip")
			}
		}
	}
	h.Set("ETag", etag)
	h.Set("Accept-Ranges", "none")
	if etagListMatches(r.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Type")
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// etagListMatches reports whether an If-None-Match value ("*" or a list of
// entity tags) matches etag, by the weak comparison RFC 9110 §13.1.2
// prescribes for If-None-Match (a W/ prefix is ignored).
func etagListMatches(header, etag string) bool {
	header = strings.TrimSpace(header)
	if header == "" {
		return false
	}
	if header == "*" {
		return true
	}
	for tag := range strings.SplitSeq(header, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether Accept-Encoding field values allow gzip:
// "gzip" or "*" listed with a q-value other than 0.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "x-gzip" && coding != "*" {
				continue
			}
			if !qZero(params) {
				return true
			}
		}
	}
	return false
}

// qZero reports whether the parameters of an Accept-Encoding item set q=0.
func qZero(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return err == nil && q == 0
	}
	return false
}

// onlyGetOrHead answers any other method with 405 and reports false. The
// router normally does this first; the handlers do not rely on it.
func onlyGetOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeProblem(w, http.StatusMethodNotAllowed, "method_not_allowed",
		fmt.Sprintf("Method %q not allowed.", r.Method))
	return false
}

// writeProblem writes a problem+json body shaped like httpapi's. This
// package cannot import httpapi (httpapi imports it), so it takes the
// request id from the X-Request-ID response header that httpapi's
// middleware has set, when it has.
func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	body, err := json.Marshal(struct {
		Type      string `json:"type"`
		Title     string `json:"title"`
		Status    int    `json:"status"`
		Detail    string `json:"detail"`
		Code      string `json:"code"`
		RequestID string `json:"request_id,omitempty"`
	}{problemTypeBase + code, http.StatusText(status), status, detail, code, w.Header().Get("X-Request-ID")})
	if err != nil {
		http.Error(w, http.StatusText(status), status)
		return
	}
	h := w.Header()
	h.Set("Content-Type", problemMediaType)
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// SchemaHandler serves the OpenAPI document (GET /api/schema/) with
// info.version set to version. The media type is
// "application/json; charset=utf-8", like the rest of the API, rather than
// application/vnd.oai.openapi+json, so that browsers, curl | jq and API
// tools all take it as JSON. It sends a strong ETag and answers a matching
// If-None-Match with 304; clients revalidate every time (Cache-Control:
// no-cache), so a new server version is seen at once.
func SchemaHandler(version string) http.Handler {
	res := newResource(document(version), schemaMediaType)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !onlyGetOrHead(w, r) {
			return
		}
		res.serve(w, r, cacheRevalidate)
	})
}

// docs serves the API reference page and its assets.
type docs struct {
	index  *resource
	assets map[string]*resource // by file name, as under DocsPath
}

// DocsHandler serves the interactive API reference: the page at
// /api/docs/ and at /api/docs (no redirect: asset URLs in the page are
// absolute), and its assets at /api/docs/<name>. It expects the request's
// full path (mount it without http.StripPrefix). Unknown names under
// /api/docs/ are 404 problems. The page loads only same-origin scripts and
// stylesheets and no inline ones, so it works under the default
// Content-Security-Policy enforced. Assets are linked with a content hash
// (?v=) and cached for a year under it; everything carries an ETag.
func DocsHandler() http.Handler {
	d := &docs{assets: map[string]*resource{}}
	err := fs.WalkDir(files, "assets", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || path.Base(p) == "index.html" {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		name := path.Base(p)
		d.assets[name] = newResource(body, contentType(name))
		return nil
	})
	if err != nil {
		// The files are embedded in the binary: failing to read them is a
		// build defect, which the tests catch, not a runtime condition.
		panic(fmt.Sprintf("apidocs: read embedded assets: %v", err))
	}
	d.index = newResource(d.renderIndex(), "text/html; charset=utf-8")
	return d
}

// renderIndex executes assets/index.html, which links each asset through
// the "asset" function: its absolute URL with its content hash.
func (d *docs) renderIndex() []byte {
	funcs := template.FuncMap{"asset": func(name string) (string, error) {
		res, ok := d.assets[name]
		if !ok {
			return "", fmt.Errorf("unknown asset %q", name)
		}
		return DocsPath + name + "?v=" + res.version, nil
	}}
	tmpl := template.Must(template.New("index.html").Funcs(funcs).ParseFS(files, "assets/index.html"))
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, struct{ SchemaURL string }{SchemaPath}); err != nil {
		panic(fmt.Sprintf("apidocs: render index.html: %v", err))
	}
	return buf.Bytes()
}

// ServeHTTP serves GET and HEAD of DocsPath, its slash-less form and the
// assets under it.
func (d *docs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !onlyGetOrHead(w, r) {
		return
	}
	p := r.URL.Path
	if p == DocsPath || p == strings.TrimSuffix(DocsPath, "/") {
		d.index.serve(w, r, cacheRevalidate)
		return
	}
	name, ok := strings.CutPrefix(p, DocsPath)
	res, found := d.assets[name]
	if !ok || !found {
		writeProblem(w, http.StatusNotFound, "not_found", "Not found.")
		return
	}
	cache := cacheRevalidate
	if r.URL.Query().Get("v") == res.version {
		cache = cacheImmutable
	}
	res.serve(w, r, cache)
}

// contentType is the media type of an asset, from its name. It does not
// use mime.TypeByExtension, whose answers depend on the host's tables.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	}
	return "text/plain; charset=utf-8" // licences and notices
}
