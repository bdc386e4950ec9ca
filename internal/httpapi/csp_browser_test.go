package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
)

// cspTestPage violates the default policy three ways. The inline script
// would mark the page if it ran.
const cspTestPage = `<!doctype html>
<html><head><title>csp test</title></head>
<body>
<p id="status">inline script blocked</p>
<script>document.getElementById("status").textContent = ["inline", "script", "ran"].join("-");</script>
<img src="https://blocked.invalid/p.png?secret=1" alt="">
<p style="color: red">styled</p>
</body></html>`

// TestCSPInChromium loads a violating page in headless Chromium behind the
// real security headers and checks that the policy is enforced and that
// the browser's reports reach handleCSPReport. It needs a browser binary:
// BLIP_TEST_CHROMIUM=chromium (Debian's package). See docs/security.md.
func TestCSPInChromium(t *testing.T) {
	bin := os.Getenv("BLIP_TEST_CHROMIUM")
	if bin == "" {
		t.Skip("BLIP_TEST_CHROMIUM not set (e.g. BLIP_TEST_CHROMIUM=chromium)")
	}
	if _, err := exec.LookPath(bin); err != nil {
		t.Fatalf("BLIP_TEST_CHROMIUM=%s: %v", bin, err)
	}
	tests := []struct {
		name     string
		tls      bool
		dumpDOM  bool
		wantType string // the report format Chromium must use
	}{
		// The policy carries report-uri and report-to. Chromium
		// then uses the Reporting API, which delivers only from secure
		// pages to HTTPS endpoints: over plain HTTP it sends nothing, so the
		// browser test runs over HTTPS. The report-uri format
		// (application/csp-report, Firefox and Safari) is covered by
		// handle_csp_report_test.go.
		{"HTTPS", true, true, "reports+json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			logger := slog.New(slog.NewJSONHandler(logs, nil))
			var (
				mu   sync.Mutex
				dirs []string
			)
			cfg := devConfig()
			cfg.CSPReportOnly = false
			cfg.CSPPolicy = config.DefaultCSPPolicy
			mux := http.NewServeMux()
			mux.HandleFunc("GET /csp-test", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = io.WriteString(w, cspTestPage)
			})
			mux.Handle("POST /csp-report/", httpapi.HandleCSPReport(logger, func(d string) {
				mu.Lock()
				dirs = append(dirs, d)
				mu.Unlock()
			}))
			var (
				typesMu sync.Mutex
				types   []string
			)
			record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					typesMu.Lock()
					types = append(types, strings.TrimPrefix(r.Header.Get("Content-Type"), "application/"))
					typesMu.Unlock()
				}
				mux.ServeHTTP(w, r)
			})
			newServer := secServer
			if tt.tls {
				newServer = secTLSServer
			}
			srv := newServer(t, chain(record, httpapi.ClientIPMiddleware(nil), httpapi.SecureHeaders(cfg)))

			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			args := []string{
				"--headless=new", "--no-sandbox", "--disable-gpu",
				"--disable-extensions", "--disable-sync",
				"--no-first-run", "--no-default-browser-check", "--mute-audio",
				"--user-data-dir=" + t.TempDir(),
				// Deliver Reporting API batches after 100 ms, not a minute.
				"--short-reporting-delay",
				// httptest's certificate is self-signed.
				"--ignore-certificate-errors",
			}
			if tt.dumpDOM {
				args = append(args, "--virtual-time-budget=3000", "--dump-dom", srv.URL+"/csp-test")
				out, err := exec.CommandContext(ctx, bin, args...).Output() //nolint:gosec // G702: bin is BLIP_TEST_CHROMIUM, the browser the developer or CI chose to run; args are fixed flags and the test server's URL
				if err != nil {
					t.Fatalf("chromium: %v", err)
				}
				dom := string(out)
				if !strings.Contains(dom, "inline script blocked") || strings.Contains(dom, "inline-script-ran") {
					t.Errorf("inline script was not blocked; DOM:\n%s", dom)
				}
			} else {
				// Keep the browser open while the Reporting API delivers;
				// --dump-dom would exit before its first batch.
				cmd := exec.CommandContext(ctx, bin, append(args, srv.URL+"/csp-test")...) //nolint:gosec // G204: bin is BLIP_TEST_CHROMIUM, the browser the developer or CI chose to run; args are fixed flags and the test server's URL
				if err := cmd.Start(); err != nil {
					t.Fatalf("chromium: %v", err)
				}
				defer func() {
					cancel()
					_ = cmd.Wait()
				}()
			}

			// Reports travel after the page: wait for them a little.
			want := []string{"script-src-elem", "img-src"}
			deadline := time.Now().Add(20 * time.Second)
			for {
				mu.Lock()
				got := slices.Clone(dirs)
				mu.Unlock()
				missing := false
				for _, d := range want {
					if !slices.Contains(got, d) {
						missing = true
					}
				}
				if !missing {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("reports for %v, want at least %v; logs:\n%s", got, want, logs.buf.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			typesMu.Lock()
			gotTypes := slices.Clone(types)
			typesMu.Unlock()
			if !slices.Contains(gotTypes, tt.wantType) {
				t.Errorf("report content types %v, want %s", gotTypes, tt.wantType)
			}
			for _, l := range logs.lines(t) {
				for k, v := range l {
					if s, _ := v.(string); strings.Contains(s, "secret=1") {
						t.Errorf("log %s = %q keeps the query string", k, s)
					}
				}
			}
		})
	}
}
