package ratelimit

import (
	"strconv"
	"strings"
	"time"
)

// Header names set by Headers.
const (
	HeaderRetryAfter = "Retry-After"
	HeaderPolicy     = "RateLimit-Policy"
	HeaderRateLimit  = "RateLimit"
)

// Headers renders r as response header fields (canonical name → value),
// following draft-ietf-httpapi-ratelimit-headers-10, whose fields are
// Structured Field lists of a quoted policy name with parameters:
//
//	RateLimit-Policy: "login";q=10;w=60
//	RateLimit: "login";r=0;t=6
//	Retry-After: 6                   (rejections only)
//
// q is the quota (Count), w the window in seconds (Period, rounded up), r the
// remaining quota and t the seconds until more quota is available, rounded
// up. On a rejection t equals Retry-After, which the draft says must not
// point earlier than t. It returns plain strings so that this package stays
// free of net/http; callers copy them with Header().Set.
func (r Result) Headers(p Policy) map[string]string {
	name := sfString(p.Name)
	h := map[string]string{
		HeaderPolicy: name + ";q=" + strconv.Itoa(p.Rate.Count) +
			";w=" + strconv.FormatInt(max(ceilSeconds(p.Rate.Period), 1), 10),
	}
	var t int64
	if r.Allowed {
		t = ceilSeconds(r.nextUnit(p.Rate))
	} else {
		t = r.RetryAfterSeconds()
		h[HeaderRetryAfter] = strconv.FormatInt(t, 10)
	}
	h[HeaderRateLimit] = name + ";r=" + strconv.Itoa(max(r.Remaining, 0)) +
		";t=" + strconv.FormatInt(t, 10)
	return h
}

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up and at least
// 1: a client told "0" would retry at once and be rejected again.
func (r Result) RetryAfterSeconds() int64 {
	return max(ceilSeconds(r.RetryAfter), 1)
}

// nextUnit is how long after an allowed request one more unit of quota comes
// back. GCRA refills one unit every emission interval T; the budget in use is
// Count*T - ResetAfter, so the next unit lands when that crosses the next
// multiple of T.
func (r Result) nextUnit(rate Rate) time.Duration {
	if r.ResetAfter <= 0 || r.Remaining >= r.Limit {
		return 0
	}
	interval := rate.Interval()
	burst := interval * time.Duration(max(rate.Count, 1))
	used := burst - r.ResetAfter
	if used < 0 {
		return interval
	}
	// Redis computes in float seconds, so a boundary may come back a few
	// microseconds off; snap those to a whole interval rather than
	// announcing a refill that is really one interval away.
	const slack = time.Millisecond
	rem := used % interval
	if rem < slack || interval-rem < slack {
		return interval
	}
	return interval - rem
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// sfString renders s as a Structured Field string (RFC 9651 §3.3.3): quoted,
// with \ and " escaped; characters outside printable ASCII, which the format
// cannot carry, are dropped. Policy names are ours, so this never matters in
// practice, but a header must never be malformed.
func sfString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
