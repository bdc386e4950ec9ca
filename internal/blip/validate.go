package blip

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of user-supplied fields.
const (
	MaxTextRunes  = 280
	MaxNameRunes  = 100
	MaxBioRunes   = 500
	MaxEmailBytes = 254
)

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{3,30}$`)

// ValidUsername reports whether s is a syntactically valid username.
func ValidUsername(s string) bool { return usernamePattern.MatchString(s) }

// NormalizeEmail trims the address and lower-cases its domain, as Django's
// BaseUserManager.normalize_email does; uniqueness is case-insensitive anyway.
func NormalizeEmail(s string) string {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	return s[:at] + "@" + strings.ToLower(s[at+1:])
}

// validEmail accepts a bare addr-spec with a dotless-or-dotted domain and no
// display name, comments or whitespace.
func validEmail(s string) bool {
	if s == "" || len(s) > MaxEmailBytes || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1
}

// cleanShortText validates a free-text profile field: valid UTF-8, no control
// characters except newline, the rules of textRuleProblem unless empty, at
// most maxRunes code points after trimming. It returns the field's message
// when the text is refused, "" when it is accepted.
func cleanShortText(s string, maxRunes int) (string, string) {
	tooLong := fmt.Sprintf("Ensure this field is valid text of at most %d characters.", maxRunes)
	if !utf8.ValidString(s) {
		return "", tooLong
	}
	s = strings.TrimSpace(s)
	for _, r := range s {
		if r != '\n' && (unicode.IsControl(r) || r == utf8.RuneError) {
			return "", tooLong
		}
	}
	if s != "" {
		if msg := textRuleProblem(s); msg != "" {
			return "", msg
		}
	}
	if utf8.RuneCountInString(s) > maxRunes {
		return "", tooLong
	}
	return s, ""
}
