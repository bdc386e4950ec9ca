package memory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/memory"
	"github.com/blipsocial/blip/internal/ratelimit"
	"github.com/blipsocial/blip/internal/ratelimit/ratelimittest"
)

func TestLimiterStore(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store { return memory.NewLimiterStore(100) })
}

func TestLimiterStore_Bounded(t *testing.T) {
	s := memory.NewLimiterStore(10)
	rate := ratelimit.Rate{Count: 1, Period: time.Hour}
	for i := range 100 {
		if _, err := s.Allow(t.Context(), fmt.Sprint(i), rate); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Len(); n != 10 {
		t.Fatalf("Len = %d, want 10", n)
	}
	// The most recent keys are still limited.
	if res, _ := s.Allow(t.Context(), "99", rate); res.Allowed {
		t.Error("recent key forgotten")
	}
}
