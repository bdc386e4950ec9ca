package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
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
