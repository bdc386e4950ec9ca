package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/blipsocial/blip/internal/blip"
)

// defaultMaxBodyBytes bounds request bodies when the configured limit
// (MAX_BODY_BYTES) is not positive, so that a zero Config never means
// "unlimited".
const defaultMaxBodyBytes = 1 << 20

// nonFieldErrors is the key of validation messages that concern the body as
// a whole rather than one field (DRF's name for it).
const nonFieldErrors = "non_field_errors"

// Validator is implemented by every request body type: Valid reports the
// problems of a decoded value as messages per JSON field name, and returns
// an empty map when the value is acceptable. It checks shape (required,
// lengths, formats); rules that need stores live in package blip.
type Validator interface {
	Valid(ctx context.Context) map[string][]string
}

// encode writes v as a JSON response with the given status. It marshals
// before writing anything, so a marshal error leaves the response untouched
// and the caller can still writeProblem; an error after that means the
// client went away and is only worth logging.
func encode[T any](w http.ResponseWriter, r *http.Request, status int, v T) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", r.Method, r.URL.Path, err)
	}
	jsonContentType.set(w.Header())
	w.WriteHeader(status)
	if _, err := w.Write(append(body, '\n')); err != nil {
		return fmt.Errorf("encode %s %s: write: %w", r.Method, r.URL.Path, err)
	}
	return nil
}

// decode reads the request body as one JSON object into a T and validates
// it. Every failure is a *blip.Error, so handlers pass it to writeProblem:
//
//   - Content-Type other than application/json (a utf-8 charset parameter
//     is allowed; a missing type is refused too): 415 unsupported_media_type;
//   - a body, or an announced Content-Length, over maxBytes: 413
//     payload_too_large;
//   - empty, malformed or non-UTF-8 JSON, or data after the value: 400
//     parse_error;
//   - a value that is not an object, an unknown field or a field of the
//     wrong type: 400 invalid, with the field named in errors;
//   - T.Valid reporting problems: 400 invalid with its messages.
//
// T should be a struct type (not a pointer), so that Valid always has a
// value to inspect. maxBytes <= 0 means defaultMaxBodyBytes.
func decode[T Validator](w http.ResponseWriter, r *http.Request, maxBytes int64) (T, error) {
	var v T
	if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
		return v, err
	}
	if maxBytes <= 0 {
		maxBytes = defaultMaxBodyBytes
	}
	if r.ContentLength > maxBytes {
		return v, errTooLarge(maxBytes)
	}
	// MaxBytesReader also tells the server to close the connection once the
	// limit is hit, so a client cannot keep streaming an oversized body.
	body := http.MaxBytesReader(w, r.Body, maxBytes)
	raw, err := readJSONValue(body, maxBytes)
	if err != nil {
		return v, err
	}
	if first := firstByte(raw); first != '{' {
		return v, blip.ValidationError(map[string][]string{
			nonFieldErrors: {"Invalid data. Expected a JSON object, but got " + jsonKindOf(first) + "."},
		})
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		var zero T
		return zero, decodeError(err)
	}
	if problems := v.Valid(r.Context()); len(problems) > 0 {
		return v, blip.ValidationError(problems)
	}
	return v, nil
}

// checkJSONContentType accepts application/json with, at most, a utf-8
// charset: JSON is UTF-8 by definition (RFC 8259), so any other charset is
// a client mistake worth reporting rather than guessing around.
func checkJSONContentType(value string) error {
	mediaType, params, err := mime.ParseMediaType(value)
	if err == nil && mediaType == "application/json" {
		cs, ok := params["charset"]
		if !ok || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8") {
			return nil
		}
	}
	return blip.Errorf(blip.CodeUnsupportedMediaType,
		"Unsupported media type; send application/json.")
}

// errTooLarge is the 413 for bodies over limit bytes.
func errTooLarge(limit int64) error {
	return blip.Errorf(blip.CodePayloadTooLarge, "Request body exceeds %d bytes.", limit)
}

// readJSONValue reads exactly one JSON value from body and checks that only
// whitespace follows it. It returns the value's bytes, which are UTF-8.
func readJSONValue(body io.Reader, limit int64) (json.RawMessage, error) {
	dec := json.NewDecoder(body)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, blip.Errorf(blip.CodeParseError, "JSON parse error - request body is empty.")
		}
		return nil, readError(err, limit)
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err == nil:
		return nil, blip.Errorf(blip.CodeParseError, "JSON parse error - unexpected data after the JSON value.")
	default:
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errTooLarge(limit)
		}
		return nil, blip.Errorf(blip.CodeParseError, "JSON parse error - unexpected data after the JSON value.")
	}
	// encoding/json silently turns invalid UTF-8 into U+FFFD; refusing it
	// here keeps the domain's "valid UTF-8" rule enforceable.
	if !utf8.Valid(raw) {
		return nil, blip.Errorf(blip.CodeParseError, "JSON parse error - body is not valid UTF-8.")
	}
	return raw, nil
}

// readError maps an error met while reading the first JSON value.
func readError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge(limit)
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return blip.Errorf(blip.CodeParseError, "JSON parse error - %s at byte %d.",
			syntaxReason(syntax), syntax.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return blip.Errorf(blip.CodeParseError, "JSON parse error - unexpected end of input.")
	}
	// A read error (client reset, timeout) is not the client's JSON's fault,
	// but there is no one left to tell; 400 keeps it out of the 500 alerts.
	return blip.Errorf(blip.CodeParseError, "JSON parse error - could not read the request body.")
}

// syntaxReason returns a client-safe description of a syntax error. The
// decoder's messages quote at most one offending character, so they reveal
// nothing but the client's own input.
func syntaxReason(err *json.SyntaxError) string {
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if len(msg) > 120 || !utf8.ValidString(msg) {
		return "invalid JSON"
	}
	return msg
}

// decodeError maps an error from decoding a JSON object into the target
// type to a validation error naming the field.
func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = nonFieldErrors
		}
		return blip.ValidationError(map[string][]string{field: {expectedType(typeErr.Type)}})
	}
	// DisallowUnknownFields reports `json: unknown field "name"` and has no
	// error type of its own.
	if rest, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if name, uErr := strconv.Unquote(rest); uErr == nil && name != "" && len(name) <= 100 && utf8.ValidString(name) {
			return blip.ValidationError(map[string][]string{name: {"Unknown field."}})
		}
		return blip.ValidationError(map[string][]string{nonFieldErrors: {"Unknown field."}})
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return blip.Errorf(blip.CodeParseError, "JSON parse error - %s at byte %d.",
			syntaxReason(syntax), syntax.Offset)
	}
	// Anything else comes from a custom UnmarshalJSON rejecting its input.
	return blip.ValidationError(map[string][]string{nonFieldErrors: {"Invalid value."}})
}

// expectedType describes the JSON type a Go type accepts, for messages
// such as "Must be a string.".
func expectedType(t reflect.Type) string {
	if t == nil {
		return "Invalid type."
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "Must be a string."
	case reflect.Bool:
		return "Must be a boolean."
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "Must be an integer in range."
	case reflect.Float32, reflect.Float64:
		return "Must be a number."
	case reflect.Slice, reflect.Array:
		return "Must be a list."
	case reflect.Map, reflect.Struct:
		return "Must be an object."
	}
	return "Invalid type."
}

// firstByte returns the first non-whitespace byte of a JSON value.
func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// jsonKindOf names the JSON type that starts with b.
func jsonKindOf(b byte) string {
	switch b {
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}
