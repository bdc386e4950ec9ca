package memory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/cachetest"
	"github.com/blipsocial/blip/internal/memory"
)

func TestCache(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) blip.Cache { return memory.NewCache(100) })
}

func TestCache_Bounded(t *testing.T) {
	c := memory.NewCache(10)
	ctx := t.Context()
	for i := range 100 {
		if err := c.Set(ctx, fmt.Sprint(i), []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Incr(ctx, fmt.Sprint("n", i), 1, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Len(); n != 10 {
		t.Fatalf("Len = %d, want 10", n)
	}
}

func TestCache_EvictsLeastRecentlyUsed(t *testing.T) {
	c := memory.NewCache(2)
	ctx := t.Context()
	_ = c.Set(ctx, "a", []byte("a"), time.Minute)
	_ = c.Set(ctx, "b", []byte("b"), time.Minute)
	if _, ok, _ := c.Get(ctx, "a"); !ok { // a is now more recent than b
		t.Fatal("a missing")
	}
	_ = c.Set(ctx, "c", []byte("c"), time.Minute)
	if _, ok, _ := c.Get(ctx, "b"); ok {
		t.Error("b survived, want it evicted as least recently used")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok, _ := c.Get(ctx, k); !ok {
			t.Errorf("%s evicted, want kept", k)
		}
	}
}

func TestNewCache_NonPositiveSize(t *testing.T) {
	for _, n := range []int{0, -1} {
		c := memory.NewCache(n)
		if err := c.Set(t.Context(), "k", []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := c.Get(t.Context(), "k"); !ok {
			t.Errorf("NewCache(%d): value not kept", n)
		}
	}
}
