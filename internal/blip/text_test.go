package blip_test

import (
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/blip"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, text string
		want       string
		code       blip.Code // "" means valid
	}{
		{"ok", "hello", "hello", ""},
		{"trimmed", "  hi\n", "hi", ""},
		{"newline kept", "a\nb", "a\nb", ""},
		{"blank", "   ", "", blip.CodeInvalid},
		{"empty", "", "", blip.CodeInvalid},
		{"tab", "a\tb", "", blip.CodeInvalid},
		{"nul", "a\x00b", "", blip.CodeInvalid},
		{"bell", "a\x07", "", blip.CodeInvalid},
		{"del", "a\x7f", "", blip.CodeInvalid},
		{"c1 control", "a\u0085b", "", blip.CodeInvalid},
		{"invalid utf8", "a\xffb", "", blip.CodeInvalid},
		{"280 accented", strings.Repeat("é", 280), strings.Repeat("é", 280), ""},
		{"281 accented", strings.Repeat("é", 281), "", blip.CodeInvalid},
		// 280 × (e + combining acute) is 560 code points before NFC and 280 after.
		{"nfc counts composed", strings.Repeat("e\u0301", 280), strings.Repeat("é", 280), ""},
		{"emoji are one code point", strings.Repeat("😀", 280), strings.Repeat("😀", 280), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := blip.CleanText(tt.text)
			if code := blip.ErrorCode(err); code != tt.code {
				t.Fatalf("CleanText(%q) code = %q, want %q", tt.text, code, tt.code)
			}
			if got != tt.want {
				t.Errorf("CleanText(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"hello", " a\nb ", "e\u0301", "\xff", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := blip.CleanText(s)
		if err != nil {
			if blip.ErrorCode(err) != blip.CodeInvalid {
				t.Fatalf("unexpected code %q", blip.ErrorCode(err))
			}
			return
		}
		again, err := blip.CleanText(got)
		if err != nil || again != got {
			t.Fatalf("CleanText not idempotent: %q -> %q (%v)", got, again, err)
		}
	})
}
