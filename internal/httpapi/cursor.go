package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/blipsocial/blip/internal/blip"
)

// cursorCodec makes opaque, tamper-evident pagination cursors. A cursor is
// base64url(key "|" scope) plus a truncated HMAC-SHA256 over both, so a
// cursor from one collection cannot be replayed against another and an
// edited or invented cursor is rejected with 400, never reaches the store.
type cursorCodec struct {
	key []byte
}

const cursorMACLen = 16

func newCursorCodec(secret []byte) cursorCodec {
	// A dedicated key so a cursor MAC can never be confused with a token
	// signature made from the same secret.
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("blip cursor v1"))
	return cursorCodec{key: m.Sum(nil)}
}

func (c cursorCodec) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return m.Sum(nil)[:cursorMACLen]
}

// encode returns the cursor for the page after key in the collection scope.
func (c cursorCodec) encode(scope, key string) string {
	payload := []byte(key + "|" + scope)
	return base64.RawURLEncoding.EncodeToString(append(payload, c.mac(payload)...))
}

// decode returns the key inside cursor, checking its MAC and scope.
func (c cursorCodec) decode(scope, cursor string) (string, error) {
	bad := blip.ValidationError(map[string][]string{"cursor": {"Invalid cursor."}})
	if len(cursor) > 512 {
		return "", bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) <= cursorMACLen {
		return "", bad
	}
	payload, sum := raw[:len(raw)-cursorMACLen], raw[len(raw)-cursorMACLen:]
	if !hmac.Equal(sum, c.mac(payload)) {
		return "", bad
	}
	key, gotScope, ok := strings.Cut(string(payload), "|")
	if !ok || gotScope != scope || !blip.ValidID(key) {
		return "", bad
	}
	return key, nil
}

// pageRequest reads ?limit and ?cursor. A limit above the maximum is clamped
// (as DRF's max_limit does); a limit that is not a positive integer is 400.
func (c cursorCodec) pageRequest(r *http.Request, scope string) (blip.PageRequest, error) {
	q := r.URL.Query()
	var req blip.PageRequest
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return req, blip.ValidationError(map[string][]string{"limit": {"A positive integer is required."}})
		}
		req.Limit = min(n, blip.MaxPageLimit)
	}
	req.Limit = blip.ClampLimit(req.Limit)
	if s := q.Get("cursor"); s != "" {
		key, err := c.decode(scope, s)
		if err != nil {
			return req, err
		}
		req.After = key
	}
	return req, nil
}

// nextURL is the absolute URL of the next page on the request's own scheme
// and (already validated) host, or nil on the last page.
func (c cursorCodec) nextURL(r *http.Request, scope, next string, limit int) *string {
	if next == "" {
		return nil
	}
	q := url.Values{}
	q.Set("limit", strconv.Itoa(limit))
	q.Set("cursor", c.encode(scope, next))
	u := url.URL{Scheme: requestScheme(r), Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	s := u.String()
	return &s
}
