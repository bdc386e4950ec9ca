package auth_test

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/auth"
	"github.com/blipsocial/blip/internal/blip"
)

func TestPoolOptions_Defaults(t *testing.T) {
	tests := []struct {
		name       string
		gomaxprocs int
		threads    uint8
		in         auth.PoolOptions
		want       auth.PoolOptions
	}{
		{"1 core", 1, 1, auth.PoolOptions{}, auth.PoolOptions{Workers: 1, MaxQueue: 16, MaxWait: 2 * time.Second}},
		{"2 cores leave one free", 2, 1, auth.PoolOptions{}, auth.PoolOptions{Workers: 1, MaxQueue: 16, MaxWait: 2 * time.Second}},
		{"4 cores", 4, 1, auth.PoolOptions{}, auth.PoolOptions{Workers: 3, MaxQueue: 48, MaxWait: 2 * time.Second}},
		{"8 cores p=2", 8, 2, auth.PoolOptions{}, auth.PoolOptions{Workers: 3, MaxQueue: 48, MaxWait: 2 * time.Second}},
		{"2 cores p=4", 2, 4, auth.PoolOptions{}, auth.PoolOptions{Workers: 1, MaxQueue: 16, MaxWait: 2 * time.Second}},
		{"explicit", 2, 1,
			auth.PoolOptions{Workers: 5, MaxQueue: 3, MaxWait: time.Second},
			auth.PoolOptions{Workers: 5, MaxQueue: 3, MaxWait: time.Second}},
		{"no queue", 2, 1,
			auth.PoolOptions{Workers: 2, MaxQueue: -1, MaxWait: -time.Second},
			auth.PoolOptions{Workers: 2, MaxQueue: 0, MaxWait: 2 * time.Second}},
		{"negative workers", 4, 1, auth.PoolOptions{Workers: -3}, auth.PoolOptions{Workers: 3, MaxQueue: 48, MaxWait: 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := runtime.GOMAXPROCS(tt.gomaxprocs)
			t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
			p := auth.InsecureArgon2Params()
			p.Threads = tt.threads
			h := auth.NewArgon2idPool(p, tt.in)
			if got := h.PoolOptions(); got != tt.want {
				t.Errorf("PoolOptions() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// gatedHasher returns a hasher whose hashes, once it is returned, each
// announce themselves on started and then block until gate is closed.
func gatedHasher(t *testing.T, o auth.PoolOptions) (h *auth.Argon2id, started <-chan struct{}, gate chan struct{}) {
	t.Helper()
	h = auth.NewArgon2idPool(auth.InsecureArgon2Params(), o)
	s := make(chan struct{}, 64)
	gate = make(chan struct{})
	auth.WrapKey(h, func(next auth.KeyFunc) auth.KeyFunc {
		return func(password string, salt []byte, p auth.Argon2Params) []byte {
			s <- struct{}{}
			<-gate
			return next(password, salt, p)
		}
	})
	return h, s, gate
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// noLeak checks, at the end of the test, that the goroutine count is back
// to what it was when noLeak was called.
func noLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		waitFor(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
	})
}

func wantBusy(t *testing.T, what string, err error) {
	t.Helper()
	if !blip.IsCode(err, blip.CodeUnavailable) {
		t.Errorf("%s: error %v, want code %s", what, err, blip.CodeUnavailable)
		return
	}
	if msg := blip.ErrorMessage(err); msg != "Too many login attempts are being processed; retry shortly." {
		t.Errorf("%s: message %q", what, msg)
	}
}

func TestArgon2idPool_SaturatedFailsFast(t *testing.T) {
	noLeak(t)
	const workers, queue = 2, 3
	// MaxWait is long, so only a full queue can explain a quick refusal.
	h, started, gate := gatedHasher(t, auth.PoolOptions{Workers: workers, MaxQueue: queue, MaxWait: time.Minute})
	encoded, err := auth.NewArgon2id(auth.InsecureArgon2Params()).Hash("right password")
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	open := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(open) // never leave goroutines blocked if the test fails early

	type result struct {
		ok  bool
		err error
	}
	results := make(chan result, workers+queue)
	for i := range workers + queue {
		go func() {
			password := "wrong password"
			if i%2 == 0 {
				password = "right password"
			}
			ok, _, err := h.Verify(password, encoded)
			results <- result{ok == (password == "right password"), err}
		}()
		if i < workers {
			<-started // the first calls hold every worker
		}
	}
	waitFor(t, "a full queue", func() bool { return h.PoolStats().Waiting == queue })
	if st := h.PoolStats(); st.Running != workers {
		t.Fatalf("PoolStats = %+v, want %d running", st, workers)
	}
	if !h.Saturated() {
		t.Error("Saturated() = false with every worker busy and the queue full")
	}

	// Every kind of call is refused at once, and alike.
	calls := []struct {
		name string
		call func() error
	}{
		{"Hash", func() error { _, err := h.Hash("new password"); return err }},
		{"Verify right", func() error { _, _, err := h.Verify("right password", encoded); return err }},
		{"Verify wrong", func() error { _, _, err := h.Verify("wrong password", encoded); return err }},
		{"VerifyDummy", func() error { return h.VerifyDummy("anything") }},
	}
	for _, c := range calls {
		begin := time.Now()
		err := c.call()
		if d := time.Since(begin); d > time.Second {
			t.Errorf("%s took %v with the queue full; want a quick refusal", c.name, d)
		}
		wantBusy(t, c.name, err)
	}
	if st := h.PoolStats(); st.QueueFull != uint64(len(calls)) || st.TimedOut != 0 {
		t.Errorf("PoolStats = %+v, want %d refused for a full queue", st, len(calls))
	}

	// Freeing the workers lets every queued call finish, correctly.
	open()
	waitFor(t, "the pool to drain", func() bool { return !h.Saturated() })
	for range workers + queue {
		r := <-results
		if r.err != nil || !r.ok {
			t.Errorf("queued Verify: correct=%v err=%v", r.ok, r.err)
		}
	}
	if st := h.PoolStats(); st.Running != 0 || st.Waiting != 0 {
		t.Errorf("PoolStats after = %+v, want idle", st)
	}
	if _, err := h.Hash("after the flood"); err != nil {
		t.Errorf("Hash after the flood: %v", err)
	}
}

func TestArgon2idPool_WaitTimesOut(t *testing.T) {
	noLeak(t)
	const maxWait = 100 * time.Millisecond
	h, started, gate := gatedHasher(t, auth.PoolOptions{Workers: 1, MaxQueue: 4, MaxWait: maxWait})
	held := make(chan error, 1)
	go func() { _, err := h.Hash("slow"); held <- err }()
	<-started

	begin := time.Now()
	_, err := h.Hash("waits")
	d := time.Since(begin)
	wantBusy(t, "Hash after MaxWait", err)
	if d < maxWait || d > maxWait+2*time.Second {
		t.Errorf("refused after %v, want about %v", d, maxWait)
	}
	if st := h.PoolStats(); st.TimedOut != 1 || st.QueueFull != 0 || st.Waiting != 0 {
		t.Errorf("PoolStats = %+v, want one time-out and nobody waiting", st)
	}

	close(gate)
	if err := <-held; err != nil {
		t.Errorf("held Hash: %v", err)
	}
	if _, err := h.Hash("after"); err != nil {
		t.Errorf("Hash once a worker is free: %v", err)
	}
}

func TestArgon2idPool_QueuedCallsProceedInTurn(t *testing.T) {
	noLeak(t)
	h := auth.NewArgon2idPool(auth.InsecureArgon2Params(), auth.PoolOptions{Workers: 1, MaxQueue: 3, MaxWait: time.Minute})
	// Each hash waits for its own token, so the test frees one worker at a time.
	tokens := make(chan struct{})
	started := make(chan struct{}, 8)
	auth.WrapKey(h, func(next auth.KeyFunc) auth.KeyFunc {
		return func(password string, salt []byte, p auth.Argon2Params) []byte {
			started <- struct{}{}
			<-tokens
			return next(password, salt, p)
		}
	})
	done := make(chan error, 4)
	go func() { _, err := h.Hash("first"); done <- err }()
	<-started
	for range 3 {
		go func() { _, err := h.Hash("queued"); done <- err }()
	}
	waitFor(t, "three waiters", func() bool { return h.PoolStats().Waiting == 3 })
	for i := range 4 {
		tokens <- struct{}{}
		if err := <-done; err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if i < 3 {
			<-started // the next waiter got the freed worker
			if st := h.PoolStats(); st.Running != 1 || st.Waiting != 2-i {
				t.Errorf("after %d done: PoolStats = %+v", i+1, st)
			}
		}
	}
}

func TestArgon2idPool_NoQueue(t *testing.T) {
	noLeak(t)
	h, started, gate := gatedHasher(t, auth.PoolOptions{Workers: 1, MaxQueue: -1})
	held := make(chan error, 1)
	go func() { held <- h.VerifyDummy("slow") }()
	<-started
	begin := time.Now()
	wantBusy(t, "VerifyDummy", h.VerifyDummy("refused"))
	if d := time.Since(begin); d > time.Second {
		t.Errorf("refusal took %v", d)
	}
	close(gate)
	if err := <-held; err != nil {
		t.Error(err)
	}
}

// TestArgon2idPool_BoundsRealHashes runs many real hashes at once and
// checks that no more than Workers ever overlap and all succeed.
func TestArgon2idPool_BoundsRealHashes(t *testing.T) {
	noLeak(t)
	const workers, callers = 2, 16
	params := auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}
	h := auth.NewArgon2idPool(params, auth.PoolOptions{Workers: workers, MaxQueue: callers, MaxWait: time.Minute})
	var running, peak atomic.Int32
	auth.WrapKey(h, func(next auth.KeyFunc) auth.KeyFunc {
		return func(password string, salt []byte, p auth.Argon2Params) []byte {
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			defer running.Add(-1)
			return next(password, salt, p)
		}
	})
	encoded, err := h.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, callers)
	for i := range callers {
		go func() {
			if i%2 == 0 {
				errs <- h.VerifyDummy("pw")
				return
			}
			ok, _, err := h.Verify("pw", encoded)
			if err == nil && !ok {
				err = errors.New("verify failed")
			}
			errs <- err
		}()
	}
	for range callers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if p := peak.Load(); p > workers || p < 1 {
		t.Errorf("peak concurrent hashes = %d, want 1..%d", p, workers)
	}
}

func TestArgon2idPool_BadParamsNotBusy(t *testing.T) {
	h := auth.NewArgon2idPool(auth.Argon2Params{Memory: 64, Time: 1 << 20}, auth.PoolOptions{})
	err := h.VerifyDummy("pw")
	if err == nil || blip.IsCode(err, blip.CodeUnavailable) {
		t.Errorf("VerifyDummyErr with bad params = %v, want the parameter error", err)
	}
}
