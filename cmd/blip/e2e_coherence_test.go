package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// End-to-end test of read-after-write across replicas (nothing
// that must be consistent across replicas lives only in one process's
// memory when Redis is configured, docs/caching.md): two servers share PostgreSQL and
// Redis; a write on A is visible on B's very next read, even when B has the
// old state cached.

// blipCacheHits returns the blip cache hit counter of a server's /metrics/.
func blipCacheHits(t *testing.T, s *server) (float64, bool) {
	t.Helper()
	r := s.client().do("GET", "/metrics/", nil)
	if r.Status != http.StatusOK {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "blip_cache_requests_total{") && strings.Contains(line, `cache="blip"`) && strings.Contains(line, `result="hit"`) {
			f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			return f, err == nil
		}
	}
	return 0, true
}

// TestE2E_cacheCoherenceAcrossReplicas writes on replica A and reads on
// replica B right after, having warmed B's view first.
func TestE2E_cacheCoherenceAcrossReplicas(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		if !b.shared {
			t.Skip("cache coherence across replicas needs a shared database and Redis: sqlite+memory is one process")
		}
		sa, sb := startServer(t, b, nil), startServer(t, b, nil)
		al, bo := newFeedActor(t, sa), newFeedActor(t, sa)
		alA, boA := al.c, bo.c
		alB, boB, anonB := al.on(sb), bo.on(sb), sb.client()

		id := feedPost(t, alA, "replicated", "")["id"].(string)
		path := "/api/v1/blips/" + id
		// readB reads the blip on B twice (the second read may be a cache
		// hit) and checks the like count and the caller's liked_by_me.
		readB := func(c *client, likes int, likedByMe any, what string) string {
			t.Helper()
			var tag string
			for range 2 {
				r := c.do("GET", path, nil)
				want(t, r, http.StatusOK, what)
				m := r.JSON(t)
				wantNum(t, m, "like_count", likes, what)
				if likedByMe != nil && m["liked_by_me"] != likedByMe {
					t.Fatalf("%s: liked_by_me %v, want %v", what, m["liked_by_me"], likedByMe)
				}
				tag = r.Header.Get("ETag")
			}
			return tag
		}
		hitsBefore, metricsOK := blipCacheHits(t, sb)

		t.Run("likes", func(t *testing.T) {
			readB(anonB, 0, nil, "warm B")
			for i := range 3 {
				tag := readB(boB, 0, false, fmt.Sprintf("round %d: before like", i))
				feedDo(t, boA, "PUT", path+"/like", http.StatusNoContent)
				readB(anonB, 1, nil, fmt.Sprintf("round %d: anonymous on B right after a like on A", i))
				readB(boB, 1, true, fmt.Sprintf("round %d: liker on B right after a like on A", i))
				want(t, boB.do("GET", path, nil, "If-None-Match", tag), http.StatusOK, "old ETag on B after a like on A")
				feedDo(t, boA, "DELETE", path+"/like", http.StatusNoContent)
				readB(anonB, 0, nil, fmt.Sprintf("round %d: anonymous on B right after an unlike on A", i))
			}
			// And the other way round.
			feedDo(t, alB, "PUT", path+"/like", http.StatusNoContent)
			r := alA.do("GET", path, nil)
			wantNum(t, r.JSON(t), "like_count", 1, "on A right after a like on B")
			feedDo(t, alB, "DELETE", path+"/like", http.StatusNoContent)
			wantNum(t, feedGet(t, alA, path), "like_count", 0, "on A right after an unlike on B")
		})

		t.Run("replies", func(t *testing.T) {
			wantNum(t, feedGet(t, anonB, path), "reply_count", 0, "warm B")
			reply := feedPost(t, boA, "a reply on A", id)["id"].(string)
			wantNum(t, feedGet(t, anonB, path), "reply_count", 1, "on B right after a reply on A")
			wantIDs(t, feedList(t, anonB, path+"/replies").ids(), []string{reply}, "B's replies")
			feedDo(t, boA, "DELETE", "/api/v1/blips/"+reply, http.StatusNoContent)
			wantNum(t, feedGet(t, anonB, path), "reply_count", 0, "on B right after the reply's delete on A")
			wantProblem(t, anonB.do("GET", "/api/v1/blips/"+reply, nil), http.StatusNotFound, "not_found", "reply on B after delete on A")
		})

		t.Run("follow and timeline", func(t *testing.T) {
			profile := func(c *client, u *feedActor) map[string]any {
				t.Helper()
				return feedGet(t, c, "/api/v1/users/"+u.name)
			}
			wantIDs(t, feedList(t, boB, "/api/v1/timeline").ids(), []string{}, "bo's timeline on B before following")
			wantNum(t, profile(anonB, al), "followers_count", 0, "warm B's profile")
			if profile(boB, al)["followed_by_me"] != any(false) {
				t.Fatal("followed_by_me before follow")
			}
			feedDo(t, boA, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
			wantNum(t, profile(anonB, al), "followers_count", 1, "al on B right after a follow on A")
			wantNum(t, profile(anonB, bo), "following_count", 1, "bo on B right after a follow on A")
			if profile(boB, al)["followed_by_me"] != any(true) {
				t.Fatal("followed_by_me false on B right after a follow on A")
			}
			wantIDs(t, feedList(t, anonB, "/api/v1/users/"+al.name+"/followers").ids(), []string{bo.id}, "al's followers on B")
			wantIDs(t, feedList(t, boB, "/api/v1/timeline").ids(), []string{id}, "bo's timeline on B right after a follow on A")

			fresh := feedPost(t, alA, "new on A", "")["id"].(string)
			wantIDs(t, feedList(t, boB, "/api/v1/timeline").ids(), []string{fresh, id}, "B's timeline right after a post on A")
			wantNum(t, profile(anonB, al), "blips_count", 2, "al's blips_count on B right after a post on A")
			feedGet(t, anonB, "/api/v1/blips/"+fresh)
			// Items of a cached timeline page carry current counts.
			feedDo(t, boA, "PUT", "/api/v1/blips/"+fresh+"/like", http.StatusNoContent)
			top := feedList(t, boB, "/api/v1/timeline").results[0]
			if top["id"] != fresh || top["like_count"] != 1.0 || top["liked_by_me"] != any(true) {
				t.Fatalf("B's timeline right after a like on A: %v", top)
			}
			feedDo(t, boA, "DELETE", "/api/v1/blips/"+fresh+"/like", http.StatusNoContent)
			wantNum(t, feedList(t, boB, "/api/v1/timeline").results[0], "like_count", 0, "B's timeline right after an unlike on A")

			feedDo(t, boA, "DELETE", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
			wantIDs(t, feedList(t, boB, "/api/v1/timeline").ids(), []string{}, "B's timeline right after an unfollow on A")
			wantNum(t, profile(anonB, al), "followers_count", 0, "al on B right after an unfollow on A")
			feedDo(t, boA, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
			wantIDs(t, feedList(t, boB, "/api/v1/timeline").ids(), []string{fresh, id}, "B's timeline after re-follow on A")
		})

		t.Run("rename", func(t *testing.T) {
			for _, name := range []string{"Renamed On A", "Again"} {
				feedGet(t, anonB, path)
				feedGet(t, anonB, path)
				feedList(t, boB, "/api/v1/timeline")
				want(t, alA.do("PATCH", "/api/v1/me", map[string]any{"name": name}), http.StatusOK, "PATCH /me on A")
				if got := feedGet(t, anonB, path)["author"].(map[string]any)["name"]; got != name {
					t.Fatalf("B shows author name %q right after a rename on A, want %q", got, name)
				}
				if got := feedList(t, boB, "/api/v1/timeline").results[0]["author"].(map[string]any)["name"]; got != name {
					t.Fatalf("B's timeline shows author name %q right after a rename on A, want %q", got, name)
				}
				if got := feedGet(t, anonB, "/api/v1/users/"+al.name)["name"]; got != name {
					t.Fatalf("B's profile shows name %q right after a rename on A, want %q", got, name)
				}
			}
		})

		t.Run("delete", func(t *testing.T) {
			tag := readB(anonB, 0, nil, "warm B before delete")
			feedDo(t, alA, "DELETE", path, http.StatusNoContent)
			wantProblem(t, anonB.do("GET", path, nil), http.StatusNotFound, "not_found", "B right after a delete on A")
			wantProblem(t, anonB.do("GET", path, nil, "If-None-Match", tag), http.StatusNotFound, "not_found", "B with the old ETag after a delete on A")
			wantProblem(t, boB.do("PUT", path+"/like", nil), http.StatusNotFound, "not_found", "like on B after a delete on A")
			wantProblem(t, anonB.do("GET", path+"/replies", nil), http.StatusNotFound, "not_found", "replies on B after a delete on A")
			for _, list := range []struct {
				c    *client
				path string
			}{{anonB, "/api/v1/users/" + al.name + "/blips"}, {boB, "/api/v1/timeline"}, {alB, "/api/v1/timeline"}} {
				for _, got := range feedList(t, list.c, list.path).ids() {
					if got == id {
						t.Fatalf("deleted blip still in %s on B", list.path)
					}
				}
			}
			wantNum(t, feedGet(t, anonB, "/api/v1/users/"+al.name), "blips_count", 1, "blips_count on B right after a delete on A")
		})

		t.Run("idempotency across replicas", func(t *testing.T) {
			body := map[string]any{"text": "posted once across replicas"}
			first := alA.do("POST", "/api/v1/blips", body, "Idempotency-Key", "cross-replica")
			want(t, first, http.StatusCreated, "POST on A")
			replay := alB.do("POST", "/api/v1/blips", body, "Idempotency-Key", "cross-replica")
			want(t, replay, http.StatusCreated, "replay on B")
			if !bytes.Equal(replay.Body, first.Body) || replay.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("replay on B differs from A's first response:\n%s\n%s", replay.Body, first.Body)
			}
			wantProblem(t, alB.do("POST", "/api/v1/blips", map[string]any{"text": "other"}, "Idempotency-Key", "cross-replica"),
				http.StatusUnprocessableEntity, "idempotency_key_reused", "reuse on B")

			before := num(t, feedGet(t, anonB, "/api/v1/users/"+al.name), "blips_count")
			const n = 10
			statuses := make([]int, n)
			bodies := make([][]byte, n)
			errs := make([]error, n)
			hc := &http.Client{}
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				base := sa.URL
				if i%2 == 1 {
					base = sb.URL
				}
				wg.Go(func() {
					<-start
					statuses[i], _, bodies[i], errs[i] = feedRawPost(t.Context(), hc, base, al.access, "cross-replica-race", `{"text":"raced across replicas"}`)
				})
			}
			close(start)
			wg.Wait()
			ids := map[string]bool{}
			for i := range n {
				switch {
				case errs[i] != nil:
					t.Fatalf("request %d: %v", i, errs[i])
				case statuses[i] == http.StatusCreated:
					ids[response{Body: bodies[i]}.JSON(t)["id"].(string)] = true
				case statuses[i] != http.StatusConflict:
					t.Fatalf("request %d: status %d: %s", i, statuses[i], bodies[i])
				}
			}
			if len(ids) != 1 {
				t.Fatalf("concurrent duplicates on two replicas gave ids %v", ids)
			}
			wantNum(t, feedGet(t, anonB, "/api/v1/users/"+al.name), "blips_count", before+1, "after racing duplicates on two replicas")
		})

		if hits, ok := blipCacheHits(t, sb); metricsOK && ok {
			if hits <= hitsBefore {
				t.Errorf("B served no blip from its cache (hits %v -> %v): this test did not exercise the cache", hitsBefore, hits)
			}
			t.Logf("B's blip cache hits: %v -> %v", hitsBefore, hits)
		} else {
			t.Log("/metrics/ not readable: cannot confirm that B's cache was exercised")
		}
	})
}
