package auth

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// PoolOptions bound the hashing work of one Argon2id, so that a flood of
// logins cannot take every CPU from other requests. Zero fields take the
// defaults described on each field; PoolOptions{} is the production setting.
type PoolOptions struct {
	// Workers is how many hashes may run at once. The default is
	// max(1, (GOMAXPROCS-1) / Threads): Argon2id with parallelism p keeps
	// p cores busy, and one core is left for everything else, so on a
	// 2-core machine one login hashes while the other core serves
	// /health/ and reads. Negative means the default.
	Workers int
	// MaxQueue is how many calls may wait for a worker; a call arriving
	// when the queue is full fails at once. The default is 16 × Workers:
	// at about 50 ms per OWASP hash a full queue drains in under a second,
	// half of MaxWait, so queued calls seldom time out, and a burst of a
	// dozen logins on a small machine is served rather than refused.
	// Waiting costs no CPU and no hash memory. Negative means no queue.
	MaxQueue int
	// MaxWait is the longest a call waits for a worker before failing.
	// The default (zero or negative) is 2 seconds.
	MaxWait time.Duration
}

// Defaults for PoolOptions.
const (
	defaultMaxWait = 2 * time.Second
	queuePerWorker = 16
)

// withDefaults resolves zero fields for hashes made with parallelism
// threads, using the current GOMAXPROCS.
func (o PoolOptions) withDefaults(threads uint8) PoolOptions {
	if o.Workers <= 0 {
		o.Workers = max(1, (runtime.GOMAXPROCS(0)-1)/max(1, int(threads)))
	}
	switch {
	case o.MaxQueue == 0:
		o.MaxQueue = queuePerWorker * o.Workers
	case o.MaxQueue < 0:
		o.MaxQueue = 0
	}
	if o.MaxWait <= 0 {
		o.MaxWait = defaultMaxWait
	}
	return o
}

// PoolStats is a snapshot of a hasher's pool, for metrics and tests.
type PoolStats struct {
	Running   int    // hashes running now, at most Workers
	Waiting   int    // calls waiting for a worker, at most MaxQueue
	QueueFull uint64 // calls refused at once because the queue was full
	TimedOut  uint64 // calls refused after waiting MaxWait
}

// errBusy is what a call refused by the pool returns: 503 unavailable, a
// client-safe message, and nothing about the account it was for. A fresh
// value each time, so no caller can alter another's error.
func errBusy() error {
	return blip.Errorf(blip.CodeUnavailable, "Too many login attempts are being processed; retry shortly.")
}

// hashPool is a counting semaphore with a bounded, time-limited queue. It
// starts no goroutines: each caller waits in its own.
type hashPool struct {
	// slots holds one token per running hash. A release hands its slot
	// straight to the longest-waiting sender (Go's channel send queue is
	// FIFO), so newcomers cannot overtake the queue.
	slots    chan struct{}
	maxQueue int64
	maxWait  time.Duration

	waiting   atomic.Int64
	queueFull atomic.Uint64
	timedOut  atomic.Uint64
}

func newHashPool(o PoolOptions) *hashPool {
	return &hashPool{
		slots:    make(chan struct{}, o.Workers),
		maxQueue: int64(o.MaxQueue),
		maxWait:  o.MaxWait,
	}
}

// acquire takes a slot, waiting at most maxWait and only if fewer than
// maxQueue others already wait. On success the caller must call release.
func (p *hashPool) acquire() error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	if !p.enqueue() {
		p.queueFull.Add(1)
		return errBusy()
	}
	defer p.waiting.Add(-1)
	timer := time.NewTimer(p.maxWait)
	defer timer.Stop()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-timer.C:
		p.timedOut.Add(1)
		return errBusy()
	}
}

// enqueue counts the caller as waiting unless maxQueue already wait.
func (p *hashPool) enqueue() bool {
	for {
		n := p.waiting.Load()
		if n >= p.maxQueue {
			return false
		}
		if p.waiting.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (p *hashPool) release() { <-p.slots }

// full reports whether a caller arriving now would be refused at once.
func (p *hashPool) full() bool {
	return len(p.slots) == cap(p.slots) && p.waiting.Load() >= p.maxQueue
}

func (p *hashPool) stats() PoolStats {
	return PoolStats{
		Running:   len(p.slots),
		Waiting:   int(p.waiting.Load()),
		QueueFull: p.queueFull.Load(),
		TimedOut:  p.timedOut.Load(),
	}
}
