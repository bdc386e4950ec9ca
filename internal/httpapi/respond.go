package httpapi

import (
	"log/slog"
	"net/http"
)

// respond writes v as JSON, or a problem if v cannot be encoded; a failed
// write means the client went away and is only logged.
func respond[T any](w http.ResponseWriter, r *http.Request, logger *slog.Logger, status int, v T) {
	if err := encode(w, r, status, v); err != nil {
		if w.Header().Get("Content-Type") == "" {
			writeProblem(w, r, logger, err)
			return
		}
		logger.DebugContext(r.Context(), "response write failed", slog.Any("error", err))
	}
}

// decodeOptional is decode for endpoints whose body may be absent because
// the value can come from elsewhere (the refresh cookie): an empty body
// without a Content-Type decodes to the zero value.
func decodeOptional[T Validator](w http.ResponseWriter, r *http.Request, maxBytes int64) (T, error) {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		var zero T
		return zero, nil
	}
	return decode[T](w, r, maxBytes)
}
