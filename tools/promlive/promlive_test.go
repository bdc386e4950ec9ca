package promlive

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blipsocial/blip/tools/internal/livetest"
)

// scrapeInterval replaces the 15s scrape and evaluation intervals of
// monitoring/prometheus/prometheus.yml in the test's copy, so that a few
// seconds of traffic give every rate() window enough samples. Grafana's
// $__rate_interval is then max($__interval + scrape interval, 4 × scrape
// interval) = 4s with $__interval = the 1s query step.
const scrapeInterval = time.Second

// TestPrometheusEvaluatesAlertsAndPanels runs Blip (the built binary, on
// PostgreSQL and Redis) and Prometheus with the repository's configuration,
// adapted only by target addresses, file paths and the scrape interval;
// sends traffic that gives every panel something to show (errors, 429s,
// logins, refresh reuse, CSP reports, a database outage for 5xx); and then
// asks Prometheus' HTTP API that the scrape target is up, that every alert
// rule's expression parses and evaluates without error, and that every
// dashboard panel query parses and returns data.
func TestPrometheusEvaluatesAlertsAndPanels(t *testing.T) {
	promBin := os.Getenv("BLIP_TEST_PROMETHEUS")
	if promBin == "" {
		t.Skip("BLIP_TEST_PROMETHEUS (path to a prometheus binary) is not set; .ci/run sets it")
	}
	// PostgreSQL and Redis, for the pool and cache panels.
	dbURL, redisURL := livetest.Services(t)
	root := livetest.RepoRoot(t)
	dir := t.TempDir()
	began := time.Now()
	blipBin := buildBlip(t, root, dir)
	t.Logf("built blip in %s", time.Since(began).Round(time.Millisecond))

	// PostgreSQL in a schema of the test's own, reached through a proxy the
	// test can cut to cause real 5xx answers.
	db, err := url.Parse(livetest.SchemaURL(t, dbURL))
	if err != nil {
		t.Fatal(err)
	}
	pgHost := db.Host
	if db.Port() == "" {
		pgHost = net.JoinHostPort(db.Hostname(), "5432")
	}
	proxy := newCutProxy(t, pgHost)
	db.Host = proxy.Addr()

	token := livetest.RandomHex(t, 16)
	tokenFile := filepath.Join(dir, "metrics_token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	blipAddr := livetest.FreeAddr(t)
	startProcess(t, dir, "blip", blipBin, []string{"serve"}, []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"APP_ENV=production",
		"SECRET_KEY=" + livetest.RandomHex(t, 32),
		"ALLOWED_HOSTS=127.0.0.1",
		"SECURE_SSL_REDIRECT=0",
		"HTTP_ADDR=" + blipAddr,
		"DATABASE_URL=" + db.String(),
		"REDIS_URL=" + livetest.RedisDB(t, redisURL),
		"AUTO_MIGRATE=1",
		"METRICS_TOKEN=" + token,
		"THROTTLE_LOGIN=4/minute",
		"THROTTLE_ANON=6000/minute",
		"THROTTLE_USER=6000/minute",
		"LOG_LEVEL=warn",
	})
	base := "http://" + blipAddr
	livetest.WaitStatus(t, base+"/health/", http.StatusOK, 60*time.Second)
	t.Logf("blip ready (migrated) at %s", time.Since(began).Round(time.Millisecond))

	promAddr := livetest.FreeAddr(t)
	config := filepath.Join(dir, "prometheus.yml")
	rules := filepath.Join(root, "monitoring", "prometheus", "alerts.yml")
	writeAdaptedConfig(t, filepath.Join(root, "monitoring", "prometheus", "prometheus.yml"), config, map[string]string{
		`- targets: ["api:8000"]`:       fmt.Sprintf("- targets: [%q]", blipAddr),
		`- targets: ["localhost:9090"]`: fmt.Sprintf("- targets: [%q]", promAddr),
		"/run/secrets/metrics_token":    tokenFile,
		"/etc/prometheus/alerts.yml":    rules,
		"scrape_interval: 15s":          "scrape_interval: " + scrapeInterval.String(),
		"evaluation_interval: 15s":      "evaluation_interval: " + scrapeInterval.String(),
	})
	startProcess(t, dir, "prometheus", promBin, []string{
		"--config.file=" + config,
		"--storage.tsdb.path=" + filepath.Join(dir, "tsdb"),
		"--web.listen-address=" + promAddr,
		"--log.level=warn",
	}, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir})
	prom := &promAPI{t: t, base: "http://" + promAddr}
	livetest.WaitStatus(t, prom.base+"/-/ready", http.StatusOK, 30*time.Second)
	rangeStart := time.Now()
	// Traffic from the first scrape on, so that every counter has a sample
	// before its first increase.
	prom.waitScrapes(rangeStart, 1)
	t.Logf("prometheus scraping at %s", time.Since(began).Round(time.Millisecond))

	seen := generateTraffic(t, base, proxy)
	for _, status := range []int{200, 201, 204, 401, 404, 429, 503} {
		if seen[status] == 0 {
			t.Errorf("the traffic produced no %d answer (statuses seen: %v); the panels would not show it", status, seen)
		}
	}
	// A scrape and a rule evaluation after the last request.
	prom.waitScrapes(time.Now(), 1)
	t.Logf("traffic sent and scraped at %s", time.Since(began).Round(time.Millisecond))

	t.Run("target up", func(t *testing.T) {
		p := &promAPI{t: t, base: prom.base}
		for _, job := range []string{"blip", "prometheus"} {
			v := p.instant(fmt.Sprintf(`up{job=%q}`, job))
			if len(v) != 1 || v[0].Value[1] != "1" {
				t.Errorf("up{job=%q} = %+v, want one series of value 1", job, v)
			}
		}
	})

	t.Run("alert rules", func(t *testing.T) {
		p := &promAPI{t: t, base: prom.base}
		want := alertNamesInFile(t, rules)
		got := p.rules()
		var names []string
		for _, r := range got {
			names = append(names, r.Name)
			if r.Type != "alerting" {
				continue
			}
			// Health "ok" means the last evaluation ran without error; the
			// query API must also accept the expression on its own.
			if r.Health != "ok" {
				t.Errorf("alert %s: health %q, last error %q", r.Name, r.Health, r.LastError)
			}
			p.instant(r.Query)
		}
		slices.Sort(names)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("Prometheus loaded rules %v; alerts.yml defines %v", names, want)
		}
	})

	t.Run("dashboard panels", func(t *testing.T) {
		dashboards, err := filepath.Glob(filepath.Join(root, "monitoring", "grafana", "dashboards", "*.json"))
		if err != nil || len(dashboards) == 0 {
			t.Fatalf("no dashboards: %v", err)
		}
		end := time.Now()
		flat := maps.Clone(positivePanels) // panels no query of which rose above 0 yet
		for _, path := range dashboards {
			queries, vars, err := ReadDashboard(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(queries) == 0 {
				t.Fatalf("%s: no panel queries", path)
			}
			values := map[string]string{
				"__interval":      scrapeInterval.String(),
				"__interval_ms":   strconv.FormatInt(scrapeInterval.Milliseconds(), 10),
				"__rate_interval": (4 * scrapeInterval).String(),
			}
			for _, v := range vars {
				values[v.Name] = FormatVariable(v, (&promAPI{t: t, base: prom.base}).variableValues(v, blipAddr))
			}
			for _, pq := range queries {
				t.Run(filepath.Base(path)+"/"+pq.Panel+"/"+pq.RefID, func(t *testing.T) {
					expr, err := Expand(pq.Expr, values)
					if err != nil {
						t.Fatal(err)
					}
					p := &promAPI{t: t, base: prom.base}
					series := p.rangeQuery(expr, rangeStart, end, scrapeInterval)
					if !hasNumber(series) {
						t.Errorf("panel %q query %s returned no data: %q (%d series)", pq.Panel, pq.RefID, expr, len(series))
					}
					if hasPositive(series) {
						delete(flat, pq.Panel)
					}
				})
			}
		}
		for title := range flat {
			t.Errorf("panel %q: no query rose above 0 although the traffic should lift it (or no such panel: update positivePanels)", title)
		}
	})
}

// positivePanels are the panels whose lines the test's traffic must lift
// above zero (errors, 429s, logins, CSP reports), not merely draw at zero.
var positivePanels = map[string]bool{
	"Responses by status code":        true,
	"5xx ratio":                       true,
	"Rate-limit rejections by policy": true,
	"Authentication events":           true,
	"CSP reports by directive":        true,
	"Requests per second by route":    true,
	"Database pool connections":       true,
}

// generateTraffic exercises every kind of request the panels count and
// returns how many answers of each status it got.
func generateTraffic(t *testing.T, base string, proxy *cutProxy) map[int]int {
	t.Helper()
	c := &apiClient{t: t, base: base, seen: map[int]int{}}
	c.expect(http.StatusOK, "GET", "/", "", "")
	c.expect(http.StatusOK, "GET", "/health/live", "", "")
	c.expect(http.StatusOK, "GET", "/api/schema/", "", "")
	c.expect(http.StatusNotFound, "GET", "/no-such-page", "", "")

	users := []string{"ada", "bob"}
	access := map[string]string{}
	refresh := map[string]string{}
	for _, u := range users {
		c.expect(http.StatusCreated, "POST", "/api/v1/users", "",
			fmt.Sprintf(`{"email":"%s@example.com","username":"%s","password":"correct horse battery staple","name":"%s"}`, u, u, u))
		var tok struct{ Access, Refresh string }
		c.decode(c.expect(http.StatusOK, "POST", "/api/token/", "",
			fmt.Sprintf(`{"email":"%s@example.com","password":"correct horse battery staple"}`, u)), &tok)
		access[u], refresh[u] = tok.Access, tok.Refresh
	}
	c.expect(http.StatusOK, "GET", "/api/v1/me", access["ada"], "")
	var first struct{ ID string }
	for i := range 3 {
		c.decode(c.expect(http.StatusCreated, "POST", "/api/v1/blips", access["ada"], fmt.Sprintf(`{"text":"hello %d"}`, i)), &first)
	}
	c.expect(http.StatusNoContent, "PUT", "/api/v1/users/ada/follow", access["bob"], "")
	for range 3 {
		c.expect(http.StatusOK, "GET", "/api/v1/timeline", access["bob"], "")
		c.expect(http.StatusOK, "GET", "/api/v1/blips/"+first.ID, "", "")
	}
	c.expect(http.StatusNoContent, "PUT", "/api/v1/blips/"+first.ID+"/like", access["bob"], "")
	c.expect(http.StatusUnauthorized, "GET", "/api/v1/me", "not-a-token", "")

	// A refresh, then the rotated refresh token again: reuse detection.
	old := refresh["ada"]
	c.expect(http.StatusOK, "POST", "/api/token/refresh/", "", fmt.Sprintf(`{"refresh":%q}`, old))
	c.expect(http.StatusUnauthorized, "POST", "/api/token/refresh/", "", fmt.Sprintf(`{"refresh":%q}`, old))

	// Failed logins until the login throttle (4/minute) answers 429.
	for i := 0; i < 8 && c.seen[http.StatusTooManyRequests] == 0; i++ {
		c.do("POST", "/api/token/", "", `{"email":"ada@example.com","password":"wrong password"}`)
	}

	report := `{"csp-report":{"document-uri":"http://127.0.0.1/api/docs/","violated-directive":"script-src 'self'",` +
		`"effective-directive":"script-src","blocked-uri":"inline","disposition":"report"}}`
	c.send(http.StatusNoContent, "POST", "/csp-report/", "application/csp-report", report)

	// Steady reads between the bursts, as a live service has: every
	// rate() window of a panel then holds requests, cache lookups and
	// latency observations.
	reads := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			c.do("GET", "/api/v1/timeline", access["bob"], "")
			c.do("GET", "/api/v1/blips/"+first.ID, "", "")
			c.do("GET", "/health/", "", "")
		}
	}
	reads(2 * scrapeInterval)
	// The first report of a directive creates its series, which rate()
	// cannot tell from a counter that was always there: a second report
	// after a scrape is what the CSP panel shows.
	c.send(http.StatusNoContent, "POST", "/csp-report/", "application/csp-report", report)

	// A database outage over a few scrapes: readiness and reads answer 503
	// until it ends.
	proxy.setCut(true)
	reads(3 * scrapeInterval)
	proxy.setCut(false)
	livetest.WaitStatus(t, base+"/health/", http.StatusOK, 30*time.Second)
	c.expect(http.StatusOK, "GET", "/api/v1/users/ada", "", "")
	reads(3 * scrapeInterval)
	return c.seen
}

// apiClient sends requests to Blip and counts the statuses it gets.
type apiClient struct {
	t    *testing.T
	base string
	seen map[int]int
}

// send posts body with its content type and requires status want.
func (c *apiClient) send(want int, method, path, contentType, body string) []byte {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return c.round(req, want)
}

// round sends req, counts its status and, when want is not 0, requires it.
func (c *apiClient) round(req *http.Request, want int) []byte {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	c.seen[resp.StatusCode]++
	if want != 0 && resp.StatusCode != want {
		c.t.Fatalf("%s %s = %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, want, data)
	}
	return data
}

// expect sends a JSON request (with a bearer token when token is not
// empty) and fails the test unless the status is want.
func (c *apiClient) expect(want int, method, path, token, body string) []byte {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.round(req, want)
}

// do is expect without a required status.
func (c *apiClient) do(method, path, token, body string) {
	c.t.Helper()
	c.expect(0, method, path, token, body)
}

func (c *apiClient) decode(data []byte, v any) {
	c.t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		c.t.Fatalf("decode %s: %v", data, err)
	}
}

// promAPI queries Prometheus' HTTP API and fails the test on any error.
type promAPI struct {
	t    *testing.T
	base string
}

type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
	Values [][2]any          `json:"values"`
}

func (p *promAPI) get(path string, params url.Values, data any) {
	p.t.Helper()
	resp, err := http.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var env struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		p.t.Fatalf("GET %s %v: %d %s", path, params, resp.StatusCode, body)
	}
	if env.Status != "success" {
		p.t.Fatalf("GET %s %v: %s: %s: %s", path, params, env.Status, env.ErrorType, env.Error)
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		p.t.Fatalf("GET %s: data: %v", path, err)
	}
}

// instant evaluates expr now and returns its vector (a scalar is returned
// as one sample without labels).
func (p *promAPI) instant(expr string) []sample {
	p.t.Helper()
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	p.get("/api/v1/query", url.Values{"query": {expr}}, &data)
	var out []sample
	switch data.ResultType {
	case "vector":
		if err := json.Unmarshal(data.Result, &out); err != nil {
			p.t.Fatal(err)
		}
	case "scalar":
		var s sample
		if err := json.Unmarshal(data.Result, &s.Value); err != nil {
			p.t.Fatal(err)
		}
		out = []sample{s}
	default:
		p.t.Fatalf("%q: result type %q", expr, data.ResultType)
	}
	return out
}

// rangeQuery evaluates expr from start to end every step, as a Grafana
// time-series panel does.
func (p *promAPI) rangeQuery(expr string, start, end time.Time, step time.Duration) []sample {
	p.t.Helper()
	var data struct {
		Result []sample `json:"result"`
	}
	p.get("/api/v1/query_range", url.Values{
		"query": {expr},
		"start": {unix(start)},
		"end":   {unix(end)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}, &data)
	return data.Result
}

type rule struct {
	Name      string `json:"name"`
	Query     string `json:"query"`
	Type      string `json:"type"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
}

func (p *promAPI) rules() []rule {
	p.t.Helper()
	var data struct {
		Groups []struct {
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	p.get("/api/v1/rules", url.Values{}, &data)
	var out []rule
	for _, g := range data.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// variableValues answers a label_values() template variable as Grafana
// does, through the label values API, and requires the Blip target in it.
func (p *promAPI) variableValues(v Variable, target string) []string {
	p.t.Helper()
	series, label, err := ParseLabelValues(v.Query)
	if err != nil {
		p.t.Fatal(err)
	}
	var values []string
	p.get("/api/v1/label/"+label+"/values", url.Values{"match[]": {series}}, &values)
	if label == "instance" && !slices.Contains(values, target) {
		p.t.Fatalf("variable %s (%s) = %v, want it to include the blip target %s", v.Name, v.Query, values, target)
	}
	if len(values) == 0 {
		p.t.Fatalf("variable %s (%s) has no values", v.Name, v.Query)
	}
	return values
}

// waitScrapes waits until the blip target has been scraped and the rules
// evaluated n times after t0.
func (p *promAPI) waitScrapes(t0 time.Time, n int) {
	p.t.Helper()
	deadline := time.Now().Add(time.Duration(n+10) * scrapeInterval * 3)
	for count, last := 0, t0; count < n; {
		if time.Now().After(deadline) {
			p.t.Fatalf("Prometheus did not scrape blip %d times after %s", n, t0.Format(time.RFC3339Nano))
		}
		var data struct {
			ActiveTargets []struct {
				Labels     map[string]string `json:"labels"`
				Health     string            `json:"health"`
				LastError  string            `json:"lastError"`
				LastScrape time.Time         `json:"lastScrape"`
			} `json:"activeTargets"`
		}
		p.get("/api/v1/targets", url.Values{"state": {"active"}}, &data)
		for _, tg := range data.ActiveTargets {
			if tg.Labels["job"] != "blip" {
				continue
			}
			if tg.Health == "down" {
				p.t.Fatalf("blip target down: %s", tg.LastError)
			}
			if tg.LastScrape.After(last) {
				count++
				last = tg.LastScrape
			}
		}
		time.Sleep(scrapeInterval / 4)
	}
	// The rules run on the same interval: one more keeps them after t0.
	time.Sleep(scrapeInterval)
}

// hasNumber reports whether a range result holds at least one sample that
// is a number (not NaN): data a panel would draw.
func hasNumber(series []sample) bool {
	for _, s := range series {
		for _, v := range s.Values {
			str, _ := v[1].(string)
			f, err := strconv.ParseFloat(str, 64)
			if err == nil && !math.IsNaN(f) {
				return true
			}
		}
	}
	return false
}

// hasPositive reports whether a range result holds a sample above 0.
func hasPositive(series []sample) bool {
	for _, s := range series {
		for _, v := range s.Values {
			str, _ := v[1].(string)
			if f, err := strconv.ParseFloat(str, 64); err == nil && f > 0 {
				return true
			}
		}
	}
	return false
}

var alertLineRE = regexp.MustCompile(`(?m)^\s*-\s*alert:\s*["']?([A-Za-z0-9_]+)`)

// alertNamesInFile lists the alerts a rule file defines.
func alertNamesInFile(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range alertLineRE.FindAllStringSubmatch(string(data), -1) {
		names = append(names, m[1])
	}
	if len(names) == 0 {
		t.Fatalf("%s defines no alerts", path)
	}
	return names
}

// writeAdaptedConfig copies the Prometheus configuration with each key of
// repl replaced by its value, requiring each to occur exactly once: a
// change to the file that the adaptation no longer fits fails loudly.
func writeAdaptedConfig(t *testing.T, src, dst string, repl map[string]string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for old, repl := range repl {
		if n := strings.Count(text, old); n != 1 {
			t.Fatalf("%s: %q occurs %d times, want once: update the test's adaptation", src, old, n)
		}
		text = strings.Replace(text, old, repl, 1)
	}
	if err := os.WriteFile(dst, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// buildBlip builds cmd/blip into dir, as .ci/smoke.sh does.
func buildBlip(t *testing.T, root, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "blip")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/blip")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/blip: %v\n%s", err, out)
	}
	return bin
}

// startProcess starts bin with args and exactly env in dir, logging to
// dir/name.log; at cleanup it sends SIGTERM (SIGKILL after 15s) and shows
// the end of the log if the test failed.
func startProcess(t *testing.T, dir, name, bin string, args, env []string) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = logFile.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			if len(data) > 4000 {
				data = data[len(data)-4000:]
			}
			t.Logf("----- end of %s log -----\n%s", name, data)
		}
	})
}

func unix(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64)
}
