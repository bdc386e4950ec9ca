package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/testenv"
)

// With JSON_LOGS=1 every line the server writes is a JSON object, including
// what its dependencies (go-redis, pgx, goose) would otherwise print
// themselves: log collectors parse each line, and a plain-text line is
// lost or garbles the stream. The server runs in its own process so that
// its whole stderr is checked, from migrations at start to the drain.

// logLines returns the non-empty lines of logs.
func logLines(logs string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// wantJSONLines fails for each line of logs that is not a JSON object.
func wantJSONLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	bad := 0
	for _, line := range logLines(logs) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			if bad++; bad <= 5 {
				t.Errorf("log line is not JSON: %q", line)
			}
			continue
		}
		recs = append(recs, rec)
	}
	if bad > 5 {
		t.Errorf("… and %d more plain-text lines", bad-5)
	}
	return recs
}

func TestE2ELogs_JSONOnlyWithRedisUnreachable(t *testing.T) {
	pg := testenv.DatabaseURL(t)
	// Nothing listens there: every dial to Redis fails.
	down := "redis://" + freeAddr(t) + "/0"
	s := startProcess(t, backend{name: "postgres+redis-unreachable", env: map[string]string{
		"DATABASE_URL": freshSchema(t, pg), // migrated at start (AUTO_MIGRATE=1)
		"REDIS_URL":    down,
		"LOG_LEVEL":    "debug",
	}}, nil)
	c := s.client()
	author := newFeedActor(t, s)
	id := feedPost(t, author.c, "logged in JSON", "")["id"].(string)
	// Requests that use the cache, the revocation state and the rate
	// limiter, for longer than the Redis adapter's 1 s fail-fast pause.
	deadline := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(deadline) {
		want(t, c.do("GET", "/api/v1/blips/"+id, nil), http.StatusOK, "read without Redis")
		want(t, author.c.do("GET", "/api/v1/me", nil), http.StatusOK, "me without Redis")
		feedDo(t, author.c, "PUT", "/api/v1/blips/"+id+"/like", http.StatusNoContent)
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("server stopped with: %v", err)
	}
	recs := wantJSONLines(t, s.logs.String())
	redisLines := 0
	for _, r := range recs {
		if r["logger"] == "go-redis" {
			if redisLines++; redisLines == 1 {
				t.Logf("first go-redis line: %v", r)
			}
		}
	}
	if redisLines == 0 {
		t.Errorf("no go-redis message in the logs although every dial failed: is its logger routed?\n%s", s.logs.String())
	}
}

// TestE2ELogs_outageLoggedOncePerStateChange: under load through a Redis
// outage, each kind of cache failure is logged once when it starts and once
// when it ends (with the number of failures not logged), not once per
// request; the metrics still count every failure.
func TestE2ELogs_outageLoggedOncePerStateChange(t *testing.T) {
	pg := testenv.DatabaseURL(t)
	rd := testenv.StartRedis(t)
	s := startServer(t, backend{name: "postgres+private-redis", env: map[string]string{
		"DATABASE_URL":  freshSchema(t, pg),
		"REDIS_URL":     rd.URL,
		"LOG_LEVEL":     "info",
		"METRICS_TOKEN": "scrape-token-0123456789abcdef",
	}}, nil)
	author := newFeedActor(t, s)
	id := feedPost(t, author.c, "liked through an outage", "")["id"].(string)

	// Four clients read, like and unlike as fast as they can: every request
	// reads and writes the authentication state, every like invalidates.
	hc := &http.Client{Timeout: 10 * time.Second}
	send := func(ctx context.Context, method, path string) {
		req, err := http.NewRequestWithContext(ctx, method, s.URL+path, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+author.access)
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var requests atomic.Int64
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				send(ctx, "GET", "/api/v1/blips/"+id)
				send(ctx, "PUT", "/api/v1/blips/"+id+"/like")
				send(ctx, "DELETE", "/api/v1/blips/"+id+"/like")
				requests.Add(3)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	rd.Freeze()
	time.Sleep(3 * time.Second)
	rd.Thaw()
	time.Sleep(1500 * time.Millisecond)
	cancel()
	wg.Wait()

	counts := map[string]int{}
	suppressed := map[string]float64{}
	for _, r := range wantJSONLines(t, s.logs.String()) {
		msg, _ := r["msg"].(string)
		counts[msg]++
		if n, ok := r["suppressed"].(float64); ok {
			suppressed[msg] += n
		}
	}
	t.Logf("%d requests; outage lines: %v; suppressed: %v", requests.Load(), counts, suppressed)
	for _, st := range []struct{ down, up string }{
		{"auth cache read failed", "auth cache reads work again"},
		{"auth cache write failed", "auth cache writes work again"},
		{"cache invalidation failed; every cached entry is dropped through the cache generation", "cache invalidations work again"},
	} {
		if counts[st.down] != 1 || counts[st.up] != 1 {
			t.Errorf("%q logged %d times and %q %d times during one outage, want once each",
				st.down, counts[st.down], st.up, counts[st.up])
		}
	}
	if suppressed["auth cache reads work again"] < 1 {
		t.Errorf("the recovery line counts %v suppressed auth cache read failures, want at least 1", suppressed["auth cache reads work again"])
	}

	// Every failure is still counted in the metrics.
	r := s.client().do("GET", "/metrics/", nil, "Authorization", "Bearer scrape-token-0123456789abcdef")
	want(t, r, http.StatusOK, "metrics")
	for _, series := range []string{
		`blip_cache_requests_total{cache="auth",result="error"}`,
		`blip_cache_failures_total{cache="auth",op="write"}`,
		`blip_cache_failures_total{cache="blip",op="invalidate"}`,
	} {
		n := metricValue(t, string(r.Body), series)
		t.Logf("%s %v", series, n)
		if n < 2 {
			t.Errorf("%s = %v after an outage under load, want every failure counted", series, n)
		}
	}
}

// metricValue returns the value of one series in a text exposition.
func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("series %s: %v", series, err)
			}
			return f
		}
	}
	t.Fatalf("series %s not exported", series)
	return 0
}
