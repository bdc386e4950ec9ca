package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// End-to-end tests of the microblog (docs/api.md: conventions and the Blips routes): every endpoint's
// success and error paths, deletion, likes, follows, timelines,
// Idempotency-Key and ETags, on every backend.

// feedActor is a registered, logged-in user of one server.
type feedActor struct {
	name, email, password string
	id                    string
	access                string
	c                     *client // sends the user's access token
}

// newFeedActor registers and logs in a fresh user on s.
func newFeedActor(t *testing.T, s *server) *feedActor {
	t.Helper()
	userSeq.mu.Lock()
	userSeq.n++
	n := userSeq.n
	userSeq.mu.Unlock()
	// Not the harness's newUser: its password embeds the username and
	// becomes "too similar" to it once the counter has three digits.
	name := fmt.Sprintf("feed%d_%d", n, time.Now().UnixNano()%1_000_000)
	email, password := name+"@example.com", "Correct-Horse-Battery-Staple-42"
	r := s.client().do("POST", "/api/v1/users", map[string]string{"email": email, "username": name, "password": password})
	want(t, r, http.StatusCreated, "register "+name)
	return feedLogin(t, s, name, email, password)
}

// feedLogin logs an existing user in on s.
func feedLogin(t *testing.T, s *server, name, email, password string) *feedActor {
	t.Helper()
	access, _ := login(t, s.client(), email, password)
	a := &feedActor{name: name, email: email, password: password, access: access}
	a.c = a.on(s)
	r := a.c.do("GET", "/api/v1/me", nil)
	want(t, r, http.StatusOK, "GET /me of "+name)
	a.id, _ = r.JSON(t)["id"].(string)
	return a
}

// on returns a client of server s that authenticates as a.
func (a *feedActor) on(s *server) *client {
	c := s.client()
	c.token = a.access
	return c
}

// feedCLIEnv is the environment of a CLI command on the backend's database.
func feedCLIEnv(t *testing.T, b backend) map[string]string {
	env := map[string]string{
		"APP_ENV":       "test",
		"SECRET_KEY":    "e2e-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
		"AUTO_MIGRATE":  "1",
		"LOG_LEVEL":     "warn",
		"BLIP_ENV_FILE": filepath.Join(t.TempDir(), "none.env"),
	}
	for k, v := range b.env {
		env[k] = v
	}
	return env
}

// newStaffActor creates a user with role through `blip user create` on the
// server's database and logs it in.
func newStaffActor(t *testing.T, s *server, b backend, role string) *feedActor {
	t.Helper()
	userSeq.mu.Lock()
	userSeq.n++
	n := userSeq.n
	userSeq.mu.Unlock()
	name := fmt.Sprintf("%s%d_%d", role, n, time.Now().UnixNano()%1_000_000)
	email, password := name+"@example.com", "Correct-Horse-Battery-Staple-42"
	var out, errOut strings.Builder
	err := run(t.Context(), []string{"blip", "user", "create", "--email", email, "--username", name, "--role", role, "--password-stdin"},
		envOf(feedCLIEnv(t, b)), strings.NewReader(password+"\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("blip user create --role %s: %v\n%s", role, err, errOut.String())
	}
	a := feedLogin(t, s, name, email, password)
	if r := a.c.do("GET", "/api/v1/me", nil); r.JSON(t)["role"] != role {
		t.Fatalf("created user has role %v, want %s", r.JSON(t)["role"], role)
	}
	return a
}

// feedPost posts a blip and returns its representation.
func feedPost(t *testing.T, c *client, text, replyTo string) map[string]any {
	t.Helper()
	body := map[string]any{"text": text}
	if replyTo != "" {
		body["reply_to"] = replyTo
	}
	r := c.do("POST", "/api/v1/blips", body)
	want(t, r, http.StatusCreated, "POST /blips "+fmt.Sprintf("%.20q", text))
	return r.JSON(t)
}

// feedGet GETs path and wants 200 with a JSON object.
func feedGet(t *testing.T, c *client, path string) map[string]any {
	t.Helper()
	r := c.do("GET", path, nil)
	want(t, r, http.StatusOK, "GET "+path)
	return r.JSON(t)
}

// feedDo sends a request and wants status.
func feedDo(t *testing.T, c *client, method, path string, status int) {
	t.Helper()
	want(t, c.do(method, path, nil), status, method+" "+path)
}

// feedPage is one decoded cursor page.
type feedPage struct {
	results []map[string]any
	next    string // "" when null
}

func (p feedPage) ids() []string { return feedIDs(p.results) }

func feedIDs(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, m := range items {
		out[i], _ = m["id"].(string)
	}
	return out
}

// decodePage checks the page shape {"results": [...], "next": URL|null}.
func decodePage(t *testing.T, r response, what string) feedPage {
	t.Helper()
	want(t, r, http.StatusOK, what)
	m := r.JSON(t)
	if len(m) != 2 {
		t.Fatalf("%s: page has members %v, want results and next", what, keys(m))
	}
	raw, ok := m["results"].([]any)
	if !ok {
		t.Fatalf("%s: results is %T, want an array: %s", what, m["results"], r.Body)
	}
	var p feedPage
	for _, it := range raw {
		obj, ok := it.(map[string]any)
		if !ok {
			t.Fatalf("%s: result %T is not an object", what, it)
		}
		p.results = append(p.results, obj)
	}
	nextV, present := m["next"]
	if !present {
		t.Fatalf("%s: no next member", what)
	}
	if nextV != nil {
		s, ok := nextV.(string)
		if !ok || s == "" {
			t.Fatalf("%s: next is %#v, want a URL or null", what, nextV)
		}
		p.next = s
	}
	return p
}

// feedList GETs one page of a collection.
func feedList(t *testing.T, c *client, path string) feedPage {
	t.Helper()
	return decodePage(t, c.do("GET", path, nil), "GET "+path)
}

// feedFollowNext GETs the page a next URL names, checking that it is an
// absolute URL on the server's own scheme and host.
func feedFollowNext(t *testing.T, c *client, next string) feedPage {
	t.Helper()
	u, err := url.Parse(next)
	if err != nil || !u.IsAbs() || u.Scheme+"://"+u.Host != c.base {
		t.Fatalf("next %q is not an absolute URL on %s", next, c.base)
	}
	return feedList(t, c, u.RequestURI())
}

// feedListAll follows next links from path to the end and returns every
// item and the number of pages.
func feedListAll(t *testing.T, c *client, path string) ([]map[string]any, int) {
	t.Helper()
	p := feedList(t, c, path)
	all, pages := p.results, 1
	for p.next != "" {
		if pages > 1000 {
			t.Fatalf("%s: more than 1000 pages", path)
		}
		p = feedFollowNext(t, c, p.next)
		all = append(all, p.results...)
		pages++
	}
	return all, pages
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// wantFieldError wants a 400 invalid problem naming field in errors.
func wantFieldError(t *testing.T, r response, field, what string) {
	t.Helper()
	wantProblem(t, r, http.StatusBadRequest, "invalid", what)
	errs, _ := r.JSON(t)["errors"].(map[string]any)
	if msgs, ok := errs[field].([]any); !ok || len(msgs) == 0 {
		t.Fatalf("%s: errors has no %q messages: %s", what, field, r.Body)
	}
}

// wantKeys fails unless m has exactly the given members.
func wantKeys(t *testing.T, m map[string]any, what string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := keys(m); !slices.Equal(got, want) {
		t.Fatalf("%s: members %v, want %v", what, got, want)
	}
}

// num returns a JSON number member as an int.
func num(t *testing.T, m map[string]any, k string) int {
	t.Helper()
	f, ok := m[k].(float64)
	if !ok {
		t.Fatalf("member %s is %#v, want a number", k, m[k])
	}
	return int(f)
}

// wantNum fails unless the member k of m is n.
func wantNum(t *testing.T, m map[string]any, k string, n int, what string) {
	t.Helper()
	if got := num(t, m, k); got != n {
		t.Fatalf("%s: %s = %d, want %d", what, k, got, n)
	}
}

// wantIDs fails unless got equals want, in order.
func wantIDs(t *testing.T, got, want []string, what string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: ids\n  %v\nwant\n  %v", what, got, want)
	}
}

var (
	blipMembers    = []string{"id", "text", "created_at", "author", "reply_to", "like_count", "reply_count", "liked_by_me"}
	anonBlipMember = []string{"id", "text", "created_at", "author", "reply_to", "like_count", "reply_count"}
	userMembers    = []string{"id", "username", "name", "bio", "created_at", "followers_count", "following_count", "blips_count", "followed_by_me"}
	anonUserMember = []string{"id", "username", "name", "bio", "created_at", "followers_count", "following_count", "blips_count"}
)

// TestE2E_blipPost covers POST /api/v1/blips: the representation, Location,
// the text rules (1-280 characters after NFC, no control characters), reply_to and authentication.
func TestE2E_blipPost(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al := newFeedActor(t, s)
		anon := s.client()

		before := time.Now().UTC().Add(-time.Minute)
		r := al.c.do("POST", "/api/v1/blips", map[string]any{"text": "  hello, world \n"})
		want(t, r, http.StatusCreated, "POST /blips")
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("Content-Type %q", ct)
		}
		m := r.JSON(t)
		wantKeys(t, m, "created blip", blipMembers...)
		id, _ := m["id"].(string)
		if !blip.ValidID(id) || id[14] != '7' {
			t.Fatalf("id %q is not a UUIDv7", id)
		}
		if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/api/v1/blips/"+id) {
			t.Fatalf("Location %q, want .../api/v1/blips/%s", loc, id)
		}
		if m["text"] != "hello, world" {
			t.Fatalf("text %q, want trimmed %q", m["text"], "hello, world")
		}
		created, err := time.Parse(time.RFC3339Nano, fmt.Sprint(m["created_at"]))
		if err != nil || !strings.HasSuffix(fmt.Sprint(m["created_at"]), "Z") || created.Before(before) || created.After(time.Now().Add(time.Minute)) {
			t.Fatalf("created_at %v is not a current RFC 3339 UTC time (%v)", m["created_at"], err)
		}
		author, _ := m["author"].(map[string]any)
		wantKeys(t, author, "author", "id", "username", "name")
		if author["id"] != al.id || author["username"] != al.name {
			t.Fatalf("author %v, want id %s username %s", author, al.id, al.name)
		}
		if m["reply_to"] != nil || m["like_count"] != 0.0 || m["reply_count"] != 0.0 || m["liked_by_me"] != any(false) {
			t.Fatalf("new blip %v: want reply_to null, counts 0, liked_by_me false", m)
		}
		got := feedGet(t, al.c, "/api/v1/blips/"+id)
		wantKeys(t, got, "GET as author", blipMembers...)
		for _, k := range []string{"id", "text", "created_at"} {
			if got[k] != m[k] {
				t.Fatalf("GET %s = %v, POST said %v", k, got[k], m[k])
			}
		}
		wantKeys(t, feedGet(t, anon, "/api/v1/blips/"+id), "GET anonymous", anonBlipMember...)

		t.Run("text rules", func(t *testing.T) {
			long := strings.Repeat("a", 280)
			accepted := []struct{ name, in, want string }{
				{"280 ASCII", long, long},
				{"280 emoji", strings.Repeat("😀", 280), strings.Repeat("😀", 280)},
				{"NFC: e + combining acute x280", strings.Repeat("e\u0301", 280), strings.Repeat("\u00e9", 280)},
				{"newline inside", "line one\nline two", "line one\nline two"},
				{"surrounding space not counted", "  \n" + long + "\n  ", long},
				{"one character", "x", "x"},
			}
			for _, tc := range accepted {
				m := feedPost(t, al.c, tc.in, "")
				if m["text"] != tc.want {
					t.Errorf("%s: stored text %.40q, want %.40q", tc.name, m["text"], tc.want)
				}
			}
			refused := []struct{ name, in string }{
				{"empty", ""},
				{"blank", " \n  \n "},
				{"281 ASCII", long + "a"},
				{"281 emoji", strings.Repeat("😀", 281)},
				{"281 after NFC", strings.Repeat("e\u0301", 281)},
				{"NUL", "a\x00b"},
				{"tab inside", "a\tb"},
				{"carriage return inside", "a\rb"},
				{"escape", "a\x1b[31mred"},
				{"DEL", "a\x7fb"},
				{"C1 control", "a\u0085b"},
				{"right-to-left override", "pay \u202Egnp.exe"},
				{"left-to-right isolate", "a\u2066b\u2069"},
				{"zero-width only", "\u200B\u200C\u200D"},
				{"word joiner and BOM only", " \u2060\uFEFF "},
			}
			for _, tc := range refused {
				r := al.c.do("POST", "/api/v1/blips", map[string]any{"text": tc.in})
				wantFieldError(t, r, "text", tc.name)
			}
			wantFieldError(t, al.c.do("POST", "/api/v1/blips", map[string]any{}), "text", "missing text")
			wantFieldError(t, al.c.do("POST", "/api/v1/blips", map[string]any{"text": 5}), "text", "text is a number")
			wantFieldError(t, al.c.do("POST", "/api/v1/blips", map[string]any{"text": "hi", "extra": 1}), "extra", "unknown field")
			wantProblem(t, al.c.do("POST", "/api/v1/blips", []byte("{\"text\":\"a\xffb\"}")), http.StatusBadRequest, "parse_error", "invalid UTF-8")
			wantProblem(t, al.c.do("POST", "/api/v1/blips", []byte(`{"text":`)), http.StatusBadRequest, "parse_error", "truncated JSON")
			wantProblem(t, al.c.do("POST", "/api/v1/blips", nil), http.StatusUnsupportedMediaType, "unsupported_media_type", "no body, no content type")
		})

		t.Run("reply_to", func(t *testing.T) {
			reply := feedPost(t, al.c, "a reply", id)
			if reply["reply_to"] != id {
				t.Fatalf("reply_to %v, want %s", reply["reply_to"], id)
			}
			wantNum(t, feedGet(t, anon, "/api/v1/blips/"+id), "reply_count", 1, "parent after a reply")

			for _, bad := range []string{blip.NewID(), "not-an-id", strings.ToUpper(id), "123"} {
				r := al.c.do("POST", "/api/v1/blips", map[string]any{"text": "orphan", "reply_to": bad})
				wantFieldError(t, r, "reply_to", "reply_to "+bad)
			}
			wantFieldError(t, al.c.do("POST", "/api/v1/blips", map[string]any{"text": "x", "reply_to": 7}), "reply_to", "reply_to is a number")

			gone := feedPost(t, al.c, "soon deleted", "")
			feedDo(t, al.c, "DELETE", "/api/v1/blips/"+gone["id"].(string), http.StatusNoContent)
			r := al.c.do("POST", "/api/v1/blips", map[string]any{"text": "to a deleted blip", "reply_to": gone["id"]})
			wantFieldError(t, r, "reply_to", "reply to a deleted blip")

			// reply_to null is a top-level blip.
			r = al.c.do("POST", "/api/v1/blips", []byte(`{"text":"top","reply_to":null}`))
			want(t, r, http.StatusCreated, "reply_to null")
			if r.JSON(t)["reply_to"] != nil {
				t.Fatalf("reply_to null stored as %v", r.JSON(t)["reply_to"])
			}
		})

		t.Run("authentication", func(t *testing.T) {
			wantProblem(t, anon.do("POST", "/api/v1/blips", map[string]any{"text": "anon"}), http.StatusUnauthorized, "not_authenticated", "anonymous post")
			bad := s.client()
			bad.token = "not.a.jwt"
			wantProblem(t, bad.do("POST", "/api/v1/blips", map[string]any{"text": "forged"}), http.StatusUnauthorized, "token_not_valid", "garbage token")
		})
	})
}

// TestE2E_blipGetDelete covers GET and DELETE /api/v1/blips/{id} and who
// may delete (the roles of docs/api.md).
func TestE2E_blipGetDelete(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al, bo := newFeedActor(t, s), newFeedActor(t, s)
		mod := newStaffActor(t, s, b, "moderator")
		admin := newStaffActor(t, s, b, "admin")
		anon := s.client()

		for _, id := range []string{blip.NewID(), "nope", "123", "00000000-0000-0000-0000-00000000000g", strings.Repeat("a", 500)} {
			wantProblem(t, anon.do("GET", "/api/v1/blips/"+id, nil), http.StatusNotFound, "not_found", "GET unknown "+id[:min(len(id), 40)])
			wantProblem(t, al.c.do("DELETE", "/api/v1/blips/"+id, nil), http.StatusNotFound, "not_found", "DELETE unknown")
			wantProblem(t, al.c.do("GET", "/api/v1/blips/"+id+"/replies", nil), http.StatusNotFound, "not_found", "replies of unknown")
		}

		id := feedPost(t, al.c, "mine", "")["id"].(string)
		wantProblem(t, anon.do("DELETE", "/api/v1/blips/"+id, nil), http.StatusUnauthorized, "not_authenticated", "anonymous DELETE")
		wantProblem(t, bo.c.do("DELETE", "/api/v1/blips/"+id, nil), http.StatusForbidden, "permission_denied", "DELETE by another user")
		feedGet(t, anon, "/api/v1/blips/"+id)
		feedDo(t, al.c, "DELETE", "/api/v1/blips/"+id, http.StatusNoContent)
		wantProblem(t, anon.do("GET", "/api/v1/blips/"+id, nil), http.StatusNotFound, "not_found", "GET after delete")
		wantProblem(t, al.c.do("DELETE", "/api/v1/blips/"+id, nil), http.StatusNotFound, "not_found", "second DELETE")
		// Trailing slash form answers too.
		id = feedPost(t, al.c, "slash", "")["id"].(string)
		feedGet(t, anon, "/api/v1/blips/"+id+"/")
		feedDo(t, al.c, "DELETE", "/api/v1/blips/"+id+"/", http.StatusNoContent)

		for _, staff := range []*feedActor{mod, admin} {
			id := feedPost(t, bo.c, "moderated", "")["id"].(string)
			feedDo(t, staff.c, "DELETE", "/api/v1/blips/"+id, http.StatusNoContent)
			wantProblem(t, anon.do("GET", "/api/v1/blips/"+id, nil), http.StatusNotFound, "not_found", "GET after staff delete")
		}
		r := al.c.do("PATCH", "/api/v1/blips/"+blip.NewID(), map[string]any{"text": "x"})
		wantProblem(t, r, http.StatusMethodNotAllowed, "method_not_allowed", "PATCH a blip")
		if r.Header.Get("Allow") == "" {
			t.Fatal("405 without Allow")
		}
	})
}

// TestE2E_likes covers PUT/DELETE /blips/{id}/like and liked_by_me.
func TestE2E_likes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al, bo := newFeedActor(t, s), newFeedActor(t, s)
		anon := s.client()
		id := feedPost(t, al.c, "like me", "")["id"].(string)
		path := "/api/v1/blips/" + id
		likes := func(c *client, count int, likedByMe any, what string) {
			t.Helper()
			m := feedGet(t, c, path)
			wantNum(t, m, "like_count", count, what)
			if got, present := m["liked_by_me"]; likedByMe == nil && present || likedByMe != nil && got != likedByMe {
				t.Fatalf("%s: liked_by_me = %v (present %v), want %v", what, got, present, likedByMe)
			}
		}

		feedDo(t, bo.c, "PUT", path+"/like", http.StatusNoContent)
		feedDo(t, bo.c, "PUT", path+"/like", http.StatusNoContent)
		likes(bo.c, 1, true, "liked twice, as the liker")
		likes(al.c, 1, false, "as the author")
		likes(anon, 1, nil, "anonymous")
		feedDo(t, al.c, "PUT", path+"/like", http.StatusNoContent)
		likes(al.c, 2, true, "two likers")
		// Lists show the caller's liked_by_me too.
		p := feedList(t, bo.c, "/api/v1/users/"+al.name+"/blips")
		if len(p.results) != 1 || p.results[0]["liked_by_me"] != any(true) || p.results[0]["like_count"] != 2.0 {
			t.Fatalf("user blips as liker: %v", p.results)
		}
		if _, present := feedList(t, anon, "/api/v1/users/"+al.name+"/blips").results[0]["liked_by_me"]; present {
			t.Fatal("anonymous list has liked_by_me")
		}

		feedDo(t, bo.c, "DELETE", path+"/like", http.StatusNoContent)
		feedDo(t, bo.c, "DELETE", path+"/like", http.StatusNoContent)
		likes(bo.c, 1, false, "unliked twice")
		feedDo(t, al.c, "DELETE", path+"/like", http.StatusNoContent)
		likes(anon, 0, nil, "all unliked")

		wantProblem(t, anon.do("PUT", path+"/like", nil), http.StatusUnauthorized, "not_authenticated", "anonymous like")
		wantProblem(t, anon.do("DELETE", path+"/like", nil), http.StatusUnauthorized, "not_authenticated", "anonymous unlike")
		for _, bad := range []string{blip.NewID(), "nope"} {
			wantProblem(t, bo.c.do("PUT", "/api/v1/blips/"+bad+"/like", nil), http.StatusNotFound, "not_found", "like unknown")
			wantProblem(t, bo.c.do("DELETE", "/api/v1/blips/"+bad+"/like", nil), http.StatusNotFound, "not_found", "unlike unknown")
		}
		r := bo.c.do("POST", path+"/like", nil)
		wantProblem(t, r, http.StatusMethodNotAllowed, "method_not_allowed", "POST like")
	})
}

// TestE2E_followsAndProfiles covers follows, profiles and follower lists.
func TestE2E_followsAndProfiles(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al, bo, cy := newFeedActor(t, s), newFeedActor(t, s), newFeedActor(t, s)
		anon := s.client()
		profile := func(c *client, u *feedActor) map[string]any {
			t.Helper()
			return feedGet(t, c, "/api/v1/users/"+u.name)
		}
		counts := func(u *feedActor, followers, following, blips int, what string) {
			t.Helper()
			m := profile(anon, u)
			wantNum(t, m, "followers_count", followers, what+": "+u.name)
			wantNum(t, m, "following_count", following, what+": "+u.name)
			wantNum(t, m, "blips_count", blips, what+": "+u.name)
		}

		m := profile(anon, al)
		wantKeys(t, m, "anonymous profile", anonUserMember...)
		if m["id"] != al.id || m["username"] != al.name {
			t.Fatalf("profile %v", m)
		}
		if _, present := m["email"]; present {
			t.Fatal("public profile shows the email")
		}
		m = profile(bo.c, al)
		wantKeys(t, m, "authenticated profile", userMembers...)
		if m["followed_by_me"] != any(false) {
			t.Fatalf("followed_by_me %v before following", m["followed_by_me"])
		}
		counts(al, 0, 0, 0, "fresh")
		wantProblem(t, anon.do("GET", "/api/v1/users/nobody_here_at_all", nil), http.StatusNotFound, "not_found", "unknown profile")
		wantProblem(t, anon.do("GET", "/api/v1/users/x", nil), http.StatusNotFound, "not_found", "malformed username")
		// Usernames match case-insensitively.
		feedGet(t, anon, "/api/v1/users/"+strings.ToUpper(al.name))

		t.Run("follow", func(t *testing.T) {
			feedDo(t, bo.c, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
			feedDo(t, bo.c, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
			counts(al, 1, 0, 0, "followed twice")
			counts(bo, 0, 1, 0, "followed twice")
			if profile(bo.c, al)["followed_by_me"] != any(true) {
				t.Fatal("followed_by_me false after follow")
			}
			if profile(cy.c, al)["followed_by_me"] != any(false) {
				t.Fatal("followed_by_me true for a non-follower")
			}
			feedDo(t, cy.c, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
			counts(al, 2, 0, 0, "two followers")

			// Followers newest follow first, followed_by_me as the caller sees it.
			p := feedList(t, anon, "/api/v1/users/"+al.name+"/followers")
			wantIDs(t, p.ids(), []string{cy.id, bo.id}, "followers of al")
			wantKeys(t, p.results[0], "anonymous follower item", anonUserMember...)
			if p.next != "" {
				t.Fatalf("next %q on a short list", p.next)
			}
			p = feedList(t, cy.c, "/api/v1/users/"+al.name+"/followers")
			wantKeys(t, p.results[0], "follower item", userMembers...)
			if p.results[0]["followed_by_me"] != any(false) || p.results[1]["followed_by_me"] != any(false) {
				t.Fatalf("followers as cy: %v", p.results)
			}
			feedDo(t, cy.c, "PUT", "/api/v1/users/"+bo.name+"/follow", http.StatusNoContent)
			p = feedList(t, cy.c, "/api/v1/users/"+al.name+"/followers")
			if p.results[1]["id"] != bo.id || p.results[1]["followed_by_me"] != any(true) {
				t.Fatalf("followers as cy after cy follows bo: %v", p.results)
			}
			p = feedList(t, cy.c, "/api/v1/users/"+cy.name+"/following")
			wantIDs(t, p.ids(), []string{bo.id, al.id}, "cy following")
			if p.results[0]["followed_by_me"] != any(true) || p.results[1]["followed_by_me"] != any(true) {
				t.Fatalf("own following list: %v", p.results)
			}
			wantNum(t, p.results[0], "followers_count", 1, "bo in cy's following")
			p = feedList(t, anon, "/api/v1/users/"+bo.name+"/following")
			wantIDs(t, p.ids(), []string{al.id}, "bo following")
			p = feedList(t, anon, "/api/v1/users/"+cy.name+"/followers")
			wantIDs(t, p.ids(), []string{}, "cy followers")
			wantProblem(t, anon.do("GET", "/api/v1/users/nobody_here_at_all/followers", nil), http.StatusNotFound, "not_found", "followers of unknown")
			wantProblem(t, anon.do("GET", "/api/v1/users/nobody_here_at_all/following", nil), http.StatusNotFound, "not_found", "following of unknown")
		})

		t.Run("unfollow", func(t *testing.T) {
			feedDo(t, bo.c, "DELETE", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
			feedDo(t, bo.c, "DELETE", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
			counts(al, 1, 0, 0, "unfollowed twice")
			counts(bo, 1, 0, 0, "unfollowed twice")
			if profile(bo.c, al)["followed_by_me"] != any(false) {
				t.Fatal("followed_by_me true after unfollow")
			}
			wantIDs(t, feedList(t, anon, "/api/v1/users/"+al.name+"/followers").ids(), []string{cy.id}, "followers after unfollow")
			// Unfollowing someone never followed is a no-op too.
			feedDo(t, al.c, "DELETE", "/api/v1/users/"+cy.name+"/follow", http.StatusNoContent)
			counts(cy, 0, 2, 0, "no-op unfollow")
		})

		t.Run("errors", func(t *testing.T) {
			wantFieldError(t, al.c.do("PUT", "/api/v1/users/"+al.name+"/follow", nil), "username", "self-follow")
			wantFieldError(t, al.c.do("PUT", "/api/v1/users/"+strings.ToUpper(al.name)+"/follow", nil), "username", "self-follow, other case")
			wantProblem(t, al.c.do("PUT", "/api/v1/users/nobody_here_at_all/follow", nil), http.StatusNotFound, "not_found", "follow unknown")
			wantProblem(t, al.c.do("DELETE", "/api/v1/users/nobody_here_at_all/follow", nil), http.StatusNotFound, "not_found", "unfollow unknown")
			wantProblem(t, al.c.do("PUT", "/api/v1/users/a%20b/follow", nil), http.StatusNotFound, "not_found", "follow malformed")
			wantProblem(t, anon.do("PUT", "/api/v1/users/"+al.name+"/follow", nil), http.StatusUnauthorized, "not_authenticated", "anonymous follow")
			wantProblem(t, anon.do("DELETE", "/api/v1/users/"+al.name+"/follow", nil), http.StatusUnauthorized, "not_authenticated", "anonymous unfollow")
			counts(al, 1, 0, 0, "after refused follows")
		})

		t.Run("blips", func(t *testing.T) {
			var posted []string
			for i := range 3 {
				posted = append(posted, feedPost(t, al.c, fmt.Sprintf("blip %d", i), "")["id"].(string))
			}
			counts(al, 1, 0, 3, "after 3 posts")
			reply := feedPost(t, al.c, "reply", posted[0])["id"].(string)
			counts(al, 1, 0, 4, "after a reply")
			feedDo(t, al.c, "DELETE", "/api/v1/blips/"+posted[1], http.StatusNoContent)
			counts(al, 1, 0, 3, "after a delete")
			p := feedList(t, anon, "/api/v1/users/"+al.name+"/blips")
			wantIDs(t, p.ids(), []string{reply, posted[2], posted[0]}, "user blips newest first")
			wantKeys(t, p.results[0], "anonymous list item", anonBlipMember...)
			wantKeys(t, feedList(t, bo.c, "/api/v1/users/"+al.name+"/blips").results[0], "list item", blipMembers...)
			wantIDs(t, feedList(t, anon, "/api/v1/users/"+bo.name+"/blips").ids(), []string{}, "no blips")
			wantProblem(t, anon.do("GET", "/api/v1/users/nobody_here_at_all/blips", nil), http.StatusNotFound, "not_found", "blips of unknown")
		})
	})
}

// TestE2E_timeline covers GET /api/v1/timeline: own and followed
// blips newest first, earlier blips after a follow, new blips on the very
// next read, and none after an unfollow.
func TestE2E_timeline(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al, bo, cy := newFeedActor(t, s), newFeedActor(t, s), newFeedActor(t, s)
		timeline := func() []string {
			t.Helper()
			return feedList(t, bo.c, "/api/v1/timeline").ids()
		}

		wantIDs(t, timeline(), []string{}, "empty timeline")
		a1 := feedPost(t, al.c, "al 1", "")["id"].(string)
		a2 := feedPost(t, al.c, "al 2", "")["id"].(string)
		b1 := feedPost(t, bo.c, "bo 1", "")["id"].(string)
		c1 := feedPost(t, cy.c, "cy 1", "")["id"].(string)
		wantIDs(t, timeline(), []string{b1}, "own blips only")

		feedDo(t, bo.c, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
		wantIDs(t, timeline(), []string{b1, a2, a1}, "after follow: the followee's earlier blips")

		a3 := feedPost(t, al.c, "al 3", "")["id"].(string)
		wantIDs(t, timeline(), []string{a3, b1, a2, a1}, "a new blip of a followee on the very next read")
		r := feedPost(t, al.c, "al reply to cy", c1)["id"].(string)
		wantIDs(t, timeline(), []string{r, a3, b1, a2, a1}, "a followee's reply")

		feedDo(t, bo.c, "PUT", "/api/v1/users/"+cy.name+"/follow", http.StatusNoContent)
		wantIDs(t, timeline(), []string{r, a3, c1, b1, a2, a1}, "after a second follow")
		feedDo(t, bo.c, "DELETE", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
		wantIDs(t, timeline(), []string{c1, b1}, "after unfollow the blips disappear")
		feedDo(t, bo.c, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
		wantIDs(t, timeline(), []string{r, a3, c1, b1, a2, a1}, "after re-follow")

		// Others' timelines are their own.
		wantIDs(t, feedList(t, al.c, "/api/v1/timeline").ids(), []string{r, a3, a2, a1}, "al's timeline")
		wantKeys(t, feedList(t, bo.c, "/api/v1/timeline").results[0], "timeline item", blipMembers...)

		wantProblem(t, s.client().do("GET", "/api/v1/timeline", nil), http.StatusUnauthorized, "not_authenticated", "anonymous timeline")
	})
}

// TestE2E_deletionHidesEverywhere checks that a deleted blip is gone from every
// read and timeline, and the counts a deletion must fix.
func TestE2E_deletionHidesEverywhere(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al, bo := newFeedActor(t, s), newFeedActor(t, s)
		anon := s.client()
		feedDo(t, bo.c, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)

		parent := feedPost(t, al.c, "parent", "")["id"].(string)
		keep := feedPost(t, al.c, "kept reply", parent)["id"].(string)
		doomedReply := feedPost(t, al.c, "doomed reply", parent)["id"].(string)
		doomed := feedPost(t, al.c, "doomed", "")["id"].(string)
		feedDo(t, bo.c, "PUT", "/api/v1/blips/"+doomed+"/like", http.StatusNoContent)
		// Warm every read path (and any cache) before deleting.
		wantNum(t, feedGet(t, anon, "/api/v1/blips/"+parent), "reply_count", 2, "parent before")
		wantNum(t, feedGet(t, anon, "/api/v1/users/"+al.name), "blips_count", 4, "al before")
		feedGet(t, anon, "/api/v1/blips/"+doomed)
		feedGet(t, anon, "/api/v1/blips/"+doomedReply)
		wantIDs(t, feedList(t, bo.c, "/api/v1/timeline").ids(), []string{doomed, doomedReply, keep, parent}, "timeline before")

		feedDo(t, al.c, "DELETE", "/api/v1/blips/"+doomedReply, http.StatusNoContent)
		feedDo(t, al.c, "DELETE", "/api/v1/blips/"+doomed, http.StatusNoContent)

		for _, id := range []string{doomed, doomedReply} {
			wantProblem(t, anon.do("GET", "/api/v1/blips/"+id, nil), http.StatusNotFound, "not_found", "GET deleted")
			wantProblem(t, bo.c.do("GET", "/api/v1/blips/"+id, nil), http.StatusNotFound, "not_found", "GET deleted, authenticated")
			wantProblem(t, bo.c.do("PUT", "/api/v1/blips/"+id+"/like", nil), http.StatusNotFound, "not_found", "like deleted")
			wantProblem(t, bo.c.do("DELETE", "/api/v1/blips/"+id+"/like", nil), http.StatusNotFound, "not_found", "unlike deleted")
			wantProblem(t, anon.do("GET", "/api/v1/blips/"+id+"/replies", nil), http.StatusNotFound, "not_found", "replies of deleted")
			wantFieldError(t, bo.c.do("POST", "/api/v1/blips", map[string]any{"text": "late reply", "reply_to": id}), "reply_to", "reply to deleted")
		}
		wantIDs(t, feedList(t, anon, "/api/v1/users/"+al.name+"/blips").ids(), []string{keep, parent}, "user blips after delete")
		wantIDs(t, feedList(t, bo.c, "/api/v1/timeline").ids(), []string{keep, parent}, "follower's timeline after delete")
		wantIDs(t, feedList(t, al.c, "/api/v1/timeline").ids(), []string{keep, parent}, "author's timeline after delete")
		wantIDs(t, feedList(t, anon, "/api/v1/blips/"+parent+"/replies").ids(), []string{keep}, "parent's replies after delete")
		wantNum(t, feedGet(t, anon, "/api/v1/blips/"+parent), "reply_count", 1, "parent's reply_count after delete")
		wantNum(t, feedGet(t, anon, "/api/v1/users/"+al.name), "blips_count", 2, "author's blips_count after delete")

		// Deleting a parent hides it; its surviving reply still stands alone.
		feedDo(t, al.c, "DELETE", "/api/v1/blips/"+parent, http.StatusNoContent)
		wantProblem(t, anon.do("GET", "/api/v1/blips/"+parent+"/replies", nil), http.StatusNotFound, "not_found", "replies of deleted parent")
		wantIDs(t, feedList(t, bo.c, "/api/v1/timeline").ids(), []string{keep}, "timeline after parent delete")
		wantNum(t, feedGet(t, anon, "/api/v1/users/"+al.name), "blips_count", 1, "blips_count after parent delete")
	})
}

// feedRawPost posts a blip from any goroutine (the client helpers call
// t.Fatal, which only the test goroutine may).
func feedRawPost(ctx context.Context, hc *http.Client, base, token, key, body string) (status int, hdr http.Header, raw []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/blips", strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw, err
}

// TestE2E_idempotencyKey covers Idempotency-Key on POST /api/v1/blips:
// replay, after a restart too, reuse with another body, per-user
// keys and concurrent duplicates.
func TestE2E_idempotencyKey(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al, bo := newFeedActor(t, s), newFeedActor(t, s)
		blipsCount := func(c *client, u *feedActor) int {
			t.Helper()
			return num(t, feedGet(t, c, "/api/v1/users/"+u.name), "blips_count")
		}
		const key = "retry-me-0001"
		body := map[string]any{"text": "exactly once"}

		first := al.c.do("POST", "/api/v1/blips", body, "Idempotency-Key", key)
		want(t, first, http.StatusCreated, "first POST")
		id := first.JSON(t)["id"].(string)
		replay := al.c.do("POST", "/api/v1/blips", body, "Idempotency-Key", key)
		want(t, replay, http.StatusCreated, "replayed POST")
		if !bytes.Equal(replay.Body, first.Body) {
			t.Fatalf("replay body differs:\n%s\nfirst:\n%s", replay.Body, first.Body)
		}
		if got := replay.Header.Get("Idempotent-Replayed"); got != "true" {
			t.Fatalf("Idempotent-Replayed %q on a replay", got)
		}
		if first.Header.Get("Idempotent-Replayed") != "" {
			t.Fatal("Idempotent-Replayed on the first response")
		}
		if replay.Header.Get("Location") != first.Header.Get("Location") {
			t.Fatalf("replay Location %q, first %q", replay.Header.Get("Location"), first.Header.Get("Location"))
		}
		// The same meaning in other JSON bytes is the same request.
		reordered := al.c.do("POST", "/api/v1/blips", []byte(`{ "reply_to" : null, "text" : "exactly once" }`), "Idempotency-Key", key)
		want(t, reordered, http.StatusCreated, "re-serialised retry")
		if !bytes.Equal(reordered.Body, first.Body) {
			t.Fatalf("re-serialised retry body differs:\n%s", reordered.Body)
		}
		if n := blipsCount(al.c, al); n != 1 {
			t.Fatalf("blips_count %d after three POSTs with one key, want 1", n)
		}
		wantIDs(t, feedList(t, al.c, "/api/v1/users/"+al.name+"/blips").ids(), []string{id}, "user blips after replays")

		r := al.c.do("POST", "/api/v1/blips", map[string]any{"text": "something else"}, "Idempotency-Key", key)
		wantProblem(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "same key, different text")
		r = al.c.do("POST", "/api/v1/blips", map[string]any{"text": "exactly once", "reply_to": id}, "Idempotency-Key", key)
		wantProblem(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "same key, different reply_to")

		theirs := bo.c.do("POST", "/api/v1/blips", body, "Idempotency-Key", key)
		want(t, theirs, http.StatusCreated, "another user's POST with the same key")
		if theirs.JSON(t)["id"] == id || theirs.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("another user's key replayed al's blip: %s", theirs.Body)
		}
		if n := blipsCount(al.c, bo); n != 1 {
			t.Fatalf("bo's blips_count %d, want 1", n)
		}
		// A key without one is a plain post; a malformed key is refused.
		feedPost(t, bo.c, "exactly once", "")
		long := strings.Repeat("k", 256)
		for _, bad := range []string{long, "has space", "tab\there", "é"} {
			wantFieldError(t, bo.c.do("POST", "/api/v1/blips", body, "Idempotency-Key", bad), "Idempotency-Key", "key "+bad[:min(len(bad), 12)])
		}
		if n := blipsCount(al.c, bo); n != 2 {
			t.Fatalf("bo's blips_count %d after refused keys, want 2", n)
		}
		// A like after the first response does not change the replay.
		feedDo(t, bo.c, "PUT", "/api/v1/blips/"+id+"/like", http.StatusNoContent)

		// After a restart on the same database and SECRET_KEY.
		{
			if err := s.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			s = startServer(t, b, nil)
			c := al.on(s)
			r := c.do("POST", "/api/v1/blips", body, "Idempotency-Key", key)
			want(t, r, http.StatusCreated, "replay after restart")
			if !bytes.Equal(r.Body, first.Body) {
				t.Fatalf("replay after restart differs:\n%s\nfirst:\n%s", r.Body, first.Body)
			}
			if r.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatal("no Idempotent-Replayed after restart")
			}
			wantProblem(t, c.do("POST", "/api/v1/blips", map[string]any{"text": "other"}, "Idempotency-Key", key),
				http.StatusUnprocessableEntity, "idempotency_key_reused", "reuse after restart")
			if n := blipsCount(c, al); n != 1 {
				t.Fatalf("blips_count %d after restart replay, want 1", n)
			}
		}

		t.Run("concurrent duplicates", func(t *testing.T) {
			const n = 10
			c := al.on(s)
			before := blipsCount(c, al)
			type result struct {
				status int
				hdr    http.Header
				body   []byte
				err    error
			}
			results := make([]result, n)
			hc := &http.Client{Timeout: 30 * time.Second}
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					st, hdr, raw, err := feedRawPost(t.Context(), hc, s.URL, al.access, "concurrent-key", `{"text":"raced"}`)
					results[i] = result{st, hdr, raw, err}
				})
			}
			close(start)
			wg.Wait()
			ids := map[string]int{}
			conflicts := 0
			for i, r := range results {
				switch {
				case r.err != nil:
					t.Fatalf("request %d: %v", i, r.err)
				case r.status == http.StatusCreated:
					m := response{Status: r.status, Body: r.body}.JSON(t)
					ids[m["id"].(string)]++
				case r.status == http.StatusConflict:
					wantProblem(t, response{Status: r.status, Header: r.hdr, Body: r.body}, http.StatusConflict, "conflict", "loser")
					conflicts++
				default:
					t.Fatalf("request %d: status %d, want 201 or 409: %s", i, r.status, r.body)
				}
			}
			if len(ids) != 1 {
				t.Fatalf("concurrent duplicates answered with %d different ids: %v", len(ids), ids)
			}
			if after := blipsCount(c, al); after != before+1 {
				t.Fatalf("blips_count %d -> %d after %d concurrent duplicates, want +1", before, after, n)
			}
			t.Logf("%d concurrent duplicates: %v created/replayed, %d conflicts", n, ids, conflicts)
		})
	})
}

// TestE2E_etags covers ETag and If-None-Match on single-resource GETs.
func TestE2E_etags(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al, bo := newFeedActor(t, s), newFeedActor(t, s)
		anon := s.client()
		id := feedPost(t, al.c, "tagged", "")["id"].(string)

		check := func(c *client, path string, change func(), what string) {
			t.Helper()
			r := c.do("GET", path, nil)
			want(t, r, http.StatusOK, what)
			tag := r.Header.Get("ETag")
			if tag == "" || !strings.HasPrefix(strings.TrimPrefix(tag, "W/"), `"`) {
				t.Fatalf("%s: ETag %q", what, tag)
			}
			for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
				nm := c.do("GET", path, nil, "If-None-Match", inm)
				want(t, nm, http.StatusNotModified, what+" If-None-Match "+inm)
				if len(nm.Body) != 0 {
					t.Fatalf("%s: 304 with a body: %q", what, nm.Body)
				}
				if nm.Header.Get("ETag") != tag {
					t.Fatalf("%s: 304 ETag %q, want %q", what, nm.Header.Get("ETag"), tag)
				}
			}
			want(t, c.do("GET", path, nil, "If-None-Match", `"stale"`), http.StatusOK, what+" other tag")
			again := c.do("GET", path, nil)
			if again.Header.Get("ETag") != tag {
				t.Fatalf("%s: ETag unstable: %q then %q", what, tag, again.Header.Get("ETag"))
			}
			change()
			r = c.do("GET", path, nil, "If-None-Match", tag)
			want(t, r, http.StatusOK, what+" old tag after a change")
			if nt := r.Header.Get("ETag"); nt == "" || nt == tag {
				t.Fatalf("%s: ETag %q after a change, was %q", what, nt, tag)
			}
		}
		like := func() { feedDo(t, bo.c, "PUT", "/api/v1/blips/"+id+"/like", http.StatusNoContent) }
		unlike := func() { feedDo(t, bo.c, "DELETE", "/api/v1/blips/"+id+"/like", http.StatusNoContent) }
		check(anon, "/api/v1/blips/"+id, like, "blip, anonymous")
		check(bo.c, "/api/v1/blips/"+id, unlike, "blip, as the liker")
		check(al.c, "/api/v1/blips/"+id, func() { feedPost(t, bo.c, "a reply", id) }, "blip, after a reply")
		follow := func() { feedDo(t, bo.c, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent) }
		check(anon, "/api/v1/users/"+al.name, follow, "profile, anonymous")
		check(bo.c, "/api/v1/users/"+al.name, func() {
			feedDo(t, bo.c, "DELETE", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
		}, "profile, as the follower")
		check(anon, "/api/v1/users/"+al.name, func() { feedPost(t, al.c, "more", "") }, "profile, after a post")

		// The representation depends on the caller, so the tag does too.
		ta := anon.do("GET", "/api/v1/blips/"+id, nil).Header.Get("ETag")
		tb := bo.c.do("GET", "/api/v1/blips/"+id, nil)
		if tb.Header.Get("ETag") == ta {
			t.Fatal("anonymous and authenticated representations share an ETag")
		}
		if v := strings.Join(tb.Header.Values("Vary"), ","); !strings.Contains(v, "Authorization") {
			t.Fatalf("Vary %q does not name Authorization", v)
		}
		// A 404 carries no ETag.
		r := anon.do("GET", "/api/v1/blips/"+blip.NewID(), nil, "If-None-Match", "*")
		wantProblem(t, r, http.StatusNotFound, "not_found", "If-None-Match * on a missing blip")
	})
}

// feedRaw sends a bodiless request from any goroutine and returns its status.
func feedRaw(ctx context.Context, hc *http.Client, method, url, token string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// feedConcurrently sends n copies of a request at once and returns the
// number of answers per status.
func feedConcurrently(t *testing.T, n int, method, url, token string) map[int]int {
	t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second}
	statuses := make([]int, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			statuses[i], errs[i] = feedRaw(t.Context(), hc, method, url, token)
		})
	}
	close(start)
	wg.Wait()
	out := map[int]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("%s %s: %v", method, url, errs[i])
		}
		out[statuses[i]]++
	}
	return out
}

// TestE2E_concurrentWritesKeepCounts races idempotent writes and deletes
// and checks that the counts they maintain stay exact.
func TestE2E_concurrentWritesKeepCounts(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al, bo, cy := newFeedActor(t, s), newFeedActor(t, s), newFeedActor(t, s)
		anon := s.client()
		id := feedPost(t, al.c, "raced", "")["id"].(string)
		blipURL := s.URL + "/api/v1/blips/" + id
		only := func(got map[int]int, status, n int, what string) {
			t.Helper()
			if got[status] != n || len(got) != 1 {
				t.Fatalf("%s: statuses %v, want %d x %d", what, got, n, status)
			}
		}

		only(feedConcurrently(t, 10, "PUT", blipURL+"/like", bo.access), 204, 10, "10 concurrent likes")
		wantNum(t, feedGet(t, anon, "/api/v1/blips/"+id), "like_count", 1, "after 10 concurrent likes by one user")
		only(feedConcurrently(t, 10, "DELETE", blipURL+"/like", bo.access), 204, 10, "10 concurrent unlikes")
		wantNum(t, feedGet(t, anon, "/api/v1/blips/"+id), "like_count", 0, "after 10 concurrent unlikes")

		var wg sync.WaitGroup
		results := make([]map[int]int, 3)
		for i, u := range []*feedActor{al, bo, cy} {
			wg.Go(func() {
				hc := &http.Client{Timeout: 30 * time.Second}
				m := map[int]int{}
				for range 3 {
					st, err := feedRaw(t.Context(), hc, "PUT", blipURL+"/like", u.access)
					if err != nil {
						st = -1
					}
					m[st]++
				}
				results[i] = m
			})
		}
		wg.Wait()
		for i, m := range results {
			only(m, 204, 3, fmt.Sprintf("likes of user %d", i))
		}
		wantNum(t, feedGet(t, anon, "/api/v1/blips/"+id), "like_count", 3, "three users liking concurrently")

		followURL := s.URL + "/api/v1/users/" + al.name + "/follow"
		only(feedConcurrently(t, 10, "PUT", followURL, bo.access), 204, 10, "10 concurrent follows")
		m := feedGet(t, anon, "/api/v1/users/"+al.name)
		wantNum(t, m, "followers_count", 1, "after 10 concurrent follows")
		wantNum(t, feedGet(t, anon, "/api/v1/users/"+bo.name), "following_count", 1, "after 10 concurrent follows")
		only(feedConcurrently(t, 10, "DELETE", followURL, bo.access), 204, 10, "10 concurrent unfollows")
		wantNum(t, feedGet(t, anon, "/api/v1/users/"+al.name), "followers_count", 0, "after 10 concurrent unfollows")
		wantNum(t, feedGet(t, anon, "/api/v1/users/"+bo.name), "following_count", 0, "after 10 concurrent unfollows")

		reply := feedPost(t, bo.c, "reply", id)["id"].(string)
		wantNum(t, feedGet(t, anon, "/api/v1/users/"+bo.name), "blips_count", 1, "bo before deletes")
		got := feedConcurrently(t, 8, "DELETE", s.URL+"/api/v1/blips/"+reply, bo.access)
		if got[204] != 1 || got[204]+got[404] != 8 {
			t.Fatalf("8 concurrent deletes: statuses %v, want one 204 and 404s", got)
		}
		wantNum(t, feedGet(t, anon, "/api/v1/users/"+bo.name), "blips_count", 0, "blips_count after concurrent deletes")
		wantNum(t, feedGet(t, anon, "/api/v1/blips/"+id), "reply_count", 0, "parent's reply_count after concurrent deletes")
		wantNum(t, feedGet(t, anon, "/api/v1/users/"+al.name), "blips_count", 1, "al's blips_count")
	})
}

// TestE2E_authorRenameIsFresh checks that a blip read (single or in a
// timeline) shows its author's new name on the very next read after PATCH
// /me, even when the blip was cached before.
func TestE2E_authorRenameIsFresh(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al, bo := newFeedActor(t, s), newFeedActor(t, s)
		anon := s.client()
		feedDo(t, bo.c, "PUT", "/api/v1/users/"+al.name+"/follow", http.StatusNoContent)
		id := feedPost(t, al.c, "by al", "")["id"].(string)
		authorName := func(m map[string]any) any { return m["author"].(map[string]any)["name"] }
		for i, name := range []string{"Al First", "Al Second", ""} {
			// Warm every cached read path.
			for range 2 {
				feedGet(t, anon, "/api/v1/blips/"+id)
				feedList(t, bo.c, "/api/v1/timeline")
			}
			r := al.c.do("PATCH", "/api/v1/me", map[string]any{"name": name})
			want(t, r, http.StatusOK, "PATCH /me name")
			if got := authorName(feedGet(t, anon, "/api/v1/blips/"+id)); got != name {
				t.Fatalf("rename %d: GET blip shows author name %q, want %q", i, got, name)
			}
			if got := authorName(feedList(t, bo.c, "/api/v1/timeline").results[0]); got != name {
				t.Fatalf("rename %d: timeline shows author name %q, want %q", i, got, name)
			}
			if got := authorName(feedList(t, anon, "/api/v1/users/"+al.name+"/blips").results[0]); got != name {
				t.Fatalf("rename %d: user blips show author name %q, want %q", i, got, name)
			}
			if got := feedGet(t, anon, "/api/v1/users/"+al.name)["name"]; got != name {
				t.Fatalf("rename %d: profile name %q, want %q", i, got, name)
			}
		}
	})
}

// TestE2E_bidiAndInvisibleText: names, bios and blips refuse bidirectional
// embeddings, overrides and isolates (which can make "gnp.exe" read as
// "exe.png") and text made only of invisible characters (a blank-looking
// name), with a 400 naming the field; zero-width joiners inside visible
// text (emoji sequences, Persian) and right-to-left marks stay accepted.
func TestE2E_bidiAndInvisibleText(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		al := newFeedActor(t, s)
		for _, bad := range []string{"\u202Eevil", "a\u202Ab", "a\u202Bb", "a\u202Cb", "a\u202Db", "x\u2066y", "x\u2067y", "x\u2068y", "x\u2069y",
			"\u200B", "\u200B\u200C\u200D", "\u2060", "\uFEFF", "\u3164", "\u2800\u2800"} {
			for _, field := range []string{"name", "bio"} {
				r := al.c.do("PATCH", "/api/v1/me", map[string]any{field: bad})
				wantFieldError(t, r, field, fmt.Sprintf("PATCH /me %s %+q", field, bad))
			}
			wantFieldError(t, al.c.do("POST", "/api/v1/blips", map[string]any{"text": bad}), "text", fmt.Sprintf("blip %+q", bad))
		}
		r := s.client().do("POST", "/api/v1/users", map[string]string{"email": "rlo@example.com", "username": "rlo_user",
			"password": "Sturdy-Gl4ss-Lantern", "name": "Admin\u202E"})
		wantFieldError(t, r, "name", "register with an override in the name")

		for _, good := range []string{"👨\u200D👩\u200D👧 family", "می\u200Cخواهم", "שלום\u200F!", "e\u0301t\u00E9"} {
			want(t, al.c.do("PATCH", "/api/v1/me", map[string]any{"name": good, "bio": good}), http.StatusOK, fmt.Sprintf("PATCH /me %+q", good))
			feedPost(t, al.c, good, "")
		}
	})
}
