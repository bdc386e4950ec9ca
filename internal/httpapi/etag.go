package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
)

// encodeTagged writes a single resource with a strong ETag computed from its
// representation, answering 304 when If-None-Match already names it. The
// representation depends on the caller (liked_by_me), hence Vary.
func encodeTagged(w http.ResponseWriter, r *http.Request, logger *slog.Logger, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, r, logger, err)
		return
	}
	writeTagged(w, r, logger, append(body, '\n'))
}

// writeTagged is encodeTagged for a body already encoded.
func writeTagged(w http.ResponseWriter, r *http.Request, logger *slog.Logger, body []byte) {
	sum := sha256.Sum256(body)
	tag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	h := w.Header()
	h.Set("ETag", tag)
	if len(h["Vary"]) == 0 {
		varyCredentials.set(h)
	} else {
		h.Add("Vary", "Authorization")
		h.Add("Vary", "Cookie")
	}
	privateNoCache.set(h)
	if etagMatches(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	jsonContentType.set(h)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) //nolint:gosec // G705: JSON with <, > and & escaped, served as application/json with nosniff
}

var (
	varyCredentials = fixedHeader{key: "Vary", value: []string{"Authorization", "Cookie"}}
	privateNoCache  = newFixedHeader("Cache-Control", "private, no-cache")
)

// etagMatches implements If-None-Match's weak comparison (RFC 9110 §13.1.2).
func etagMatches(header, tag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == tag {
			return true
		}
	}
	return false
}
