package httpapi_test

import (
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/httpapi"
)

// FuzzCursor: a cursor the server made decodes back to its key in its own
// collection and in no other; any other string a client sends is refused
// with the one 400 error on the cursor field, never a panic or a key that
// is not an ID.
func FuzzCursor(f *testing.F) {
	codec := httpapi.NewCursorCodec([]byte("fuzz-secret-0123456789abcdefghijklmnop"))
	id := blip.NewID()
	for _, s := range []struct{ scope, key, cursor string }{
		{"timeline:u1", id, codec.Encode("timeline:u1", id)},
		{"replies:b1", id, codec.Encode("timeline:u1", id)}, // another collection's cursor
		{"timeline:u1", "not-an-id", codec.Encode("timeline:u1", "not-an-id")},
		{"timeline:u1", id, ""},
		{"timeline:u1", id, "===="},
		{"timeline:u1", id, strings.Repeat("A", 600)},
		{"a|b", id, codec.Encode("a|b", id)},
	} {
		f.Add(s.scope, s.key, s.cursor)
	}
	f.Fuzz(func(t *testing.T, scope, key, cursor string) {
		check := func(what, scope, cursor string) (string, bool) {
			t.Helper()
			got, err := codec.Decode(scope, cursor)
			if err != nil {
				if _, onCursor := blip.ErrorFields(err)["cursor"]; blip.ErrorCode(err) != blip.CodeInvalid || !onCursor {
					t.Fatalf("%s: Decode(%q, %q) error %v, want the invalid-cursor error", what, scope, cursor, err)
				}
				return "", false
			}
			if !blip.ValidID(got) {
				t.Fatalf("%s: Decode(%q, %q) = %q, not an ID", what, scope, cursor, got)
			}
			return got, true
		}
		check("client cursor", scope, cursor)
		made := codec.Encode(scope, key)
		got, ok := check("own cursor", scope, made)
		if ok != blip.ValidID(key) || (ok && got != key) {
			t.Fatalf("own cursor for key %q in %q decoded to %q, %v", key, scope, got, ok)
		}
		if _, ok := check("other collection", scope+"x", made); ok {
			t.Fatalf("cursor of %q accepted in %q", scope, scope+"x")
		}
	})
}
