package blip

import (
	"fmt"
	"log/slog"
)

// Redacted is what a Secret prints as.
const Redacted = "[redacted]"

// Secret is a string that must never be written out: a password, an access
// or refresh token, an Authorization or Cookie header value, a signing key.
// Holding such values in this type, rather than in a plain string, makes
// every accidental way out safe: log/slog (through LogValue, whatever the
// handler), fmt's verbs (%v, %s, %q, %x, %#v, %+v of a struct holding one in
// an exported field) and encoding/json all print "[redacted]". The value is
// read with string(s) at the one place that needs it (hashing, signing,
// comparing), which also makes those places easy to find.
//
// A Secret in an unexported struct field is still printed raw by fmt's %v
// of the struct (fmt cannot call methods there); keep secrets in exported
// fields or log them on their own.
type Secret string

// String returns "[redacted]".
func (Secret) String() string { return Redacted }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return Redacted }

// Format prints "[redacted]" for every verb, so that %x or %d cannot reveal
// the bytes either.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue makes log/slog print "[redacted]".
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON encodes "[redacted]", so a struct holding a Secret that is
// logged or encoded whole does not carry it. Response bodies that must
// carry a token convert it to a string on purpose.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText is MarshalJSON for text encoders (slog's TextHandler, map
// keys).
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
