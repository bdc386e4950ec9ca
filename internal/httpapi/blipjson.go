package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/blipsocial/blip/internal/blip"
)

// Blips are the most written representation (a page has twenty), so they
// are encoded by hand instead of by encoding/json's reflection: the profile
// of a warm timeline read spent 13% of its CPU marshalling the page. The
// output is byte for byte what json.Marshal writes for blipJSON and
// pageJSON[blipJSON] (TestBlipJSONMatchesEncodingJSON checks it, escaping
// included), so clients cannot tell.

// appendBlipJSON appends the JSON of v, as json.Marshal(newBlipJSON(v)).
func appendBlipJSON(b []byte, v blip.FeedItem) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, v.ID)
	b = append(b, `,"text":`...)
	b = appendJSONString(b, v.Text)
	b = append(b, `,"created_at":"`...)
	b = v.CreatedAt.UTC().AppendFormat(b, time.RFC3339Nano) // nothing in it needs escaping
	b = append(b, `","author":{"id":`...)
	b = appendJSONString(b, v.Author.ID)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, v.Author.Username)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, v.Author.Name)
	b = append(b, `},"reply_to":`...)
	if v.ReplyTo == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, v.ReplyTo)
	}
	b = append(b, `,"like_count":`...)
	b = strconv.AppendInt(b, v.LikeCount, 10)
	b = append(b, `,"reply_count":`...)
	b = strconv.AppendInt(b, v.ReplyCount, 10)
	if v.LikedByMe != nil {
		b = append(b, `,"liked_by_me":`...)
		b = strconv.AppendBool(b, *v.LikedByMe)
	}
	return append(b, '}')
}

// appendBlipPageJSON appends a page of blips and its next link, as
// json.Marshal(pageJSON[blipJSON]) with the trailing newline encode adds.
func appendBlipPageJSON(b []byte, items []blip.FeedItem, next *string) []byte {
	b = append(b, `{"results":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendBlipJSON(b, it)
	}
	b = append(b, `],"next":`...)
	if next == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *next)
	}
	return append(b, "}\n"...)
}

// writeBlipPage writes one page of blips and the link to the next.
func writeBlipPage(w http.ResponseWriter, r *http.Request, logger *slog.Logger, cursors cursorCodec,
	scope string, limit int, page blip.Page[blip.FeedItem]) {
	body := appendBlipPageJSON(make([]byte, 0, 448*len(page.Items)+256), page.Items,
		cursors.nextURL(r, scope, page.Next, limit))
	jsonContentType.set(w.Header())
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil { //nolint:gosec // G705: JSON with <, > and & escaped, served as application/json with nosniff
		logger.DebugContext(r.Context(), "response write failed", slog.Any("error", err))
	}
}

// appendJSONString appends s as a JSON string exactly as encoding/json does
// (its HTML-safe form): ", \, <, > and & escaped, control characters as
// \b \f \n \r \t or \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029
// escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
