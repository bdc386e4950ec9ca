package httpapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/blip"
)

func TestWriteProblem(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		cancelled  bool
		status     int
		header     string // a header the answer must carry
		wantLog    string // a level the log must contain, "" for no log
		bodyAbsent bool
	}{
		{"401 carries a challenge", blip.Errorf(blip.CodeTokenNotValid, "Token is invalid or expired"), false,
			http.StatusUnauthorized, "WWW-Authenticate", "", false},
		{"503 carries Retry-After and logs its cause", blip.Unavailable(errors.New("dial tcp: connection refused")), false,
			http.StatusServiceUnavailable, "Retry-After", "WARN", false},
		{"500 logs once and reveals nothing", errors.New("pq: secret SQL detail"), false,
			http.StatusInternalServerError, "", "ERROR", false},
		{"client gone is 499, not a logged 500", errors.New("sqlite: create session: context canceled"), true,
			statusClientClosedRequest, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
			ctx, cancel := context.WithCancel(context.Background())
			if tt.cancelled {
				cancel()
			} else {
				defer cancel()
			}
			r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/x", nil)
			w := httptest.NewRecorder()
			writeProblem(w, r, logger, tt.err)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if tt.header != "" && w.Header().Get(tt.header) == "" {
				t.Errorf("no %s header", tt.header)
			}
			if strings.Contains(w.Body.String(), "secret SQL") || strings.Contains(w.Body.String(), "connection refused") {
				t.Errorf("body leaks the internal error: %s", w.Body.String())
			}
			if tt.bodyAbsent != (w.Body.Len() == 0) {
				t.Errorf("body %q", w.Body.String())
			}
			switch {
			case tt.wantLog == "" && logs.Len() != 0:
				t.Errorf("unexpected log: %s", logs.String())
			case tt.wantLog != "" && !strings.Contains(logs.String(), "level="+tt.wantLog):
				t.Errorf("log %q, want a %s line", logs.String(), tt.wantLog)
			}
		})
	}
}
