package blip

import (
	"fmt"

	"github.com/google/uuid"
)

// NewID returns a new UUIDv7 string: time-ordered, so it doubles as a
// keyset-pagination key, and not enumerable, so it leaks nothing.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system's random source does, and then no
		// secret or ID this process makes can be trusted either.
		panic(fmt.Sprintf("blip: uuid v7: %v", err))
	}
	return id.String()
}

// ValidID reports whether s is a canonical UUID string, so that malformed
// path parameters are rejected before they reach a store.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	id, err := uuid.Parse(s)
	return err == nil && id.String() == s
}
