package blip

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CleanText validates and normalises the text of a blip: valid UTF-8, NFC,
// trimmed, no control characters but newline, 1 to MaxTextRunes code points.
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
	if n > MaxTextRunes {
		return invalid("Ensure this field has no more than 280 characters.")
	}
	return s, nil
}
