package blip

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CleanText validates and normalises the text of a blip: valid UTF-8, NFC,
// trimmed, no control characters but newline, no bidirectional controls,
// something visible, 1 to MaxTextRunes code points.
func CleanText(s string) (string, error) {
	invalid := func(msg string) (string, error) {
		return "", ValidationError(map[string][]string{"text": {msg}})
	}
	if !utf8.ValidString(s) {
		return invalid("Text must be valid UTF-8.")
	}
	s = strings.TrimSpace(norm.NFC.String(s))
	for _, r := range s {
		if r != '\n' && unicode.IsControl(r) {
			return invalid("Text must not contain control characters other than newline.")
		}
	}
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return invalid("This field may not be blank.")
	}
	if msg := textRuleProblem(s); msg != "" {
		return invalid(msg)
	}
	if n > MaxTextRunes {
		return invalid("Ensure this field has no more than 280 characters.")
	}
	return s, nil
}

// Messages of textRuleProblem.
const (
	msgBidiControl = "Text must not contain bidirectional embedding, override or isolate characters (U+202A to U+202E, U+2066 to U+2069)."
	msgInvisible   = "Text must contain a visible character, not only invisible ones such as zero-width spaces."
)

// textRuleProblem returns why non-empty user text is refused, "" if it is
// not: it holds a bidirectional embedding, override or isolate, which can
// make text read differently from what it is ("gnp.exe" shown as
// "exe.png", a reply that seems to come from someone else), or it is made
// only of characters that render as nothing. Zero-width joiners and
// non-joiners inside visible text are fine (emoji sequences, Persian), and
// so are the directional marks U+200E, U+200F and U+061C, which change no
// order beyond their neighbours.
func textRuleProblem(s string) string {
	visible := false
	for _, r := range s {
		if isBidiControl(r) {
			return msgBidiControl
		}
		if !isInvisible(r) {
			visible = true
		}
	}
	if !visible {
		return msgInvisible
	}
	return ""
}

// isBidiControl reports the explicit directional embeddings and overrides
// (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI).
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// isInvisible reports characters that render as nothing: white space,
// format characters (Cf: zero-width space, joiners, word joiner, BOM, soft
// hyphen, tags…), variation selectors, the combining grapheme joiner, and
// letters that display as blanks (Hangul fillers, the blank Braille
// pattern), long used for names that look empty.
func isInvisible(r rune) bool {
	switch r {
	case 0x034F, 0x115F, 0x1160, 0x2800, 0x3164, 0xFFA0:
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Variation_Selector, r)
}
