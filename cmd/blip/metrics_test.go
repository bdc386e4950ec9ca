package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
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

// TestMetrics_internalListener runs real servers with METRICS_ADDR and
// checks the side doors are shut: the public /metrics/ is 404 once the
// internal listener exists, the internal listener wants METRICS_TOKEN when
// one is set, and pprof is served only with PPROF=1, only there, and behind
// the same token.
func TestMetrics_internalListener(t *testing.T) {
	const token = "internal-scrape-token-0123456789abcdef"
	db := func() backend {
		return backend{env: map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/blip.db"}}
	}
	internalClient := func(addr string) *client {
		return &client{t: t, base: "http://" + addr, headers: map[string]string{}, http: &http.Client{Timeout: 30 * time.Second}}
	}
	bearer := []string{"Authorization", "Bearer " + token}

	t.Run("token set, pprof off", func(t *testing.T) {
		iaddr := freeAddr(t)
		s := startServer(t, db(), map[string]string{"METRICS_ADDR": iaddr, "METRICS_TOKEN": token})
		pub, in := s.client(), internalClient(iaddr)
		for _, path := range []string{"/metrics/", "/metrics"} {
			want(t, pub.do("GET", path, nil, bearer...), http.StatusNotFound, "public "+path+" with METRICS_ADDR set")
			want(t, pub.do("GET", path, nil), http.StatusNotFound, "public "+path+" with METRICS_ADDR set, no token")
		}
		want(t, pub.do("GET", "/debug/pprof/", nil), http.StatusNotFound, "public pprof")
		for _, path := range []string{"/metrics", "/metrics/"} {
			wantProblem(t, in.do("GET", path, nil), http.StatusUnauthorized, "not_authenticated", "internal "+path+" without the token")
			wantProblem(t, in.do("GET", path, nil, "Authorization", "Bearer wrong-"+token), http.StatusUnauthorized, "not_authenticated", "internal "+path+" with a wrong token")
			r := in.do("GET", path, nil, bearer...)
			want(t, r, http.StatusOK, "internal "+path+" with the token")
			if !strings.Contains(string(r.Body), "blip_build_info") {
				t.Errorf("internal %s: no blip_build_info in the exposition", path)
			}
		}
		want(t, in.do("GET", "/debug/pprof/", nil, bearer...), http.StatusNotFound, "pprof without PPROF=1")
		want(t, in.do("GET", "/debug/pprof/cmdline", nil, bearer...), http.StatusNotFound, "pprof cmdline without PPROF=1")
	})

	t.Run("token set, pprof on", func(t *testing.T) {
		iaddr := freeAddr(t)
		s := startServer(t, db(), map[string]string{"METRICS_ADDR": iaddr, "METRICS_TOKEN": token, "PPROF": "1"})
		pub, in := s.client(), internalClient(iaddr)
		want(t, pub.do("GET", "/debug/pprof/", nil), http.StatusNotFound, "public pprof")
		want(t, pub.do("GET", "/debug/pprof/cmdline", nil), http.StatusNotFound, "public pprof cmdline")
		wantProblem(t, in.do("GET", "/debug/pprof/", nil), http.StatusUnauthorized, "not_authenticated", "pprof without the token")
		wantProblem(t, in.do("GET", "/debug/pprof/heap", nil), http.StatusUnauthorized, "not_authenticated", "pprof heap without the token")
		want(t, in.do("GET", "/debug/pprof/", nil, bearer...), http.StatusOK, "pprof index with the token")
		want(t, in.do("GET", "/debug/pprof/heap?debug=1", nil, bearer...), http.StatusOK, "pprof heap with the token")
		want(t, in.do("GET", "/debug/pprof/cmdline", nil, bearer...), http.StatusOK, "pprof cmdline with the token")
	})

	t.Run("no token, loopback listener", func(t *testing.T) {
		iaddr := freeAddr(t)
		s := startServer(t, db(), map[string]string{"METRICS_ADDR": iaddr})
		want(t, s.client().do("GET", "/metrics/", nil), http.StatusNotFound, "public metrics with METRICS_ADDR set")
		want(t, internalClient(iaddr).do("GET", "/metrics", nil), http.StatusOK, "internal metrics, no token configured")
		want(t, internalClient(iaddr).do("GET", "/debug/pprof/", nil), http.StatusNotFound, "pprof off by default")
	})
}
