package blip

import (
	"errors"
	"fmt"
	"maps"
)

// Code is a stable, machine-readable error code. The values are the API's:
// they appear verbatim as the "code" member of problem responses.
type Code string

// Error codes (DRF's names where DRF has one).
const (
	CodeInvalid              Code = "invalid"
	CodeParseError           Code = "parse_error"
	CodeBadHost              Code = "bad_host"
	CodeNotAuthenticated     Code = "not_authenticated"
	CodeTokenNotValid        Code = "token_not_valid"
	CodeNoActiveAccount      Code = "no_active_account"
	CodePermissionDenied     Code = "permission_denied"
	CodeCSRFFailed           Code = "csrf_failed"
	CodeNotFound             Code = "not_found"
	CodeMethodNotAllowed     Code = "method_not_allowed"
	CodeConflict             Code = "conflict"
	CodePayloadTooLarge      Code = "payload_too_large"
	CodeUnsupportedMediaType Code = "unsupported_media_type"
	CodeIdempotencyKeyReused Code = "idempotency_key_reused"
	CodeThrottled            Code = "throttled"
	CodeUnavailable          Code = "unavailable"
	CodeInternal             Code = "internal"
)

// Error is a domain error whose message is safe to show to API clients.
// Anything that is not an *Error is internal and its text is never shown.
type Error struct {
	Code    Code
	Message string
	// Fields holds per-field validation messages for CodeInvalid.
	Fields map[string][]string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("blip error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ValidationError returns a CodeInvalid error carrying per-field messages.
// It returns nil when fields is empty, so callers can collect and return.
func ValidationError(fields map[string][]string) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: CodeInvalid, Message: "Invalid input.", Fields: maps.Clone(fields)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for a nil
// error and CodeInternal for any other error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of err, or a generic text for
// internal errors.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorFields returns the per-field validation messages carried by err, if any.
func ErrorFields(err error) map[string][]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code Code) bool { return err != nil && ErrorCode(err) == code }

// unavailableError marks a failure of a dependency as a whole, not of the
// request: to errors.As it is a *Error with CodeUnavailable,
// which the API answers with 503 and Retry-After, while Unwrap still leads
// to the cause for logs and for errors.Is.
type unavailableError struct {
	code *Error
	err  error
}

func (e *unavailableError) Error() string   { return e.err.Error() + " (unavailable)" }
func (e *unavailableError) Unwrap() []error { return []error{e.code, e.err} }

// Unavailable wraps err, which must not be nil, as a CodeUnavailable error:
// the dependency cannot serve now and the client should retry later.
func Unavailable(err error) error {
	return &unavailableError{
		code: Errorf(CodeUnavailable, "The service is temporarily unavailable; retry shortly."),
		err:  err,
	}
}

// MarkUnavailable returns err wrapped by Unavailable when it carries no
// domain code yet and isUnavailable recognises it as an outage, and err
// unchanged otherwise (nil, not found, conflict… and other failures, which
// stay internal). Adapters call it with their driver's outage test.
func MarkUnavailable(err error, isUnavailable func(error) bool) error {
	if err == nil || ErrorCode(err) != CodeInternal || !isUnavailable(err) {
		return err
	}
	return Unavailable(err)
}
