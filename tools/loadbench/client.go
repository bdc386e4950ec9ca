package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// seedPassword is the password `blip seed` gives every seeded user.
const seedPassword = "blip-seed-password" //nolint:gosec // G101: the documented password of synthetic benchmark users

// client prepares scenarios through the API: tokens, cursors, ETags.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	return &client{base: base, http: &http.Client{Timeout: 30 * time.Second}}
}

// do sends a request and decodes a JSON answer into out (when not nil). It
// fails unless the status is want. A 503 is retried a few times: right
// after a seed, with cold caches on a busy machine, a deep read can run
// into the server's query timeout once.
func (c *client) do(ctx context.Context, method, path, token string, body any, want int, out any) (http.Header, error) {
	for attempt := 1; ; attempt++ {
		h, status, err := c.once(ctx, method, path, token, body, want, out)
		if status != http.StatusServiceUnavailable || attempt == 5 {
			return h, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt) * time.Second):
		}
	}
}

func (c *client) once(ctx context.Context, method, path, token string, body any, want int, out any) (http.Header, int, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: status %d, want %d: %.300s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.Header, resp.StatusCode, nil
}

// tokens are a login's token pair.
type tokens struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

func seedUser(i int) string  { return fmt.Sprintf("seed_%06d", i) }
func seedEmail(i int) string { return seedUser(i) + "@example.com" }

func (c *client) login(ctx context.Context, user int) (tokens, error) {
	var t tokens
	_, err := c.do(ctx, http.MethodPost, "/api/token/", "",
		map[string]string{"email": seedEmail(user), "password": seedPassword}, http.StatusOK, &t)
	return t, err
}

// item is the part of a blip the bench reads.
type item struct {
	ID string `json:"id"`
}

type page struct {
	Results []item  `json:"results"`
	Next    *string `json:"next"`
}

// walk reads the collection at path with pages of 100 until depth items
// lie before the cursor it returns, and returns those items' IDs. The
// cursor carries no page size, so the deep page is then read with the
// default one.
func (c *client) walk(ctx context.Context, path, token string, depth int) (cursor string, ids []string, err error) {
	next := path + "?limit=100"
	for len(ids) < depth {
		var p page
		if _, err := c.do(ctx, http.MethodGet, next, token, nil, http.StatusOK, &p); err != nil {
			return "", nil, err
		}
		for _, it := range p.Results {
			ids = append(ids, it.ID)
		}
		if p.Next == nil {
			return "", nil, fmt.Errorf("%s ends after %d items, before the depth of %d (seed more blips or lower -depth)", path, len(ids), depth)
		}
		u, err := url.Parse(*p.Next)
		if err != nil {
			return "", nil, err
		}
		cursor = u.Query().Get("cursor")
		if len(ids)+100 > depth {
			// The last step reads exactly up to depth.
			next = path + "?limit=" + strconv.Itoa(depth-len(ids)) + "&cursor=" + url.QueryEscape(cursor)
		} else {
			next = path + "?limit=100&cursor=" + url.QueryEscape(cursor)
		}
	}
	return cursor, ids, nil
}

// profile is the part of a user the bench reads.
type profile struct {
	Username       string `json:"username"`
	FollowersCount int64  `json:"followers_count"`
	BlipsCount     int64  `json:"blips_count"`
}

func (c *client) profile(ctx context.Context, user int) (profile, error) {
	var p profile
	_, err := c.do(ctx, http.MethodGet, "/api/v1/users/"+seedUser(user), "", nil, http.StatusOK, &p)
	return p, err
}

// etag returns the ETag of a GET.
func (c *client) etag(ctx context.Context, path string) (string, error) {
	h, err := c.do(ctx, http.MethodGet, path, "", nil, http.StatusOK, nil)
	if err != nil {
		return "", err
	}
	e := h.Get("ETag")
	if e == "" {
		return "", fmt.Errorf("GET %s: no ETag", path)
	}
	return e, nil
}

// metric returns the value of an unlabelled sample in a Prometheus text
// exposition.
func (c *client) metric(ctx context.Context, url, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("%s: no sample %s", url, name)
}
