// Package memory holds the in-process caches and rate-limit store that Blip
// uses when no Redis is configured, and as the per-process fallback when Redis
// is unreachable. Everything here is bounded in size and safe for concurrent
// use; nothing is shared between replicas.
package memory
