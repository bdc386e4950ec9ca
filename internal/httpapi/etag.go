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
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	tag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	h := w.Header()
	h.Set("ETag", tag)
	h.Add("Vary", "Authorization")
	h.Add("Vary", "Cookie")
	h.Set("Cache-Control", "private, no-cache")
	if etagMatches(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	jsonContentType.set(h)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

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
