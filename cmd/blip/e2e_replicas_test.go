package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/testenv"
)

// Two replicas share PostgreSQL and a private Redis that the test freezes
// (SIGSTOP) while replica A deletes one blip and likes another, which B has
// cached. Once Redis answers again, B must stop serving the old entries
// within a bound, whether or not A is still alive: no cache entry
// invalidated during an outage is served stale afterwards, and nothing that
// must be consistent across replicas lives only in one process's memory.

const (
	// staleBudget bounds the stale window after Redis returns with the
	// writer alive; staleBudgetWriterDead with the writer killed during
	// the outage.
	staleBudget           = 500 * time.Millisecond
	staleBudgetWriterDead = time.Second
	// staleWatch is how long B is watched after the thaw.
	staleWatch = 4 * time.Second
)

// outageScene is two replicas, a private Redis and two blips cached on B.
type outageScene struct {
	redis          *testenv.Redis
	a, b           *server
	author         *feedActor
	deleted, liked string // blip paths
}

// newOutageScene starts replica A (in a process of its own when
// writerProcess, so that it can be killed) and replica B, posts two blips on
// A and reads them twice on B so that B serves them from Redis.
func newOutageScene(t *testing.T, writerProcess bool) *outageScene {
	t.Helper()
	pg := testenv.DatabaseURL(t)
	rd := testenv.StartRedis(t)
	b := backend{name: "postgres+private-redis", shared: true, env: map[string]string{
		"DATABASE_URL": freshSchema(t, pg),
		"REDIS_URL":    rd.URL,
		"LOG_LEVEL":    "info",
	}}
	sc := &outageScene{redis: rd}
	if writerProcess {
		sc.a = startProcess(t, b, nil)
	} else {
		sc.a = startServer(t, b, nil)
	}
	sc.b = startServer(t, b, nil)
	sc.author = newFeedActor(t, sc.a)
	sc.deleted = "/api/v1/blips/" + feedPost(t, sc.author.c, "deleted during the outage", "")["id"].(string)
	sc.liked = "/api/v1/blips/" + feedPost(t, sc.author.c, "liked during the outage", "")["id"].(string)
	anonB := sc.b.client()
	for range 2 { // the second read is a cache hit
		feedGet(t, anonB, sc.deleted)
		wantNum(t, feedGet(t, anonB, sc.liked), "like_count", 0, "warm B")
	}
	return sc
}

// writeDuringOutage freezes Redis, then deletes one blip and likes the
// other on A; both must be acknowledged.
func (sc *outageScene) writeDuringOutage(t *testing.T) {
	t.Helper()
	sc.redis.Freeze()
	feedDo(t, sc.author.c, "DELETE", sc.deleted, http.StatusNoContent)
	feedDo(t, sc.author.c, "PUT", sc.liked+"/like", http.StatusNoContent)
}

// staleWindow thaws Redis and reads both blips on B as fast as it can for
// staleWatch. It returns how long after the thaw B last served either blip
// stale (the deleted one with 200, the liked one with its old count), or 0.
func (sc *outageScene) staleWindow(t *testing.T) time.Duration {
	t.Helper()
	sc.redis.Thaw()
	thawed := time.Now()
	anonB := sc.b.client()
	anonB.http.Timeout = 5 * time.Second
	var lastStale time.Time
	reads := 0
	for time.Since(thawed) < staleWatch {
		for _, path := range []string{sc.deleted, sc.liked} {
			r := anonB.do("GET", path, nil)
			reads++
			stale := false
			switch {
			case path == sc.deleted:
				stale = r.Status != http.StatusNotFound
			case r.Status == http.StatusOK:
				stale = r.JSON(t)["like_count"] != 1.0
			default:
				t.Errorf("GET %s on B after the thaw: %d %s", path, r.Status, r.Body)
			}
			if stale {
				lastStale = time.Now()
			}
		}
	}
	if lastStale.IsZero() {
		t.Logf("stale window after Redis returned: 0 (no stale answer in %d reads over %v)", reads, staleWatch)
		return 0
	}
	w := lastStale.Sub(thawed)
	if w >= staleWatch-100*time.Millisecond {
		t.Logf("stale window after Redis returned: at least %v (still stale when the watch ended; %d reads)", staleWatch, reads)
	} else {
		t.Logf("stale window after Redis returned: %v (%d reads over %v)", w.Round(time.Millisecond), reads, staleWatch)
	}
	return w
}

// TestE2EReplicas_redisFreezeThaw: the writer stays up; its invalidations
// must land as soon as Redis answers again.
func TestE2EReplicas_redisFreezeThaw(t *testing.T) {
	sc := newOutageScene(t, false)
	sc.writeDuringOutage(t)
	// An outage long enough for every circuit breaker to cycle at least
	// once while Redis is frozen.
	time.Sleep(1500 * time.Millisecond)
	if w := sc.staleWindow(t); w > staleBudget {
		t.Errorf("replica B served stale entries for %v after Redis returned, want at most %v", w.Round(time.Millisecond), staleBudget)
	}
}

// TestE2EReplicas_writerKilledDuringOutage: the writer dies (SIGKILL)
// before Redis returns, so nothing it kept in memory can help.
func TestE2EReplicas_writerKilledDuringOutage(t *testing.T) {
	sc := newOutageScene(t, true)
	sc.writeDuringOutage(t)
	sc.a.kill()
	time.Sleep(500 * time.Millisecond)
	if w := sc.staleWindow(t); w > staleBudgetWriterDead {
		t.Errorf("replica B served stale entries for %v after Redis returned (writer killed during the outage), want at most %v",
			w.Round(time.Millisecond), staleBudgetWriterDead)
	}
}
