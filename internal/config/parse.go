package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ParseDuration parses a Go duration ("90s", "1h30m") extended with a "d"
// unit of 24 hours ("7d", "1d12h", "1.5d"). A leading sign is allowed; a
// bare number other than "0" is not, as its unit would be a guess.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	invalid := fmt.Errorf("%q is not a duration (use a number and a unit: ns, us, ms, s, m, h, d)", clip(orig))
	if s == "" {
		return 0, invalid
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, invalid
	}
	var days time.Duration
	var rest strings.Builder
	for s != "" {
		// A component: digits with at most one dot, then a unit.
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		num := s[:i]
		if num == "" || num == "." || strings.Count(num, ".") > 1 {
			return 0, invalid
		}
		j := i
		for j < len(s) && s[j] != '.' && (s[j] < '0' || s[j] > '9') {
			j++
		}
		unit := s[i:j]
		s = s[j:]
		switch unit {
		case "":
			return 0, invalid
		case "d":
			// n days is n hours times 24, which keeps fractions exact to
			// the nanosecond as far as time.ParseDuration does.
			h, err := time.ParseDuration(num + "h")
			if err != nil || h > math.MaxInt64/24 {
				return 0, invalid
			}
			d := h * 24
			if days > math.MaxInt64-d {
				return 0, invalid
			}
			days += d
		default:
			rest.WriteString(num)
			rest.WriteString(unit)
		}
	}
	var other time.Duration
	if rest.Len() > 0 {
		var err error
		other, err = time.ParseDuration(rest.String())
		if err != nil || other < 0 {
			return 0, invalid
		}
	}
	if days > math.MaxInt64-other {
		return 0, invalid
	}
	total := days + other
	if neg {
		total = -total
	}
	return total, nil
}

// ParseRate parses a throttle rate "N/period" as Django REST framework
// does: period is second, minute, hour or day, their plurals, or the
// abbreviations s, sec, m, min, h, hr, d (any case). N must be at least 1.
func ParseRate(s string) (Rate, error) {
	invalid := fmt.Errorf("%q is not a rate (use N/second, N/minute, N/hour or N/day)", clip(s))
	num, period, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, invalid
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || strings.HasPrefix(strings.TrimSpace(num), "+") {
		return Rate{}, invalid
	}
	if n < 1 {
		return Rate{}, fmt.Errorf("%q: the count must be at least 1", clip(s))
	}
	var d time.Duration
	switch strings.ToLower(strings.TrimSpace(period)) {
	case "s", "sec", "secs", "second", "seconds":
		d = time.Second
	case "m", "min", "mins", "minute", "minutes":
		d = time.Minute
	case "h", "hr", "hrs", "hour", "hours":
		d = time.Hour
	case "d", "day", "days":
		d = 24 * time.Hour
	default:
		return Rate{}, invalid
	}
	return Rate{Count: n, Period: d}, nil
}

// parseBool accepts 1/0, true/false, yes/no, on/off in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("is not a boolean (use 1/0, true/false, yes/no or on/off)")
}

// parseSize reads a byte count: an integer, optionally followed by B, KB,
// MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024), any case.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
		i--
	}
	num, unit := strings.TrimSpace(s[:i]), strings.ToLower(strings.TrimSpace(s[i:]))
	mult := map[string]int64{
		"": 1, "b": 1,
		"kb": 1000, "mb": 1000 * 1000, "gb": 1000 * 1000 * 1000,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
	}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if mult == 0 || err != nil || n < 0 || strings.HasPrefix(num, "+") {
		return 0, errors.New("is not a size (use bytes, or a number with KB, KiB, MB, MiB, GB or GiB)")
	}
	if n > math.MaxInt64/mult {
		return 0, errors.New("is too large")
	}
	return n * mult, nil
}

// splitList splits a comma-separated list, trimming items and dropping
// empty ones.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseDatabaseURL validates a DATABASE_URL and returns it normalised with
// its engine. Its errors never contain the URL, which may hold a password.
func parseDatabaseURL(raw string) (normalised, engine string, err error) {
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return "", "", errors.New("not a URL (use postgres://…, sqlite:path or file:path)")
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		u, err := url.Parse(raw)
		if err != nil {
			// url.Error quotes the URL; say only what kind of problem it is.
			return "", "", errors.New("not a valid postgres:// URL (is a special character in the password not %-escaped?)")
		}
		if u.Opaque != "" || (u.Host == "" && u.Query().Get("host") == "" && u.Path == "") {
			return "", "", errors.New("a postgres URL needs //host/dbname")
		}
		return raw, "postgres", nil
	case "sqlite", "sqlite3":
		path := rest
		if after, ok := strings.CutPrefix(rest, "//"); ok {
			// URL form: the authority must be empty, so what follows is an
			// absolute path ("sqlite:///abs/blip.db"); extra slashes
			// (SQLAlchemy's "sqlite:////abs") collapse. "sqlite://" and
			// "sqlite://:memory:" are in-memory databases.
			switch {
			case after == "" || after == ":memory:":
				path = ":memory:"
			case strings.HasPrefix(after, "/"):
				path = "/" + strings.TrimLeft(after, "/")
			default:
				return "", "", errors.New("use sqlite:relative/path.db or sqlite:///absolute/path.db")
			}
		}
		if path == "" || strings.HasPrefix(path, "?") || path == "/" {
			return "", "", errors.New("sqlite URL has no file name")
		}
		if strings.ContainsFunc(path, unicode.IsControl) {
			return "", "", errors.New("sqlite path contains a control character")
		}
		return "sqlite:" + path, "sqlite", nil
	case "file":
		if rest == "" || strings.ContainsFunc(rest, unicode.IsControl) {
			return "", "", errors.New("file: URI has no valid path")
		}
		return raw, "sqlite", nil
	}
	return "", "", fmt.Errorf("unsupported scheme %q (use postgres://, postgresql://, sqlite: or file:)", clip(scheme))
}

// buildPostgresURL assembles DB_* parts into a postgres:// URL, escaping
// the user and password. A host starting with "/" is a Unix socket
// directory, passed as the host query parameter as libpq and pgx expect.
func buildPostgresURL(name, user, pass, host string, port int) (string, error) {
	if name == "" {
		name = "blip"
	}
	if strings.ContainsAny(name, "/?#") || strings.ContainsFunc(name, unicode.IsControl) {
		return "", fmt.Errorf("%q is not a database name", clip(name))
	}
	u := url.URL{Scheme: "postgres", Path: "/" + name}
	switch {
	case user != "" && pass != "":
		u.User = url.UserPassword(user, pass)
	case user != "":
		u.User = url.User(user)
	case pass != "":
		u.User = url.UserPassword("", pass)
	}
	if host == "" {
		host = "localhost"
	}
	if strings.HasPrefix(host, "/") {
		q := url.Values{"host": {host}, "port": {strconv.Itoa(port)}}
		u.RawQuery = q.Encode()
	} else {
		u.Host = net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
	}
	return u.String(), nil
}

// parseAddr validates a listen address "host:port" (host may be empty,
// port 0-65535).
func parseAddr(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("is not host:port (e.g. :8000 or 127.0.0.1:8000)")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("has an invalid port")
	}
	if host != "" && !validHostName(host) {
		if _, err := netip.ParseAddr(host); err != nil {
			return errors.New("has an invalid host")
		}
	}
	return nil
}

// validHostName reports whether s is a DNS-style name: labels of letters,
// digits, hyphens and underscores separated by dots.
func validHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// normaliseHost validates one ALLOWED_HOSTS entry and returns it in the
// form Config documents.
func normaliseHost(s string) (string, error) {
	s = strings.ToLower(s)
	if s == "*" {
		return s, nil
	}
	if strings.Contains(s, "://") || strings.Contains(s, "/") {
		return "", errors.New("is not a host name (no scheme or path; origins go in CORS_ALLOWED_ORIGINS or CSRF_TRUSTED_ORIGINS)")
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		if a.Zone() != "" {
			return "", errors.New("has an IPv6 zone")
		}
		a = a.Unmap()
		if a.Is6() {
			return "[" + a.String() + "]", nil
		}
		return a.String(), nil
	}
	if strings.Contains(s, ":") {
		return "", errors.New("must not include a port (Blip compares host names without ports)")
	}
	if !validHostName(strings.TrimPrefix(s, ".")) {
		return "", errors.New("is not a host name, IP address, .domain or *")
	}
	return s, nil
}

// normaliseOrigin validates one origin and returns it as lower-case
// "scheme://host[:port]" without a default port, the form browsers send
// in the Origin header.
func normaliseOrigin(s string) (string, error) {
	bad := errors.New("is not an origin (use scheme://host[:port], e.g. https://app.example.com)")
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return "", bad
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", bad
	}
	if u.Path != "" && u.Path != "/" {
		return "", errors.New("must not have a path (use scheme://host[:port])")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" || strings.Contains(host, "*") {
		return "", errors.New("needs a literal host (wildcards are not supported)")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return "", bad
		}
		host = a.Unmap().String()
		if a.Unmap().Is6() {
			host = "[" + host + "]"
		}
	} else if !validHostName(host) {
		return "", bad
	}
	if strings.HasSuffix(u.Host, ":") {
		return "", bad
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", errors.New("has an invalid port")
		}
		if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
			port = ""
		} else {
			port = strconv.Itoa(n)
		}
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
}

// parsePrefix reads a CIDR or a bare IP address (a /32 or /128), masked
// and with IPv4-mapped IPv6 addresses unmapped.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, errors.New("is not a CIDR or IP address")
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, errors.New("is not a CIDR or IP address")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// isReferrerPolicy reports whether s is a token of the Referrer-Policy
// header.
func isReferrerPolicy(s string) bool {
	switch s {
	case "no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
		"same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url":
		return true
	}
	return false
}

// clip shortens a value quoted in an error so one huge variable does not
// flood the log.
func clip(s string) string {
	const maxLen = 64
	if len(s) <= maxLen {
		return s
	}
	cut := maxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
