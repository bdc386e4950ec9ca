package blip_test

import (
	"strings"
	"testing"
	"unicode"

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
		// Bidirectional embeddings, overrides and isolates are refused.
		{"LRE", "a\u202Ab", "", blip.CodeInvalid},
		{"RLE", "a\u202Bb", "", blip.CodeInvalid},
		{"PDF", "a\u202Cb", "", blip.CodeInvalid},
		{"LRO", "a\u202Db", "", blip.CodeInvalid},
		{"RLO filename trick", "invoice_\u202Efdp.exe", "", blip.CodeInvalid},
		{"LRI", "a\u2066b", "", blip.CodeInvalid},
		{"RLI", "a\u2067b", "", blip.CodeInvalid},
		{"FSI", "a\u2068b", "", blip.CodeInvalid},
		{"PDI", "a\u2069b", "", blip.CodeInvalid},
		// Text that renders as nothing is refused.
		{"zero-width space only", "\u200B", "", blip.CodeInvalid},
		{"zero-width joiners only", "\u200C\u200D\u200C", "", blip.CodeInvalid},
		{"word joiner only", "\u2060", "", blip.CodeInvalid},
		{"BOM only", "\uFEFF", "", blip.CodeInvalid},
		{"invisible between spaces", "  \u200B\n\u2060  ", "", blip.CodeInvalid},
		{"soft hyphen only", "\u00AD", "", blip.CodeInvalid},
		{"Hangul filler only", "\u3164\u3164", "", blip.CodeInvalid},
		{"blank Braille only", "\u2800", "", blip.CodeInvalid},
		{"variation selector only", "\uFE0F", "", blip.CodeInvalid},
		{"tag characters only", "\U000E0041\U000E0042", "", blip.CodeInvalid},
		// Invisible characters inside visible text stay.
		{"ZWJ emoji sequence", "👨\u200D👩\u200D👧", "👨\u200D👩\u200D👧", ""},
		{"ZWNJ in Persian", "می\u200Cخواهم", "می\u200Cخواهم", ""},
		{"right-to-left mark", "שלום\u200F!", "שלום\u200F!", ""},
		{"Arabic letter mark", "\u061Cمرحبا", "\u061Cمرحبا", ""},
		{"zero-width space inside", "a\u200Bb", "a\u200Bb", ""},
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

func TestCleanShortText(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"empty is allowed", "", "", true},
		{"blank trims to empty", "  ", "", true},
		{"name", " Ada Byron ", "Ada Byron", true},
		{"too long", strings.Repeat("a", 11), "", false},
		{"control", "a\tb", "", false},
		{"RLO", "Admin\u202E", "", false},
		{"isolate", "\u2067x\u2069", "", false},
		{"zero-width only", "\u200B\u200D", "", false},
		{"Hangul filler only", "\u3164", "", false},
		{"ZWJ emoji", "👩\u200D💻", "👩\u200D💻", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := blip.CleanShortText(tt.in, 10)
			if (msg == "") != tt.ok || got != tt.want {
				t.Errorf("cleanShortText(%+q) = %+q, %q; want %+q, accepted %v", tt.in, got, msg, tt.want, tt.ok)
			}
		})
	}
}

// FuzzCleanText checks the text rules of blips and of profile fields on
// any input: accepted text is trimmed, has no control character but
// newline, no bidirectional control, something visible, and cleaning it
// again changes nothing; refused text is a client error.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"hello", " a\nb ", "e\u0301", "\xff", strings.Repeat("x", 300),
		"a\u202Eb", "\u2066x\u2069", "\u200B", "\u200B\u200C\u200D\u2060\uFEFF", "👨\u200D👩", "\u3164", "\u00AD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, msg := blip.CleanShortText(s, blip.MaxBioRunes); msg == "" {
			checkAccepted(t, "cleanShortText", got, got == "")
			if again, msg := blip.CleanShortText(got, blip.MaxBioRunes); msg != "" || again != got {
				t.Fatalf("cleanShortText not idempotent: %q -> %q (%s)", got, again, msg)
			}
		}
		got, err := blip.CleanText(s)
		if err != nil {
			if blip.ErrorCode(err) != blip.CodeInvalid {
				t.Fatalf("unexpected code %q", blip.ErrorCode(err))
			}
			return
		}
		checkAccepted(t, "CleanText", got, false)
		again, err := blip.CleanText(got)
		if err != nil || again != got {
			t.Fatalf("CleanText not idempotent: %q -> %q (%v)", got, again, err)
		}
	})
}

// checkAccepted fails unless accepted text keeps the text rules; empty
// text passes only where the field may be empty.
func checkAccepted(t *testing.T, what, s string, mayBeEmpty bool) {
	t.Helper()
	if s == "" && mayBeEmpty {
		return
	}
	if s != strings.TrimSpace(s) {
		t.Fatalf("%s accepted untrimmed %+q", what, s)
	}
	visible := false
	for _, r := range s {
		switch {
		case r != '\n' && unicode.IsControl(r):
			t.Fatalf("%s accepted a control character in %+q", what, s)
		case (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069):
			t.Fatalf("%s accepted a bidirectional control in %+q", what, s)
		case !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r):
			visible = true
		}
	}
	if !visible {
		t.Fatalf("%s accepted text with nothing visible: %+q", what, s)
	}
}
