package main

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// apiDoc is the page whose shell blocks TestDocs_apiWalkthrough runs.
const apiDoc = "../../docs/api.md"

// shBlock is one ```sh block of a Markdown page. A fence written as
// "```sh VAR=value …" names settings the server must have for the block.
type shBlock struct {
	line int // of the opening fence
	env  []string
	text string
}

// shBlocks returns the page's sh blocks in order.
func shBlocks(t *testing.T, path string) []shBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks []shBlock
		cur    *shBlock
		body   []string
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && (line == "```sh" || strings.HasPrefix(line, "```sh ")):
			cur = &shBlock{line: n, env: strings.Fields(strings.TrimPrefix(line, "```sh"))}
			body = nil
		case cur != nil && line == "```":
			cur.text = strings.Join(body, "\n")
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			body = append(body, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: sh block never closed", path, cur.line)
	}
	return blocks
}

// TestDocs_apiWalkthrough runs every sh block of docs/api.md, in order, in
// one bash with `set -euo pipefail`, against a real server configured as
// `go run ./cmd/blip` is on a fresh machine (development defaults, default
// rate limits, a new SQLite file). A block fenced with settings runs
// against a second server with those settings on the same database. Any
// failing command fails the test, so the walk-through cannot drift from
// the API.
func TestDocs_apiWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("BLIP_TEST_REQUIRE_SERVICES") == "1" {
				t.Fatalf("%s is not installed; CI needs it to run docs/api.md (.ci/run installs jq)", tool)
			}
			t.Skipf("%s is not installed: skipping the docs/api.md walk-through", tool)
		}
	}
	doc, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), "uuidgen") {
		t.Errorf("docs/api.md uses uuidgen, which many machines lack; make keys with od or date")
	}
	blocks := shBlocks(t, apiDoc)
	if len(blocks) < 8 {
		t.Fatalf("docs/api.md has %d sh blocks; the walk-through alone has more", len(blocks))
	}

	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "blip.db")
	// What `go run ./cmd/blip` uses: every setting the harness pins is
	// reset to its default (an empty value counts as unset).
	defaults := map[string]string{
		"APP_ENV": "", "SECRET_KEY": "", "AUTO_MIGRATE": "", "LOG_LEVEL": "", "JSON_LOGS": "", "ALLOWED_HOSTS": "",
		"THROTTLE_ANON": "", "THROTTLE_USER": "", "THROTTLE_LOGIN": "", "THROTTLE_REGISTER": "", "THROTTLE_REFRESH": "",
	}
	sqlite := backend{name: "sqlite", env: map[string]string{"DATABASE_URL": dbURL}}
	servers := map[string]*server{"": startServer(t, sqlite, defaults)}

	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, b := range blocks {
		fmt.Fprintf(&script, "echo '### docs/api.md:%d' >&2\n", b.line)
		if len(b.env) == 0 {
			script.WriteString(b.text + "\n")
			continue
		}
		key := strings.Join(b.env, " ")
		if servers[key] == nil {
			extra := map[string]string{}
			for k, v := range defaults {
				extra[k] = v
			}
			for _, kv := range b.env {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("docs/api.md:%d: fence setting %q is not VAR=value", b.line, kv)
				}
				extra[k] = v
			}
			servers[key] = startServer(t, sqlite, extra)
		}
		fmt.Fprintf(&script, "API_DEFAULT=$API; API=%s\n%s\nAPI=$API_DEFAULT\n", servers[key].URL, b.text)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String()) //nolint:gosec // G204: running the repository's own documented commands is the test
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir, "API=" + servers[""].URL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		last := "the start"
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "### ") {
				last = strings.TrimPrefix(l, "### ")
			}
		}
		t.Fatalf("docs/api.md failed in the block at %s: %v\noutput:\n%s", last, err, out)
	}
	for _, want := range []string{`"ok"`, "@grace: A ship in port is safe.", "304", "401", "token_not_valid"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("walk-through output lacks %q:\n%s", want, out)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("walk-through output:\n%s", out)
	}
}

// TestE2E_docsAssetsNotThrottled loads /api/docs/ as a browser does, the
// page and every asset it links, under an anonymous budget of 3 requests:
// the assets are exempt and cached for a year under their content hash, so
// the page costs one request of the budget, not seven.
func TestE2E_docsAssetsNotThrottled(t *testing.T) {
	sqlite := backend{name: "sqlite", env: map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "blip.db")}}
	s := startServer(t, sqlite, map[string]string{"THROTTLE_ANON": "3/hour"})
	c := s.client()
	page := c.do("GET", "/api/docs/", nil)
	want(t, page, http.StatusOK, "docs page")
	assets := regexp.MustCompile(`(?:src|href)="(/api/docs/[^"?]+\?v=[0-9a-f]+)"`).FindAllStringSubmatch(string(page.Body), -1)
	if len(assets) < 3 {
		t.Fatalf("the page links %d assets, want the script, styles and init", len(assets))
	}
	for range 3 { // three page views' worth
		for _, m := range assets {
			r := c.do("GET", html.UnescapeString(m[1]), nil)
			want(t, r, http.StatusOK, m[1])
			if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" || r.Header.Get("ETag") == "" {
				t.Errorf("%s: Cache-Control %q, ETag %q; want a year, immutable, with an ETag", m[1], cc, r.Header.Get("ETag"))
			}
			if r.Header.Get("RateLimit") != "" {
				t.Errorf("%s carries RateLimit %q: it was counted", m[1], r.Header.Get("RateLimit"))
			}
		}
	}
	// The page took one request of three: two more pass, the next is 429.
	want(t, c.do("GET", "/", nil), http.StatusOK, "second anonymous request")
	want(t, c.do("GET", "/", nil), http.StatusOK, "third anonymous request")
	wantProblem(t, c.do("GET", "/", nil), http.StatusTooManyRequests, "throttled", "fourth anonymous request")
}
