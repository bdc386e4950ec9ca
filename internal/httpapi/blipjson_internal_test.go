package httpapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// TestBlipJSONMatchesEncodingJSON: the hand-written encoding of blips and
// blip pages is byte for byte what encoding/json writes for blipJSON and
// pageJSON[blipJSON], for every kind of text (escapes, HTML characters,
// invalid UTF-8, line separators), with and without liked_by_me, reply_to
// and a next link.
func TestBlipJSONMatchesEncodingJSON(t *testing.T) {
	texts := []string{
		"", "hello", `quote " backslash \ slash /`, "<script>alert('x')</script> & more",
		"tab\tnewline\ncr\rbs\bff\f nul\x00 unit\x1f del\x7f", "é ü 漢字 🎉", "bad \xff\xfe utf8 \xc3",
		"line\u2028para\u2029end", strings.Repeat("x", 280),
	}
	yes, no := true, false
	var items []blip.FeedItem
	for i, text := range texts {
		liked := []*bool{nil, &yes, &no}[i%3]
		replyTo := ""
		if i%2 == 1 {
			replyTo = "01890a5d-ac96-774b-bcce-b302099a8058"
		}
		items = append(items, blip.FeedItem{
			Blip: &blip.Blip{
				ID: "01890a5d-ac96-774b-bcce-b302099a8057", AuthorID: "a", Text: text, ReplyTo: replyTo,
				CreatedAt: time.Date(2026, 5, 1, 12, 0, i, i*1000, time.FixedZone("x", 3600)),
				LikeCount: int64(i * 7), ReplyCount: int64(-i),
				Author: blip.Author{ID: "a<&>", Username: "user_" + text[:min(len(text), 3)], Name: text},
			},
			LikedByMe: liked,
		})
	}
	for i, it := range items {
		want, err := json.Marshal(newBlipJSON(it))
		if err != nil {
			t.Fatal(err)
		}
		if got := appendBlipJSON(nil, it); !bytes.Equal(got, want) {
			t.Errorf("blip %d:\n got %s\nwant %s", i, got, want)
		}
	}
	next := "http://127.0.0.1:8000/api/v1/timeline?cursor=abc&limit=20"
	for _, tc := range []struct {
		items []blip.FeedItem
		next  *string
	}{{items, &next}, {items[:1], nil}, {[]blip.FeedItem{}, nil}} {
		want, err := json.Marshal(pageJSON[blipJSON]{Results: mapSlice(tc.items, newBlipJSON), Next: tc.next})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		if got := appendBlipPageJSON(nil, tc.items, tc.next); !bytes.Equal(got, want) {
			t.Errorf("page of %d:\n got %s\nwant %s", len(tc.items), got, want)
		}
	}
}
