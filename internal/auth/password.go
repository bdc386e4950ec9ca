package auth

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blipsocial/blip/internal/blip"
)

// Password length bounds, in Unicode code points. The maximum keeps a
// request from making the similarity check and the hash chew on megabytes
// while leaving room for long passphrases and generated passwords.
const (
	MinPasswordRunes = 8
	MaxPasswordRunes = 128
)

// maxSimilarity is Django's UserAttributeSimilarityValidator default.
const maxSimilarity = 0.7

// commonPasswordsGz is Django's common-passwords.txt.gz (Royce Williams'
// list of 20,000 common passwords), lower-cased, de-duplicated and sorted;
// see common-passwords.README.md.
//
//go:embed common-passwords.txt.gz
var commonPasswordsGz []byte

// commonPasswords decompresses the embedded list on first use, so that
// programs that never validate a password never pay for it.
var commonPasswords = sync.OnceValue(func() []string {
	list, err := parseCommonPasswords(commonPasswordsGz)
	if err != nil {
		// The list is part of the binary and checked by the tests: failing
		// here means the build itself is broken.
		panic(fmt.Sprintf("auth: embedded common-password list: %v", err))
	}
	return list
})

func parseCommonPasswords(gz []byte) ([]string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	// One entry per line; one of Django's entries has an inner space.
	list := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	if !slices.IsSorted(list) {
		return nil, errors.New("not sorted")
	}
	return list, nil
}

// IsCommonPassword reports whether password, lower-cased and trimmed, is in
// the embedded list of common passwords, as Django's CommonPasswordValidator.
func IsCommonPassword(password string) bool {
	_, found := slices.BinarySearch(commonPasswords(), strings.ToLower(strings.TrimSpace(password)))
	return found
}

// PasswordProblems applies Django's default password validators, plus a
// maximum length, and returns their messages in Django's order: too similar
// to the username or email address (or its parts), too short, too common,
// entirely numeric. It returns nil for an acceptable password. email and
// username may be empty when unknown.
func PasswordProblems(password, email, username string) []string {
	n := utf8.RuneCountInString(password)
	if n > MaxPasswordRunes {
		// Nothing else is worth checking, or computing, on such input.
		return []string{fmt.Sprintf("This password is too long. It must contain at most %d characters.", MaxPasswordRunes)}
	}
	var msgs []string
	for _, attr := range []struct{ name, value string }{
		{"username", username},
		{"email address", email},
	} {
		if tooSimilar(password, attr.value) {
			msgs = append(msgs, "The password is too similar to the "+attr.name+".")
			break // Django stops at the first similar attribute
		}
	}
	if n < MinPasswordRunes {
		msgs = append(msgs, fmt.Sprintf("This password is too short. It must contain at least %d characters.", MinPasswordRunes))
	}
	if IsCommonPassword(password) {
		msgs = append(msgs, "This password is too common.")
	}
	if entirelyNumeric(password) {
		msgs = append(msgs, "This password is entirely numeric.")
	}
	return msgs
}

// ValidatePassword is PasswordProblems as a validation error on the
// "password" field (blip.CodeInvalid), or nil. Callers validating another
// field name, such as new_password, use PasswordProblems.
func ValidatePassword(password, email, username string) error {
	msgs := PasswordProblems(password, email, username)
	if len(msgs) == 0 {
		return nil
	}
	return blip.ValidationError(map[string][]string{"password": msgs})
}

// entirelyNumeric mirrors Python's str.isdigit as Django's
// NumericPasswordValidator uses it: false for "", true when every code point
// is a decimal digit.
func entirelyNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// tooSimilar is Django's UserAttributeSimilarityValidator for one
// attribute: the lower-cased password is compared with the whole value and
// with each of its parts split on non-word characters (so an email's local
// part and domain labels count), using difflib's quick_ratio.
func tooSimilar(password, value string) bool {
	if value == "" {
		return false
	}
	pw := []rune(strings.ToLower(password))
	value = strings.ToLower(value)
	parts := append(strings.FieldsFunc(value, isNonWord), value)
	for _, part := range parts {
		v := []rune(part)
		if exceedsMaximumLengthRatio(len(pw), len(v)) {
			continue
		}
		if quickRatio(pw, v) >= maxSimilarity {
			return true
		}
	}
	return false
}

// isNonWord matches Python's \W: neither a letter, a number nor underscore.
func isNonWord(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '_'
}

// exceedsMaximumLengthRatio is Django's shortcut: a value far shorter than
// the password cannot reach maxSimilarity, so the comparison is skipped.
func exceedsMaximumLengthRatio(pwLen, valueLen int) bool {
	return pwLen >= 10*valueLen && float64(valueLen) < maxSimilarity/2*float64(pwLen)
}

// quickRatio is Python's difflib.SequenceMatcher(a=a, b=b).quick_ratio():
// 2*M/T, where M is the size of the multiset intersection of a's and b's
// code points and T the total length; 1 for two empty sequences. It is an
// upper bound of the Ratcliff/Obershelp ratio and the measure Django uses.
func quickRatio(a, b []rune) float64 {
	total := len(a) + len(b)
	if total == 0 {
		return 1
	}
	avail := make(map[rune]int, len(b))
	for _, r := range b {
		avail[r]++
	}
	matches := 0
	for _, r := range a {
		if avail[r] > 0 {
			matches++
		}
		avail[r]--
	}
	return 2 * float64(matches) / float64(total)
}

// PasswordRules is the blip.PasswordPolicy of PasswordProblems.
type PasswordRules struct{}

var _ blip.PasswordPolicy = PasswordRules{}

// Check returns PasswordProblems(password, email, username).
func (PasswordRules) Check(password, email, username string) []string {
	return PasswordProblems(password, email, username)
}
