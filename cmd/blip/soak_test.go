package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/testenv"
)

// The soak test runs the server in its own process on PostgreSQL and Redis
// under a mixed workload (posts, deletes, reads, timelines, profiles,
// likes, follows, token refreshes, not-found and malformed requests, health
// checks) and checks that its resident memory and
// goroutine count are flat: a leak of either shows up as growth between a
// baseline taken after a warm-up and the end of the run. It takes minutes,
// so it runs only with BLIP_SOAK=1 (`make soak`; BLIP_SOAK_DURATION, default
// 2m, sets the length of the measured part).
//
// Readings are taken every soakSampleEvery with the load paused and idle
// connections closed, from the warm-up's end to the run's end. "Flat"
// means, comparing the last third of the readings with the first third:
//   - goroutines: the last third's maximum ≤ the first third's minimum +
//     soakGoroutineSlack;
//   - RSS: the last third's minimum ≤ the first third's minimum ×
//     (1 + soakRSSGrowth) + soakRSSSlack.
//
// RSS is compared minimum to minimum because the runtime returns freed
// memory to the system late, so single readings bounce; a leak raises the
// floor, which this comparison sees. Logins (and registrations) run only
// in the warm-up: each hashes a password with Argon2id in 19 MiB of fresh
// memory, which makes RSS swing by tens of MiB for minutes and would hide
// a leak, or fake one. The tolerances absorb the runtime's own
// variation (GC pacing, pool connections opened by a burst); a leak of one
// goroutine or a few KiB per request exceeds them within the run, since the
// workload makes tens of thousands of requests.
const (
	soakWarmup          = 20 * time.Second
	soakWorkers         = 8
	soakGoroutineSlack  = 5
	soakRSSGrowth       = 0.10
	soakRSSSlack        = 8 << 20
	soakMetricsToken    = "soak-metrics-token-0123456789abcdef"
	soakSampleEvery     = 10 * time.Second
	soakDefaultDuration = 2 * time.Minute
)

func TestSoak_memoryAndGoroutinesFlat(t *testing.T) {
	if os.Getenv("BLIP_SOAK") != "1" {
		t.Skip("BLIP_SOAK not set: the soak test takes minutes (make soak)")
	}
	duration := soakDefaultDuration
	if v := os.Getenv("BLIP_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("BLIP_SOAK_DURATION=%q: want a positive duration", v)
		}
		duration = d
	}
	pg, rd := testenv.DatabaseURL(t), testenv.RedisURL(t)
	s := startProcess(t, backend{name: "postgres+redis", env: map[string]string{
		"DATABASE_URL": freshSchema(t, pg),
		"REDIS_URL":    freshRedisDB(t, rd),
		"LOG_LEVEL":    "warn", // no access lines: the logs are kept in memory by the test
	}}, map[string]string{"METRICS_TOKEN": soakMetricsToken})

	w := newSoakWorkload(t, s)
	read := func(when string) soakReading {
		w.pause()
		defer w.resume()
		w.hc.CloseIdleConnections()
		time.Sleep(2 * time.Second) // let the server's connection goroutines end
		r := w.reading()
		t.Logf("%-9s rss %6.1f MiB  goroutines %4d  requests %7d", when, float64(r.rss)/(1<<20), r.goroutines, w.requests.Load())
		return r
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	for i := range soakWorkers {
		wg.Go(func() { w.run(ctx, i) })
	}
	time.Sleep(soakWarmup)
	readings := []soakReading{read("baseline")}
	end := time.Now().Add(duration)
	for time.Until(end) > soakSampleEvery {
		time.Sleep(soakSampleEvery)
		readings = append(readings, read("sample"))
	}
	time.Sleep(time.Until(end))
	readings = append(readings, read("end"))
	cancel()
	wg.Wait()

	third := max(len(readings)/3, 1)
	first, last := readings[:third], readings[len(readings)-third:]
	rssBase, rssEnd := minOf(first, soakReading.RSS), minOf(last, soakReading.RSS)
	gBase, gEnd := minOf(first, soakReading.Goroutines), maxOf(last, soakReading.Goroutines)
	rssLimit := int64(float64(rssBase)*(1+soakRSSGrowth)) + soakRSSSlack
	t.Logf("%d requests in %v after the warm-up; %d answered 5xx, %d failed in transport",
		w.requests.Load(), duration, w.serverErrors.Load(), w.transportErrors.Load())
	t.Logf("RSS (min of first/last third of %d readings) %.1f → %.1f MiB (limit %.1f); goroutines %d → %d (limit %d)",
		len(readings), mib(rssBase), mib(rssEnd), mib(rssLimit), gBase, gEnd, gBase+soakGoroutineSlack)
	if n := w.serverErrors.Load(); n > 0 {
		t.Errorf("%d requests answered 5xx under a workload the server should carry", n)
	}
	if n := w.transportErrors.Load(); n > 0 {
		t.Errorf("%d requests failed in transport", n)
	}
	if gEnd > gBase+soakGoroutineSlack {
		t.Errorf("goroutines grew from %d to %d: a goroutine leak (tolerance %d)", gBase, gEnd, soakGoroutineSlack)
	}
	if rssEnd > rssLimit {
		t.Errorf("RSS floor grew from %.1f to %.1f MiB, over the %.1f MiB limit: a memory leak", mib(rssBase), mib(rssEnd), mib(rssLimit))
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// minOf and maxOf return the smallest and largest f(r) of readings.
func minOf[T int | int64](readings []soakReading, f func(soakReading) T) T {
	m := f(readings[0])
	for _, r := range readings[1:] {
		m = min(m, f(r))
	}
	return m
}

func maxOf[T int | int64](readings []soakReading, f func(soakReading) T) T {
	m := f(readings[0])
	for _, r := range readings[1:] {
		m = max(m, f(r))
	}
	return m
}

// soakReading is one measurement of the server process.
type soakReading struct {
	rss        int64
	goroutines int
}

// RSS and Goroutines are the reading's fields, as functions for minOf/maxOf.
func (r soakReading) RSS() int64      { return r.rss }
func (r soakReading) Goroutines() int { return r.goroutines }

// soakWorkload drives the server with soakWorkers concurrent users.
type soakWorkload struct {
	t      *testing.T
	s      *server
	hc     *http.Client
	users  []*feedActor
	blipID string

	gate     sync.RWMutex // write-locked while a reading is taken
	requests atomic.Int64

	serverErrors, transportErrors atomic.Int64
}

func newSoakWorkload(t *testing.T, s *server) *soakWorkload {
	t.Helper()
	w := &soakWorkload{t: t, s: s, hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: soakWorkers}}}
	for range soakWorkers {
		w.users = append(w.users, newFeedActor(t, s))
	}
	w.blipID = feedPost(t, w.users[0].c, "the blip everyone likes", "")["id"].(string)
	return w
}

func (w *soakWorkload) pause()  { w.gate.Lock() }
func (w *soakWorkload) resume() { w.gate.Unlock() }

// reading scrapes the server's own gauges.
func (w *soakWorkload) reading() soakReading {
	w.t.Helper()
	r := w.s.client().do("GET", "/metrics/", nil, "Authorization", "Bearer "+soakMetricsToken)
	want(w.t, r, http.StatusOK, "metrics")
	return soakReading{
		rss:        int64(metricValue(w.t, string(r.Body), "process_resident_memory_bytes")),
		goroutines: int(metricValue(w.t, string(r.Body), "go_goroutines")),
	}
}

// send makes one request and counts failures; it returns the status and
// the decoded JSON body (nil when not an object).
func (w *soakWorkload) send(ctx context.Context, method, path, token string, body any) (int, map[string]any) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte: // sent as is, malformed on purpose
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			panic(err) // the workload's own maps always marshal
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.s.URL+path, rd)
	if err != nil {
		panic(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w.requests.Add(1)
	resp, err := w.hc.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.transportErrors.Add(1)
		}
		return 0, nil
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &m)
	if resp.StatusCode >= 500 {
		w.serverErrors.Add(1)
	}
	return resp.StatusCode, m
}

// run is one user's loop: a round of every kind of request, again and again.
func (w *soakWorkload) run(ctx context.Context, i int) {
	me, other := w.users[i], w.users[(i+1)%len(w.users)]
	access := me.access
	var refreshToken string
	if status, m := w.send(ctx, "POST", "/api/token/", "", map[string]string{"email": me.email, "password": me.password}); status == http.StatusOK {
		access, _ = m["access"].(string)
		refreshToken, _ = m["refresh"].(string)
	}
	for round := 0; ctx.Err() == nil; round++ {
		w.gate.RLock()
		_, m := w.send(ctx, "POST", "/api/v1/blips", access, map[string]string{"text": fmt.Sprintf("soak %d from %s", round, me.name)})
		if id, ok := m["id"].(string); ok {
			w.send(ctx, "GET", "/api/v1/blips/"+id, "", nil)
			if round%5 == 0 {
				w.send(ctx, "DELETE", "/api/v1/blips/"+id, access, nil)
			}
		}
		w.send(ctx, "GET", "/api/v1/blips/"+w.blipID, access, nil)
		w.send(ctx, "PUT", "/api/v1/blips/"+w.blipID+"/like", access, nil)
		w.send(ctx, "DELETE", "/api/v1/blips/"+w.blipID+"/like", access, nil)
		w.send(ctx, "PUT", "/api/v1/users/"+other.name+"/follow", access, nil)
		w.send(ctx, "GET", "/api/v1/timeline", access, nil)
		w.send(ctx, "GET", "/api/v1/users/"+other.name, "", nil)
		w.send(ctx, "DELETE", "/api/v1/users/"+other.name+"/follow", access, nil)
		w.send(ctx, "GET", "/api/v1/me", access, nil)
		w.send(ctx, "GET", "/api/v1/blips/00000000-0000-0000-0000-000000000000", "", nil) // 404
		w.send(ctx, "POST", "/api/v1/blips", access, []byte(`{"text":`))                  // 400
		w.send(ctx, "GET", "/health/", "", nil)
		if round%10 == 0 && refreshToken != "" {
			if status, m := w.send(ctx, "POST", "/api/token/refresh/", "", map[string]string{"refresh": refreshToken}); status == http.StatusOK {
				access, _ = m["access"].(string)
				refreshToken, _ = m["refresh"].(string)
			}
		}
		w.gate.RUnlock()
	}
}
