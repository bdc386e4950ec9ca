package config

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/blipsocial/blip/internal/blip"
)

// loader reads variables for Load, falling back to defaults for unset
// (empty) ones and collecting one VarError per malformed variable.
// Defaults are written as the strings an operator would set, parsed by the
// same code as real values.
type loader struct {
	getenv func(string) string
	errs   []*VarError
}

// value returns the trimmed variable, or def when it is empty.
func (l *loader) value(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

// fail records a problem with name without quoting its value.
func (l *loader) fail(name, reason string) {
	l.errs = append(l.errs, &VarError{Var: name, Reason: reason})
}

// bad records a problem with name, quoting its (non-secret) value.
func (l *loader) bad(name, value, reason string) {
	l.fail(name, strconv.Quote(clip(value))+" "+reason)
}

// ok reports whether no problem was recorded for name.
func (l *loader) ok(name string) bool {
	for _, e := range l.errs {
		if e.Var == name {
			return false
		}
	}
	return true
}

func (l *loader) env(name string) Env {
	v := l.value(name, string(Development))
	switch e := Env(strings.ToLower(v)); e {
	case Development, Production, Test:
		return e
	}
	l.bad(name, v, "is not development, production or test")
	return Development
}

func (l *loader) boolean(name, def string) bool {
	v := l.value(name, def)
	b, err := parseBool(v)
	if err != nil {
		l.bad(name, v, err.Error())
	}
	return b
}

// integer reads a base-10 integer in [lo, hi].
func (l *loader) integer(name, def string, lo, hi int) int {
	v := l.value(name, def)
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		l.bad(name, v, "is not an integer")
	case n < lo:
		l.bad(name, v, "must be at least "+strconv.Itoa(lo))
	case n > hi:
		l.bad(name, v, "must be at most "+strconv.Itoa(hi))
	default:
		return n
	}
	return 0
}

// duration reads a positive duration (ParseDuration).
func (l *loader) duration(name, def string) time.Duration {
	v := l.value(name, def)
	d, err := ParseDuration(v)
	switch {
	case err != nil:
		l.fail(name, err.Error())
	case d <= 0:
		l.bad(name, v, "must be positive")
	}
	return d
}

// durationAtMost reads a duration in [0, limit]: 0 is a valid "none".
func (l *loader) durationAtMost(name, def string, limit time.Duration) time.Duration {
	v := l.value(name, def)
	d, err := ParseDuration(v)
	switch {
	case err != nil:
		l.fail(name, err.Error())
	case d < 0:
		l.bad(name, v, "must not be negative")
	case d > limit:
		l.bad(name, v, "must be at most "+limit.String())
	}
	return d
}

func (l *loader) size(name, def string) int64 {
	v := l.value(name, def)
	n, err := parseSize(v)
	switch {
	case err != nil:
		l.bad(name, v, err.Error())
	case n < 1:
		l.bad(name, v, "must be positive")
	}
	return n
}

func (l *loader) rate(name, def string) Rate {
	r, err := ParseRate(l.value(name, def))
	if err != nil {
		l.fail(name, err.Error())
	}
	return r
}

// oneOf reads one of options, case-insensitively, and returns the option's
// canonical spelling.
func (l *loader) oneOf(name, def string, options ...string) string {
	v := l.value(name, def)
	for _, o := range options {
		if strings.EqualFold(v, o) {
			return o
		}
	}
	l.bad(name, v, "is not one of "+strings.Join(options, ", "))
	return def
}

func (l *loader) logLevel(name, def string) string {
	v := l.value(name, def)
	switch s := strings.ToLower(v); s {
	case "debug", "info", "warn", "error":
		return s
	case "warning":
		return "warn"
	}
	l.bad(name, v, "is not debug, info, warn or error")
	return def
}

func (l *loader) addr(name, def string) string {
	v := l.value(name, def)
	if v == "" {
		return ""
	}
	if err := parseAddr(v); err != nil {
		l.bad(name, v, err.Error())
		return def
	}
	return v
}

// secret reads a variable whose value must never appear in an error.
func (l *loader) secret(name string) blip.Secret {
	v := l.value(name, "")
	if strings.ContainsFunc(v, unicode.IsControl) {
		l.fail(name, "contains a control character (a stray newline?)")
		return ""
	}
	return blip.Secret(v)
}

// pem reads a secret PEM value, or a "file:" path to one. One-line values
// with literal \n (as container platforms often force) get real newlines.
func (l *loader) pem(name string, allowFile bool) string {
	v := l.value(name, "")
	if v == "" {
		return ""
	}
	if !strings.Contains(v, "\n") {
		v = strings.ReplaceAll(v, `\n`, "\n")
	}
	if path, ok := strings.CutPrefix(v, "file:"); ok {
		switch {
		case !allowFile:
			l.fail(name, "must be PEM text (file: paths are accepted only for JWT_SIGNING_KEY)")
			return ""
		case path == "" || strings.ContainsFunc(path, unicode.IsControl):
			l.fail(name, "file: needs a path, e.g. file:/run/secrets/jwt.pem")
			return ""
		}
		return v
	}
	if !strings.HasPrefix(v, "-----BEGIN ") || !strings.Contains(v, "-----END ") {
		l.fail(name, "is not PEM text (-----BEGIN … -----END …)")
		return ""
	}
	return v
}

// headerValue reads text that goes into a response header or token claim
// as is, so it must be a single line.
func (l *loader) headerValue(name, def string) string {
	v := l.value(name, def)
	if strings.ContainsFunc(v, unicode.IsControl) {
		l.fail(name, "contains a control character (line breaks are not allowed)")
		return def
	}
	return v
}

func (l *loader) referrerPolicy(name, def string) string {
	v := l.value(name, def)
	var tokens []string
	for _, t := range splitList(strings.ToLower(v)) {
		if !isReferrerPolicy(t) {
			l.bad(name, v, "is not a Referrer-Policy (e.g. same-origin, strict-origin-when-cross-origin, no-referrer)")
			return def
		}
		tokens = append(tokens, t)
	}
	if len(tokens) == 0 {
		return def
	}
	return strings.Join(tokens, ", ")
}

func (l *loader) hosts(name, def string) []string {
	var out []string
	for _, h := range splitList(l.value(name, def)) {
		n, err := normaliseHost(h)
		if err != nil {
			l.bad(name, h, err.Error())
			continue
		}
		out = append(out, n)
	}
	return out
}

func (l *loader) origins(name string) []string {
	var out []string
	for _, o := range splitList(l.value(name, "")) {
		n, err := normaliseOrigin(o)
		if err != nil {
			l.bad(name, o, err.Error())
			continue
		}
		out = append(out, n)
	}
	return out
}

func (l *loader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range splitList(l.value(name, "")) {
		p, err := parsePrefix(s)
		if err != nil {
			l.bad(name, s, err.Error())
			continue
		}
		out = append(out, p)
	}
	return out
}

// redisURL reads a redis:// or rediss:// URL; its errors never quote it,
// as it may hold a password.
func (l *loader) redisURL(name string) string {
	v := l.value(name, "")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		l.fail(name, "is not a valid URL (is a special character in the password not %-escaped?)")
	case u.Scheme != "redis" && u.Scheme != "rediss":
		l.fail(name, "must start with redis:// or rediss://")
	case u.Host == "":
		l.fail(name, "has no host (use redis://host:6379/0)")
	default:
		if db := strings.Trim(u.Path, "/"); db != "" {
			if n, err := strconv.Atoi(db); err != nil || n < 0 {
				l.fail(name, "path must be a database number (redis://host:6379/0)")
				return ""
			}
		}
		return v
	}
	return ""
}
