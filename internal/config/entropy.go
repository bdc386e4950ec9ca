package config

import (
	"math"
	"strings"
)

// minSecretKeyBits is the least estimated entropy a production SECRET_KEY
// must carry: 128 bits, the security level of HS256's HMAC-SHA256 against
// key search. 32 random bytes, as generators print them, carry twice that.
const minSecretKeyBits = 128

// keyEntropyBits estimates how many bits of entropy the key s carries, as a
// guesser who tries patterned keys first would see it (the idea of
// zxcvbn's match-and-score, without its dictionaries). Each character costs
// log2 of the alphabet the key draws from, unless it continues a pattern,
// which costs a few bits at most:
//
//   - a repeat of an earlier stretch of at least three characters (LZ77
//     style, so "abcabc…" and "0123456789012…" cost little after the first
//     copy, and a run "aaaa…" almost nothing);
//   - the same character as the one before;
//   - a step of ±1 or ±2 from the one before in the same character class
//     ("abcd", "9876", "acegi");
//   - a neighbour of the one before on a QWERTY keyboard ("qwerty",
//     "1qaz2wsx", "asdf").
//
// The alphabet is the union of the character classes present (lower,
// upper, digits, punctuation, other), capped at 16 for hex and 64 for
// base64 text, so encoded random bytes are credited what they hold and no
// more. The estimate is an upper bound on what a key can hold and a lower
// bound on what a careless key is credited: the output of a generator such
// as `openssl rand -base64 48` scores far above minSecretKeyBits, and keys
// typed by hand score far below it. It does not know dictionary words, so
// a passphrase is over-credited; the check's advice is to use a generator.
func keyEntropyBits(s string) float64 {
	r := []rune(s)
	if len(r) == 0 {
		return 0
	}
	perChar := math.Log2(float64(alphabetSize(s)))
	bits := 0.0
	for i := 0; i < len(r); {
		if n, cost := repeatMatch(r, i); n > 0 {
			bits += cost
			i += n
			continue
		}
		cost := perChar
		if i > 0 {
			cost = math.Min(cost, stepCost(r[i-1], r[i]))
		}
		bits += cost
		i++
	}
	return bits
}

// repeatMatch finds the longest stretch starting at i that repeats one
// starting earlier (possibly overlapping it, so a run is one match). It
// returns its length, 0 if shorter than 3, and the bits a guesser pays to
// name it: where it starts and how long it is.
func repeatMatch(r []rune, i int) (n int, cost float64) {
	const minMatch = 3
	best := 0
	for j := range i {
		k := 0
		for i+k < len(r) && r[j+k] == r[i+k] {
			k++
		}
		best = max(best, k)
	}
	if best < minMatch {
		return 0, 0
	}
	return best, math.Log2(float64(i)) + math.Log2(float64(best))
}

// stepCost is what a character costs after prev when it continues a simple
// pattern, or +Inf when it does not.
func stepCost(prev, cur rune) float64 {
	switch {
	case cur == prev:
		return 1 // repeat or not
	case sameClass(prev, cur) && abs(int(cur)-int(prev)) <= 2:
		return 2 // one of four steps
	case keyboardAdjacent(prev, cur):
		return math.Log2(6) // a key has about six neighbours
	}
	return math.Inf(1)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Character classes.
const (
	classLower = 1 << iota
	classUpper
	classDigit
	classPunct
	classOther
)

func charClass(c rune) int {
	switch {
	case c >= 'a' && c <= 'z':
		return classLower
	case c >= 'A' && c <= 'Z':
		return classUpper
	case c >= '0' && c <= '9':
		return classDigit
	case c >= ' ' && c <= '~':
		return classPunct
	}
	return classOther
}

func sameClass(a, b rune) bool { return charClass(a) == charClass(b) }

// alphabetSize is the size of the alphabet s appears to be drawn from.
func alphabetSize(s string) int {
	classes := 0
	for _, c := range s {
		classes |= charClass(c)
	}
	size := 0
	for _, c := range []struct{ class, size int }{
		{classLower, 26}, {classUpper, 26}, {classDigit, 10}, {classPunct, 33}, {classOther, 100},
	} {
		if classes&c.class != 0 {
			size += c.size
		}
	}
	const (
		hexLower = "0123456789abcdef"
		hexUpper = "0123456789ABCDEF"
		base64   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_="
	)
	switch {
	case onlyFrom(s, hexLower) || onlyFrom(s, hexUpper):
		size = min(size, 16)
	case onlyFrom(s, base64):
		size = min(size, 64)
	}
	return size
}

func onlyFrom(s, alphabet string) bool {
	for _, c := range s {
		if !strings.ContainsRune(alphabet, c) {
			return false
		}
	}
	return true
}

// qwertyRows are a US keyboard's rows, unshifted then shifted; each row's
// keys sit half a key right of the row above, so key c of row r touches
// keys c and c+1 of row r-1.
var qwertyRows = [2][4]string{
	{"1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./"},
	{"!@#$%^&*()_+", "QWERTYUIOP{}|", "ASDFGHJKL:\"", "ZXCVBNM<>?"},
}

// keyPos returns where c sits on the keyboard, ignoring Shift.
func keyPos(c rune) (row, col int, ok bool) {
	for _, rows := range qwertyRows {
		for r, keys := range rows {
			if i := strings.IndexRune(keys, c); i >= 0 {
				return r, i, true
			}
		}
	}
	return 0, 0, false
}

// keyboardAdjacent reports whether b is a neighbour of a (or the same key
// shifted) on a QWERTY keyboard.
func keyboardAdjacent(a, b rune) bool {
	ra, ca, ok1 := keyPos(a)
	rb, cb, ok2 := keyPos(b)
	if !ok1 || !ok2 {
		return false
	}
	switch rb - ra {
	case 0:
		return abs(cb-ca) <= 1
	case -1: // b on the row above
		return cb == ca || cb == ca+1
	case 1: // b on the row below
		return cb == ca || cb == ca-1
	}
	return false
}
