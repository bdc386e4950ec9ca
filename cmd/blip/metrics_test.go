package main

import (
	"bufio"
	"io"
	"os"
	"strings"
	"testing"
)

// TestMetrics_matchMonitoring scrapes a real server and checks that every
// series monitoring/metrics.txt promises (and so every series the
// dashboards and alerts may query) is really exported.
func TestMetrics_matchMonitoring(t *testing.T) {
	s := startServer(t, backend{env: map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/blip.db"}},
		map[string]string{"METRICS_TOKEN": "scrape-token-0123456789abcdef"})
	c := s.client()
	c.do("GET", "/health/", nil) // at least one request, so the histogram has series
	anon := c.do("GET", "/metrics/", nil)
	want(t, anon, 401, "metrics without the token")
	r := c.do("GET", "/metrics/", nil, "Authorization", "Bearer scrape-token-0123456789abcdef")
	want(t, r, 200, "metrics with the token")
	exposed := map[string]bool{}
	for line := range strings.SplitSeq(string(r.Body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		exposed[name] = true
	}
	f, err := os.Open("../../monitoring/metrics.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		n++
		if !exposed[fields[0]] {
			t.Errorf("monitoring/metrics.txt lists %s, but the server does not export it", fields[0])
		}
	}
	if n < 10 {
		t.Fatalf("read only %d metric names from monitoring/metrics.txt", n)
	}
}

func TestHealthCommand(t *testing.T) {
	s := startServer(t, backend{env: map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/blip.db"}}, nil)
	env := envOf(map[string]string{"HTTP_ADDR": s.addr, "BLIP_ENV_FILE": "/nonexistent/.env"})
	var out strings.Builder
	if err := run(t.Context(), []string{"blip", "health"}, env, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatalf("blip health against a running server: %v (%s)", err, out.String())
	}
	down := envOf(map[string]string{"HTTP_ADDR": freeAddr(t), "BLIP_ENV_FILE": "/nonexistent/.env"})
	if err := run(t.Context(), []string{"blip", "health", "--live"}, down, strings.NewReader(""), io.Discard, io.Discard); err == nil {
		t.Fatal("blip health succeeded with no server listening")
	}
}
