package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// End-to-end tests of cursor pagination (docs/api.md, Pagination): complete, ordered walks
// while other requests write, absolute next links, and hostile cursors and
// limits that must be 400, never 500.

// feedInserter posts blips from its own goroutine until stopped or max
// posts, recording the ids it created.
type feedInserter struct {
	mu     sync.Mutex
	ids    []string
	err    error
	posted chan struct{} // one value per post, never blocks the poster
	cancel context.CancelFunc
	done   chan struct{}
}

// startInserter posts blips as token (replies to replyTo when not "").
func startInserter(s *server, token, replyTo string, maxPosts int) *feedInserter {
	ctx, cancel := context.WithCancel(context.Background())
	in := &feedInserter{posted: make(chan struct{}, maxPosts), cancel: cancel, done: make(chan struct{})}
	hc := &http.Client{Timeout: 30 * time.Second}
	go func() {
		defer close(in.done)
		for i := 0; i < maxPosts && ctx.Err() == nil; i++ {
			req := map[string]any{"text": fmt.Sprintf("concurrent %d", i)}
			if replyTo != "" {
				req["reply_to"] = replyTo
			}
			body, _ := json.Marshal(req)
			// Not ctx: stopping the inserter must let its last post finish,
			// not turn it into an error.
			st, _, raw, err := feedRawPost(context.WithoutCancel(ctx), hc, s.URL, token, "", string(body))
			var m struct {
				ID string `json:"id"`
			}
			if err == nil && st != http.StatusCreated {
				err = fmt.Errorf("status %d: %s", st, raw)
			}
			if err == nil {
				err = json.Unmarshal(raw, &m)
			}
			in.mu.Lock()
			if err != nil {
				in.err = err
				in.mu.Unlock()
				return
			}
			in.ids = append(in.ids, m.ID)
			in.mu.Unlock()
			in.posted <- struct{}{}
		}
	}()
	return in
}

// waitPost waits until the inserter has posted once more, so every page
// of a walk is read after a fresh concurrent write.
func (in *feedInserter) waitPost(t *testing.T) {
	t.Helper()
	select {
	case <-in.posted:
	case <-in.done:
	case <-time.After(20 * time.Second):
		t.Fatal("concurrent inserter made no progress in 20s")
	}
}

// stop ends the inserter and returns the ids it created.
func (in *feedInserter) stop(t *testing.T) []string {
	t.Helper()
	in.cancel()
	<-in.done
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.err != nil {
		t.Fatalf("concurrent inserter: %v", in.err)
	}
	return slices.Clone(in.ids)
}

// walk pages through path with limit, waiting for a concurrent write
// between pages, and checks every page's shape and next link.
func walk(t *testing.T, c *client, path string, limit int, in *feedInserter) []string {
	t.Helper()
	var ids []string
	p := feedList(t, c, fmt.Sprintf("%s?limit=%d", path, limit))
	for pages := 1; ; pages++ {
		if len(p.results) > limit {
			t.Fatalf("%s: page %d has %d items, limit %d", path, pages, len(p.results), limit)
		}
		ids = append(ids, p.ids()...)
		if p.next == "" {
			return ids
		}
		if pages > 100 {
			t.Fatalf("%s: more than 100 pages", path)
		}
		u, err := url.Parse(p.next)
		if err != nil || u.Scheme != "http" || "http://"+u.Host != c.base || u.Path != path {
			t.Fatalf("%s: next %q is not an absolute URL on %s%s", path, p.next, c.base, path)
		}
		if q := u.Query(); q.Get("limit") != fmt.Sprint(limit) || q.Get("cursor") == "" {
			t.Fatalf("%s: next %q lacks limit=%d or a cursor", path, p.next, limit)
		}
		if in != nil {
			in.waitPost(t)
		}
		p = feedFollowNext(t, c, p.next)
	}
}

// wantWalk checks a walk: strictly ordered ids, each of originals exactly
// once, nothing but originals and concurrent ones.
func wantWalk(t *testing.T, got, originals, concurrent []string, newestFirst bool, what string) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if newestFirst && got[i] >= got[i-1] || !newestFirst && got[i] <= got[i-1] {
			t.Fatalf("%s: ids out of order at %d: %s then %s (newest first: %v)", what, i, got[i-1], got[i], newestFirst)
		}
	}
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for _, id := range originals {
		if seen[id] != 1 {
			t.Fatalf("%s: original %s seen %d times", what, id, seen[id])
		}
	}
	known := map[string]bool{}
	for _, id := range append(slices.Clone(originals), concurrent...) {
		known[id] = true
	}
	extra := 0
	for id := range seen {
		if !known[id] {
			t.Fatalf("%s: unexpected id %s", what, id)
		}
		if !slices.Contains(originals, id) {
			extra++
		}
	}
	t.Logf("%s: %d items, %d originals, %d concurrent ones seen", what, len(got), len(originals), extra)
}

// TestE2E_paginationUnderConcurrentWrites walks a user's blips, a timeline
// and a reply thread with limit=10 while another goroutine posts.
func TestE2E_paginationUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al, bo, cy := newFeedActor(t, s), newFeedActor(t, s), newFeedActor(t, s)
		feedDo(t, bo.c, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
		var originals []string
		for i := range 45 {
			originals = append(originals, feedPost(t, al.c, fmt.Sprintf("original %d", i), "")["id"].(string))
		}
		parent := originals[0]
		var replies []string
		for i := range 45 {
			replies = append(replies, feedPost(t, cy.c, fmt.Sprintf("reply %d", i), parent)["id"].(string))
		}
		slices.Reverse(originals) // newest first, as the lists show them

		t.Run("user blips", func(t *testing.T) {
			in := startInserter(s, al.access, "", 30)
			got := walk(t, bo.c, "/api/v1/users/"+al.name+"/blips", 10, in)
			wantWalk(t, got, originals, in.stop(t), true, "user blips")
		})
		t.Run("timeline", func(t *testing.T) {
			in := startInserter(s, al.access, "", 30)
			got := walk(t, bo.c, "/api/v1/timeline", 10, in)
			concurrent := in.stop(t)
			// The user-blips walk's inserts are al's too.
			all := feedIDs(mustAll(t, al.c, "/api/v1/users/"+al.name+"/blips"))
			wantWalk(t, got, originals, all, true, "timeline")
			if len(concurrent) == 0 {
				t.Fatal("no concurrent insert during the timeline walk")
			}
		})
		t.Run("replies oldest first", func(t *testing.T) {
			in := startInserter(s, cy.access, parent, 30)
			got := walk(t, s.client(), "/api/v1/blips/"+parent+"/replies", 10, in)
			concurrent := in.stop(t)
			wantWalk(t, got, replies, concurrent, false, "replies")
			if !slices.Equal(got[:45], replies) {
				t.Fatal("replies: the 45 originals are not first, oldest first")
			}
		})
		t.Run("limit 1 walk", func(t *testing.T) {
			got := walk(t, s.client(), "/api/v1/users/"+cy.name+"/blips", 1, nil)
			want := slices.Clone(replies)
			slices.Reverse(want)
			wantIDs(t, got[len(got)-45:], want, "limit=1 walk of cy's blips")
		})
	})
}

// mustAll returns every item of a collection.
func mustAll(t *testing.T, c *client, path string) []map[string]any {
	t.Helper()
	all, _ := feedListAll(t, c, path+"?limit=100")
	return all
}

// TestE2E_followListPagination walks follower and following lists.
func TestE2E_followListPagination(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al := newFeedActor(t, s)
		var fans []string
		for range 5 {
			f := newFeedActor(t, s)
			feedDo(t, f.c, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
			feedDo(t, al.c, "PUT", "/api/v1/users/"+f.name+"/follow", http.StatusNoContent)
			fans = append(fans, f.id)
		}
		slices.Reverse(fans) // newest follow first
		for _, list := range []string{"followers", "following"} {
			got := walk(t, al.c, "/api/v1/users/"+al.name+"/"+list, 2, nil)
			wantIDs(t, got, fans, list+" walk")
		}
		p := feedList(t, al.c, "/api/v1/users/"+al.name+"/followers?limit=2")
		c := strings.TrimPrefix(p.next, s.URL)
		r := al.c.do("GET", strings.Replace(c, "/followers", "/following", 1), nil)
		wantFieldError(t, r, "cursor", "followers cursor on following")
	})
}

// cursorOf returns the cursor parameter of a next URL.
func cursorOf(t *testing.T, next string) string {
	t.Helper()
	u, err := url.Parse(next)
	if err != nil {
		t.Fatal(err)
	}
	cur := u.Query().Get("cursor")
	if cur == "" {
		t.Fatalf("next %q has no cursor", next)
	}
	return cur
}

// flip changes the character at i to another base64url character.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// TestE2E_hostileCursorsAndLimits sends forged, edited and foreign cursors
// and bad limits: all 400 invalid, never 500.
func TestE2E_hostileCursorsAndLimits(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al, bo := newFeedActor(t, s), newFeedActor(t, s)
		feedDo(t, al.c, "PUT", "/api/v1/users/"+bo.name+"/follow", http.StatusNoContent)
		feedDo(t, bo.c, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
		var parent string
		for i := range 101 {
			id := feedPost(t, al.c, fmt.Sprintf("al %d", i), "")["id"].(string)
			if i == 0 {
				parent = id
			}
		}
		for i := range 3 {
			feedPost(t, bo.c, fmt.Sprintf("bo %d", i), parent)
		}
		alBlips := "/api/v1/users/" + al.name + "/blips"
		boBlips := "/api/v1/users/" + bo.name + "/blips"
		replies := "/api/v1/blips/" + parent + "/replies"
		next := func(c *client, path string) string {
			t.Helper()
			p := feedList(t, c, path+"?limit=2")
			return cursorOf(t, p.next)
		}
		alCur := next(al.c, alBlips)
		boCur := next(al.c, boBlips)
		tlAl := next(al.c, "/api/v1/timeline")
		tlBo := next(bo.c, "/api/v1/timeline")
		repCur := next(al.c, replies)
		// A good cursor works.
		feedList(t, al.c, alBlips+"?limit=2&cursor="+alCur)

		bad := func(c *client, path, cursor, what string) {
			t.Helper()
			r := c.do("GET", path+"?limit=2&cursor="+url.QueryEscape(cursor), nil)
			wantFieldError(t, r, "cursor", what)
		}
		for name, cur := range map[string]string{
			"garbage":          "!!!not-base64!!!",
			"short":            "AAAA",
			"long":             strings.Repeat("A", 2000),
			"NUL":              "\x00",
			"x|y":              base64.RawURLEncoding.EncodeToString([]byte("x|y")),
			"x|y padded std":   base64.StdEncoding.EncodeToString([]byte("x|y")),
			"id|scope, no MAC": base64.RawURLEncoding.EncodeToString([]byte(blip.NewID() + "|user-blips:" + al.name)),
			"id|scope, zero MAC": base64.RawURLEncoding.EncodeToString(append([]byte(blip.NewID()+"|user-blips:"+al.name),
				make([]byte, 16)...)),
			"flipped first":  flip(alCur, 0),
			"flipped middle": flip(alCur, len(alCur)/2),
			"flipped late":   flip(alCur, len(alCur)-3),
			"truncated":      alCur[:len(alCur)-4],
			"doubled":        alCur + alCur,
		} {
			bad(al.c, alBlips, cur, "cursor "+name)
		}
		bad(al.c, boBlips, alCur, "al's blips cursor on bo's blips")
		bad(al.c, alBlips, boCur, "bo's blips cursor on al's blips")
		bad(al.c, alBlips, tlAl, "timeline cursor on user blips")
		bad(al.c, "/api/v1/timeline", alCur, "user blips cursor on the timeline")
		bad(al.c, "/api/v1/timeline", tlBo, "bo's timeline cursor on al's timeline")
		bad(al.c, replies, alCur, "user blips cursor on replies")
		bad(al.c, alBlips, repCur, "replies cursor on user blips")
		bad(al.c, "/api/v1/users/"+al.name+"/followers", alCur, "user blips cursor on followers")
		bad(s.client(), alBlips, flip(alCur, 5), "flipped cursor, anonymous")

		for _, limit := range []string{"0", "-1", "abc", "1.5", "1e2", "+-3", "99999999999999999999999", "0x10", "%20"} {
			for _, path := range []string{alBlips, "/api/v1/timeline", replies, "/api/v1/users/" + al.name + "/followers"} {
				r := al.c.do("GET", path+"?limit="+limit, nil)
				wantFieldError(t, r, "limit", "limit="+limit+" on "+path)
			}
		}

		for _, tc := range []struct {
			query     string
			n         int
			nextLimit string
		}{
			{"?limit=1000", 100, "100"},
			{"?limit=100", 100, "100"},
			{"?limit=101", 100, "100"},
			{"", blip.DefaultPageLimit, fmt.Sprint(blip.DefaultPageLimit)},
			{"?limit=", blip.DefaultPageLimit, fmt.Sprint(blip.DefaultPageLimit)},
			{"?limit=7&cursor=", 7, "7"},
		} {
			p := feedList(t, al.c, alBlips+tc.query)
			if len(p.results) != tc.n {
				t.Fatalf("%s: %d results, want %d", tc.query, len(p.results), tc.n)
			}
			u, err := url.Parse(p.next)
			if err != nil || u.Query().Get("limit") != tc.nextLimit {
				t.Fatalf("%s: next %q, want limit=%s", tc.query, p.next, tc.nextLimit)
			}
			rest := feedFollowNext(t, al.c, p.next)
			if len(rest.results) == 0 {
				t.Fatalf("%s: next page empty", tc.query)
			}
		}
	})
}

// TestE2E_nextLinkHost checks that next links use the request's own host
// and ignore forwarded headers from an untrusted peer.
func TestE2E_nextLinkHost(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al := newFeedActor(t, s)
		for i := range 3 {
			feedPost(t, al.c, fmt.Sprintf("blip %d", i), "")
		}
		path := "/api/v1/users/" + al.name + "/blips?limit=1"
		get := func(host string, hdr map[string]string) string {
			t.Helper()
			req, err := http.NewRequestWithContext(t.Context(), "GET", s.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = host
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			p := decodePage(t, response{Status: resp.StatusCode, Header: resp.Header, Body: raw}, "GET with Host "+host)
			return p.next
		}
		_, port, _ := strings.Cut(s.addr, ":")
		if n := get("localhost:"+port, nil); !strings.HasPrefix(n, "http://localhost:"+port+"/api/v1/users/") {
			t.Fatalf("next %q, want it on http://localhost:%s", n, port)
		}
		n := get(s.addr, map[string]string{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "Forwarded": "host=evil.example;proto=https"})
		if !strings.HasPrefix(n, s.URL+"/api/v1/users/") {
			t.Fatalf("next %q follows forwarded headers from an untrusted peer", n)
		}
	})
}
