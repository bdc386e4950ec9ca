package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/blipsocial/blip/internal/blip"
)

// CursorCodec exposes the pagination cursor codec to benchmarks.
type CursorCodec struct{ c cursorCodec }

// NewCursorCodec wraps newCursorCodec.
func NewCursorCodec(secret []byte) CursorCodec { return CursorCodec{newCursorCodec(secret)} }

// Encode wraps encode.
func (c CursorCodec) Encode(scope, key string) string { return c.c.encode(scope, key) }

// Decode wraps decode.
func (c CursorCodec) Decode(scope, cursor string) (string, error) { return c.c.decode(scope, cursor) }

// WriteBlipPage writes a page of blips as the page handlers do.
func (c CursorCodec) WriteBlipPage(w http.ResponseWriter, r *http.Request, scope string, limit int, page blip.Page[blip.FeedItem]) {
	writeBlipPage(w, r, slog.New(slog.DiscardHandler), c.c, scope, limit, page)
}
