package auth_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/auth"
	"github.com/blipsocial/blip/internal/blip"
)

func TestQuickRatio(t *testing.T) {
	// Expected values computed with Python's difflib.SequenceMatcher.
	tests := []struct {
		a, b string
		want float64
	}{
		{"testclient", "testclient", 1},
		{"example.com", "example", 0.7777777777777778},
		{"example.com", "testclient@example.com", 0.6666666666666666},
		{"password", "drowssap", 1},
		{"abc", "", 0},
		{"", "", 1},
		{"hello", "world", 0.4},
		{"aabbcc", "abc", 0.6666666666666666},
		{"tëstçlient", "testclient", 0.8},
	}
	for _, tt := range tests {
		t.Run(tt.a+"|"+tt.b, func(t *testing.T) {
			got := auth.QuickRatio([]rune(tt.a), []rune(tt.b))
			if math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("quickRatio(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestPasswordProblems(t *testing.T) {
	const (
		tooShort  = "This password is too short. It must contain at least 8 characters."
		tooCommon = "This password is too common."
		numeric   = "This password is entirely numeric."
		tooLong   = "This password is too long. It must contain at most 128 characters."
		simUser   = "The password is too similar to the username."
		simEmail  = "The password is too similar to the email address."
	)
	tests := []struct {
		name, password, email, username string
		want                            []string
	}{
		// Django's own test cases (auth_tests/test_validators.py).
		{"django min length ok", "12345678x", "", "", nil},
		{"django too short", "1a2b3c7", "", "", []string{tooShort}},
		{"django common", "godzilla", "", "", []string{tooCommon}},
		{"django common is case-insensitive", "GodZilla", "", "", []string{tooCommon}},
		{"django not common", "a-safe-password", "", "", nil},
		{"django numeric", "42424242", "", "", []string{numeric}},
		{"django similar username", "testclient", "testclient@example.com", "testclient", []string{simUser}},
		{"django similar email part", "example.com", "testclient@example.com", "testclient", []string{simEmail}},
		{"no user attributes", "testclient", "", "", nil},

		{"ok", "correct horse battery staple", "alice@example.com", "alice", nil},
		{"empty", "", "a@b.c", "abc", []string{tooShort}},
		{"numeric and short", "1234", "", "", []string{tooShort, tooCommon, numeric}},
		{"unique numeric", "90817263545", "", "", []string{numeric}},
		{"common after trim", "  password  ", "", "", []string{tooCommon}},
		{"reversed username", "tnilcdlrow", "", "worldclient", []string{simUser}},
		{"similar local part", "Margaret.Hamilton1", "margaret.hamilton@nasa.gov", "mh", []string{simEmail}},
		{"username case", "ZEBRAFISH42!", "x@y.z", "zebrafish42", []string{simUser}},
		{"short value skipped", strings.Repeat("q", 40) + "bob", "", "bob", nil},
		{"max length ok", strings.Repeat("é", auth.MaxPasswordRunes), "", "", nil},
		{"too long", strings.Repeat("é", auth.MaxPasswordRunes+1), "", "", []string{tooLong}},
		{"unicode digits", "١٢٣٤٥٦٧٨٩", "", "", []string{numeric}},
		{"short and similar", "alice", "alice@example.com", "alice", []string{simUser, tooShort, tooCommon}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := auth.PasswordProblems(tt.password, tt.email, tt.username)
			if !slices.Equal(got, tt.want) {
				t.Errorf("PasswordProblems(%q, %q, %q) = %q, want %q", tt.password, tt.email, tt.username, got, tt.want)
			}
			err := auth.ValidatePassword(tt.password, tt.email, tt.username)
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("ValidatePassword = %v, want nil", err)
				}
				return
			}
			if blip.ErrorCode(err) != blip.CodeInvalid {
				t.Fatalf("ValidatePassword code = %q, want %q", blip.ErrorCode(err), blip.CodeInvalid)
			}
			if got := blip.ErrorFields(err)["password"]; !slices.Equal(got, tt.want) {
				t.Errorf("ValidatePassword fields = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCommonPasswordList checks the embedded file's promised shape:
// lower-case, unique, sorted, and about Django's 20,000 entries.
func TestCommonPasswordList(t *testing.T) {
	gz, err := os.ReadFile("common-passwords.txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	list := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	if len(list) < 19000 {
		t.Errorf("list has %d entries, want about 20,000", len(list))
	}
	for i, p := range list {
		if p == "" || p != strings.ToLower(strings.TrimSpace(p)) || strings.ContainsAny(p, "\t\r") {
			t.Fatalf("entry %d %q is not a trimmed lower-case word", i, p)
		}
		if i > 0 && list[i-1] >= p {
			t.Fatalf("entries %q, %q are not sorted and unique", list[i-1], p)
		}
	}
	for _, p := range []string{"password", "123456", "qwerty", "letmein", "iloveyou", "trustno1", "dragon"} {
		if !auth.IsCommonPassword(p) {
			t.Errorf("IsCommonPassword(%q) = false", p)
		}
	}
	if auth.IsCommonPassword("a-safe-password") {
		t.Error(`IsCommonPassword("a-safe-password") = true`)
	}
}
