package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/config"
)

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"10m", "7d", "1d12h", "1.5d", "-3d4h", "0", "", "d", "1e3s", "9223372036854775807ns", "106751d23h47m16s", "µs", "3µs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := config.ParseDuration(s)
		if err != nil {
			return
		}
		// Without a "d" unit, the result must be Go's own.
		if !strings.Contains(s, "d") {
			want, gerr := time.ParseDuration(s)
			if gerr != nil || got != want {
				t.Errorf("ParseDuration(%q) = %v, time.ParseDuration = %v, %v", s, got, want, gerr)
			}
		}
		if !strings.HasPrefix(s, "-") && got < 0 {
			t.Errorf("ParseDuration(%q) = %v, negative without a sign", s, got)
		}
	})
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"100/hour", "10/m", "1/s", "0/day", "x/y", "/", "5/", "99999999999999999999/s", " 7 / Minutes "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := config.ParseRate(s)
		if err != nil {
			return
		}
		if r.Count < 1 || r.Period <= 0 {
			t.Errorf("ParseRate(%q) = %+v without error", s, r)
		}
		back, err := config.ParseRate(r.String())
		if err != nil || back != r {
			t.Errorf("ParseRate(%q).String() = %q does not round-trip: %+v, %v", s, r.String(), back, err)
		}
	})
}

// FuzzLoad sets each variable Load reads, in turn, to a hostile value:
// Load must return a config or an error, never panic, and never echo a
// secret.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{"", "1", "on", "postgres://u:p@h/d", "sqlite:x", "::1", "10/m", "7d", "*",
		"https://a.b", "a,b,,c", "\x00", "[", "file:", "sqlite://", "10.0.0.0/8", "1MiB", "redis://h:1/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, name := range allVars {
			cfg, err := config.Load(func(n string) string {
				if n == name {
					return value
				}
				return ""
			})
			if err != nil {
				if secretVars[name] && len(value) > 12 && strings.Contains(err.Error(), value) {
					t.Errorf("error reveals %s: %v", name, err)
				}
				continue
			}
			_ = cfg.Check(true)
			_ = cfg.String()
		}
	})
}
