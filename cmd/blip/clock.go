package main

import "time"

const (
	// flushGrace keeps revoked sessions a while, so that presenting a
	// just-revoked refresh token is still recognised as reuse.
	flushGrace = 24 * time.Hour
	// idempotencyRetention is how long an Idempotency-Key is remembered.
	idempotencyRetention = 24 * time.Hour
)

func timeNow() time.Time { return time.Now().UTC() }
