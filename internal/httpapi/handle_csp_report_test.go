package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/blipsocial/blip/internal/httpapi"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON log records written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// cspReportServer serves handleCSPReport, recording logs and counts.
func cspReportServer(t *testing.T) (srv func(ct, body string) (*http.Response, string), logs *syncBuffer, counted func() []string) {
	t.Helper()
	logs = &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	var (
		mu   sync.Mutex
		dirs []string
	)
	h := httpapi.HandleCSPReport(logger, func(d string) {
		mu.Lock()
		dirs = append(dirs, d)
		mu.Unlock()
	})
	s := secServer(t, chain(h, httpapi.ClientIPMiddleware(nil)))
	srv = func(ct, body string) (*http.Response, string) {
		return secDo(t, s, http.MethodPost, "/csp-report/", map[string]string{"Content-Type": ct}, body)
	}
	counted = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), dirs...)
	}
	return srv, logs, counted
}

const legacyReport = `{"csp-report": {
	"document-uri": "https://app.example.com/page?token=s3cret#frag",
	"referrer": "https://user:pw@ref.example/?q=private",
	"violated-directive": "script-src-elem 'self'",
	"effective-directive": "script-src-elem",
	"original-policy": "default-src 'self'; report-uri /csp-report/",
	"blocked-uri": "https://evil.example/x.js?session=abc",
	"line-number": 12,
	"status-code": 200,
	"disposition": "report"
}}`

const reportingAPIReport = `[
	{"type": "deprecation", "url": "https://app.example.com/", "body": {"id": "x"}},
	{"type": "csp-violation", "age": 3, "url": "https://app.example.com/docs?x=1",
	 "user_agent": "Chrome", "body": {
		"documentURL": "https://app.example.com/docs?key=s3cret",
		"effectiveDirective": "img-src",
		"blockedURL": "https://cdn.example/pixel.gif?uid=42#top",
		"disposition": "enforce", "statusCode": 200, "lineNumber": 7, "sample": ""
	}}
]`

func TestHandleCSPReport_Accepted(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		wantDirective           string
		wantLog                 map[string]string
	}{
		{"report-uri format", "application/csp-report", legacyReport, "script-src-elem", map[string]string{
			"msg":                 "csp violation",
			"document_uri":        "https://app.example.com/page",
			"referrer":            "https://ref.example/",
			"violated_directive":  "script-src-elem 'self'",
			"effective_directive": "script-src-elem",
			"blocked_uri":         "https://evil.example/x.js",
			"line_number":         "12",
			"disposition":         "report",
		}},
		{"report-uri format as application/json", "application/json; charset=utf-8", legacyReport, "script-src-elem", map[string]string{
			"document_uri": "https://app.example.com/page",
		}},
		{"Reporting API format", "application/reports+json", reportingAPIReport, "img-src", map[string]string{
			"document_uri":        "https://app.example.com/docs",
			"effective_directive": "img-src",
			"blocked_uri":         "https://cdn.example/pixel.gif",
			"disposition":         "enforce",
		}},
		{"Reporting API format as application/json", "application/json", reportingAPIReport, "img-src", map[string]string{
			"blocked_uri": "https://cdn.example/pixel.gif",
		}},
		{"CSP2 violated directive only", "application/csp-report",
			`{"csp-report":{"document-uri":"http://localhost/","violated-directive":"Style-Src 'self'","blocked-uri":"inline"}}`,
			"style-src", map[string]string{"blocked_uri": "inline"}},
		{"unknown directive bounded", "application/csp-report",
			`{"csp-report":{"effective-directive":"made-up-` + strings.Repeat("x", 500) + `"}}`,
			"other", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			post, logs, counted := cspReportServer(t)
			resp, body := post(tt.contentType, tt.body)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("status = %d (%s), want 204", resp.StatusCode, body)
			}
			if got := counted(); len(got) != 1 || got[0] != tt.wantDirective {
				t.Errorf("counted %q, want [%q]", got, tt.wantDirective)
			}
			lines := logs.lines(t)
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1", len(lines))
			}
			for k, want := range tt.wantLog {
				if got := lines[0][k]; got != want {
					t.Errorf("log %s = %v, want %q", k, got, want)
				}
			}
			for k, v := range lines[0] {
				s, _ := v.(string)
				for _, secret := range []string{"s3cret", "session=", "uid=", "pw@", "private", "#"} {
					if strings.Contains(s, secret) {
						t.Errorf("log %s = %q leaks %q", k, s, secret)
					}
				}
				if len(s) > 300 {
					t.Errorf("log %s is %d bytes, want capped", k, len(s))
				}
			}
		})
	}
}

func TestHandleCSPReport_Rejected(t *testing.T) {
	big := `{"csp-report":{"document-uri":"` + strings.Repeat("a", 70<<10) + `"}}`
	tests := []struct {
		name, contentType, body string
		chunked                 bool
		wantStatus              int
		wantCode                string
	}{
		{"wrong type", "text/plain", legacyReport, false, 415, "unsupported_media_type"},
		{"no type", "", legacyReport, false, 415, "unsupported_media_type"},
		{"form type", "application/x-www-form-urlencoded", "a=b", false, 415, "unsupported_media_type"},
		{"oversize announced", "application/csp-report", big, false, 413, "payload_too_large"},
		{"oversize streamed", "application/csp-report", big, true, 413, "payload_too_large"},
		{"garbage", "application/csp-report", "this is not json", false, 400, "parse_error"},
		{"empty", "application/reports+json", "", false, 400, "parse_error"},
		{"truncated", "application/reports+json", `[{"type":"csp-violation","body":{`, false, 400, "parse_error"},
		{"no csp-report member", "application/csp-report", `{"other":{}}`, false, 400, "parse_error"},
		{"wrong shape", "application/reports+json", `"a string"`, false, 400, "parse_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			post, logs, counted := cspReportServer(t)
			var (
				resp *http.Response
				body string
			)
			if tt.chunked {
				resp, body = postChunked(t, tt.contentType, tt.body)
			} else {
				resp, body = post(tt.contentType, tt.body)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if p := problemBody(t, resp, body); p["code"] != tt.wantCode {
				t.Errorf("code = %v, want %s", p["code"], tt.wantCode)
			}
			if n := len(counted()); n != 0 {
				t.Errorf("counted %d reports, want 0", n)
			}
			for _, l := range logs.lines(t) {
				if l["msg"] == "csp violation" {
					t.Errorf("logged a violation for a rejected report")
				}
			}
		})
	}
}

// postChunked sends body without a Content-Length, so only the reader's
// limit can catch its size.
func postChunked(t *testing.T, ct, body string) (*http.Response, string) {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	srv := secServer(t, httpapi.HandleCSPReport(logger, nil))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/csp-report/",
		io.MultiReader(strings.NewReader(body))) // hides the length
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHandleCSPReport_BatchCapped(t *testing.T) {
	post, _, counted := cspReportServer(t)
	one := `{"type":"csp-violation","body":{"effectiveDirective":"connect-src"}}`
	body := "[" + strings.TrimSuffix(strings.Repeat(one+",", 50), ",") + "]"
	resp, _ := post("application/reports+json", body)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status = %d, want 204", resp.StatusCode)
	}
	if n := len(counted()); n != 20 {
		t.Errorf("counted %d, want the cap of 20", n)
	}
}

func TestHandleCSPReport_MethodNotAllowed(t *testing.T) {
	srv := secServer(t, httpapi.HandleCSPReport(slog.New(slog.DiscardHandler), nil))
	resp, body := secDo(t, srv, http.MethodGet, "/csp-report/", nil, "")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("status = %d, Allow = %q (%s)", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
}

func TestSanitizeReportURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://a.example/p?q=1#f", "https://a.example/p"},
		{"https://u:p@a.example:8443/x", "https://a.example:8443/x"},
		{"https://u@a.example", "https://a.example"},
		{"inline", "inline"},
		{"data", "data"},
		{"", ""},
		{"https://a.example/" + strings.Repeat("é", 400), ""}, // only the length is checked below
	}
	for _, tt := range tests {
		got := httpapi.SanitizeReportURI(tt.in)
		if tt.want != "" || tt.in == "" {
			if got != tt.want {
				t.Errorf("SanitizeReportURI(%q) = %q, want %q", tt.in, got, tt.want)
			}
		}
		if len(got) > 260 || !utf8Valid(got) {
			t.Errorf("SanitizeReportURI(%q) = %d bytes, valid UTF-8 %v", tt.in, len(got), utf8Valid(got))
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

func FuzzParseCSPReports(f *testing.F) {
	f.Add("application/csp-report", legacyReport)
	f.Add("application/reports+json", reportingAPIReport)
	f.Add("application/json", `{"type":"csp-violation","body":null}`)
	f.Add("application/json", `[1,2,3]`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		vs, err := httpapi.ParseCSPReports(ct, []byte(body))
		if err == nil && len(vs) > 20 {
			t.Fatalf("%d violations, over the cap", len(vs))
		}
		for _, v := range vs {
			_ = httpapi.SanitizeReportURI(v.DocumentURI)
		}
	})
}
