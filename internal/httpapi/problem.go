// Package httpapi is Blip's HTTP transport: routes, handlers, middleware,
// problem+json errors and the OpenAPI document. It turns requests into calls
// on the domain services of package blip and their results into JSON.
package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/blipsocial/blip/internal/blip"
)

// statusClientClosedRequest is recorded when the client disconnected
// before its answer was ready.
const statusClientClosedRequest = 499

// problemTypeBase prefixes every problem "type"; the fragment is the code.
const problemTypeBase = "https://blip.dev/problems/"

// statusByCode maps each domain error code to its HTTP status. It is the
// one place where that mapping is decided.
var statusByCode = map[blip.Code]int{
	blip.CodeInvalid:              http.StatusBadRequest,
	blip.CodeParseError:           http.StatusBadRequest,
	blip.CodeBadHost:              http.StatusBadRequest,
	blip.CodeNotAuthenticated:     http.StatusUnauthorized,
	blip.CodeTokenNotValid:        http.StatusUnauthorized,
	blip.CodeNoActiveAccount:      http.StatusUnauthorized,
	blip.CodePermissionDenied:     http.StatusForbidden,
	blip.CodeCSRFFailed:           http.StatusForbidden,
	blip.CodeNotFound:             http.StatusNotFound,
	blip.CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	blip.CodeConflict:             http.StatusConflict,
	blip.CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	blip.CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	blip.CodeIdempotencyKeyReused: http.StatusUnprocessableEntity,
	blip.CodeThrottled:            http.StatusTooManyRequests,
	blip.CodeUnavailable:          http.StatusServiceUnavailable,
	blip.CodeInternal:             http.StatusInternalServerError,
}

// problem is an RFC 9457 problem document with Blip's extension members.
type problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Code      blip.Code           `json:"code"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    map[string][]string `json:"errors,omitempty"`
}

// writeProblem is the only error writer: it maps err to a problem response.
// Errors that are not *blip.Error are internal: they are logged once with
// the request id and answered with a generic 500 that reveals nothing.
func writeProblem(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code := blip.ErrorCode(err)
	if code == blip.CodeInternal && r.Context().Err() != nil {
		// The client went away and the work was cancelled with it: not a
		// server fault, so no error log and no 5xx in the metrics. 499 is
		// nginx's "client closed request"; nobody is left to read it.
		logger.DebugContext(r.Context(), "request cancelled by the client",
			slog.String("request_id", requestID(r.Context())), slog.Any("error", err))
		w.WriteHeader(statusClientClosedRequest)
		return
	}
	status, ok := statusByCode[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusInternalServerError {
		logger.ErrorContext(r.Context(), "internal error",
			slog.String("request_id", requestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Any("error", err))
		code = blip.CodeInternal
	}
	if status == http.StatusServiceUnavailable && code == blip.CodeUnavailable {
		// The client sees a generic 503; the cause (a database or cache
		// failure) must still reach the operator.
		logger.WarnContext(r.Context(), "dependency unavailable",
			slog.String("request_id", requestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Any("error", err))
	}
	p := problem{
		Type:      problemTypeBase + string(code),
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    blip.ErrorMessage(err),
		Code:      code,
		RequestID: requestID(r.Context()),
		Errors:    blip.ErrorFields(err),
	}
	if status == http.StatusInternalServerError {
		p.Detail = "The server encountered an internal error."
		p.Errors = nil
	}
	body, mErr := json.Marshal(p)
	if mErr != nil {
		http.Error(w, `{"status":500}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	switch status {
	case http.StatusUnauthorized:
		// RFC 9110 requires a challenge with 401; DRF sends the same one.
		h.Set("WWW-Authenticate", `Bearer realm="api"`)
	case http.StatusServiceUnavailable:
		if h.Get("Retry-After") == "" {
			h.Set("Retry-After", "1")
		}
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
