package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/joho/godotenv"
)

// ReadDotEnv reads a .env file (KEY=value lines, # comments, quotes,
// "export" prefixes; the format of github.com/joho/godotenv). A missing
// file is an empty map, not an error: .env is optional. Parse errors give
// the line but never the file's text, which may hold secrets.
//
// As in godotenv, $NAME and ${NAME} in unquoted or double-quoted values
// are replaced by earlier variables of the same file (or ""); a value
// containing a literal $ belongs in single quotes.
func ReadDotEnv(path string) (map[string]string, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	vars, err := godotenv.UnmarshalBytes(src)
	if err != nil {
		return nil, fmt.Errorf("read %s: %s", path, dotEnvSyntaxError(src, err))
	}
	return vars, nil
}

// dotEnvSyntaxError rewrites a godotenv error, which quotes the rest of
// the file, into a message with a line number and no content.
func dotEnvSyntaxError(src []byte, err error) string {
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n")) // as godotenv does
	msg := err.Error()
	line := 0
	switch {
	case strings.HasPrefix(msg, "unexpected character"):
		// `unexpected character "x" in variable name near "<rest of file>"`
		if i := strings.Index(msg, " near "); i >= 0 {
			if rest, uerr := strconv.Unquote(msg[i+len(" near "):]); uerr == nil && len(rest) <= len(src) {
				line = 1 + bytes.Count(src[:len(src)-len(rest)], []byte("\n"))
			}
		}
		msg = "a variable name may only contain letters, digits, '_' and '.'"
	case strings.HasPrefix(msg, "unterminated quoted value "):
		value := []byte(strings.TrimPrefix(msg, "unterminated quoted value "))
		if i := bytes.Index(src, value); i >= 0 && len(value) > 0 {
			line = 1 + bytes.Count(src[:i], []byte("\n"))
		}
		msg = "unterminated quoted value"
	default:
		msg = "syntax error"
	}
	if line > 0 {
		return fmt.Sprintf("line %d: %s", line, msg)
	}
	return msg
}

// Layered returns a getenv for Load that reads the real environment
// through lookupEnv (os.LookupEnv) and falls back to dotenv. A variable
// present in the real environment wins even when empty, so `DEBUG= blip`
// resets a .env value to its default rather than keeping it.
func Layered(lookupEnv func(string) (string, bool), dotenv map[string]string) func(string) string {
	return func(name string) string {
		if v, ok := lookupEnv(name); ok {
			return v
		}
		return dotenv[name]
	}
}
