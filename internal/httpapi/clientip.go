package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/blipsocial/blip/internal/config"
)

// maxForwardedHops bounds how many X-Forwarded-For entries or Forwarded
// elements are examined, from the right: a hostile header costs little to
// walk, and entries a client wrote further left are never reached. Real
// proxy chains are short.
const maxForwardedHops = 32

// maxForwardedElement bounds one Forwarded element's length.
const maxForwardedElement = 512

// clientInfo is what clientIPMiddleware learns about the far end of a
// request: the client's address and the scheme it used to reach us.
type clientInfo struct {
	ip     string
	scheme string // "http" or "https"
}

// clientIPMiddleware records the client's IP address and request scheme in
// the request context, read back with clientIP and requestScheme.
//
// The client is the TCP peer unless the peer is in trusted (TRUSTED_PROXIES).
// For a trusted peer it reads the one header trusted proxies are configured
// to write (TRUSTED_PROXY_HEADER: config.HeaderXForwardedFor, the default,
// with X-Forwarded-Proto for the scheme; or config.HeaderForwarded, RFC 7239
// with its proto= parameter); the other is ignored, so a header the client
// sent and the proxy passed along never decides. It walks the header from
// the right, skipping trusted addresses, and takes the first untrusted one:
// entries to its left were written by the client and may be forged. The
// walk examines at most maxForwardedHops entries; when all of them are
// trusted, the left-most examined is the client. Entries further left are
// never read, so their number or syntax cannot move the client anywhere.
// When an entry the walk reaches does not parse (which only a trusted
// proxy can cause, since the walk stops at the client's own address), the
// peer's address and scheme are used. See docs/security.md.
func clientIPMiddleware(trusted []netip.Prefix, header string) func(http.Handler) http.Handler {
	trusted = normalizePrefixes(trusted)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, r := withState(r)
			st.client, st.hasClient = resolveClient(r, trusted, header), true
			next.ServeHTTP(w, r)
		})
	}
}

// clientIP returns the client address resolved by clientIPMiddleware, or ""
// when the middleware did not run.
func clientIP(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil && st.hasClient {
		return st.client.ip
	}
	return ""
}

// requestScheme returns "https" or "http": the scheme resolved by
// clientIPMiddleware (honouring a trusted proxy's X-Forwarded-Proto), or the
// connection's own when the middleware did not run.
func requestScheme(r *http.Request) string {
	if st := stateFrom(r.Context()); st != nil && st.hasClient && st.client.scheme != "" {
		return st.client.scheme
	}
	return connScheme(r)
}

// isHTTPS reports whether the client reached us over HTTPS, directly or
// through a trusted proxy.
func isHTTPS(r *http.Request) bool { return requestScheme(r) == "https" }

func connScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// normalizePrefixes unmaps IPv4-in-IPv6 prefixes so that they match the
// unmapped addresses compared against them, and drops invalid ones.
func normalizePrefixes(ps []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		if !p.IsValid() {
			continue
		}
		a := p.Addr()
		if a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// resolveClient implements clientIPMiddleware's decision.
func resolveClient(r *http.Request, trusted []netip.Prefix, header string) clientInfo {
	info := clientInfo{scheme: connScheme(r)}
	peer, ok := parsePeer(r.RemoteAddr)
	if !ok {
		// Not an IP peer (a Unix socket, a test): log what we were given.
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		info.ip = host
		return info
	}
	info.ip = peer.String()
	if !isTrusted(peer, trusted) {
		return info
	}

	if header == config.HeaderForwarded {
		fwd := r.Header.Values("Forwarded")
		if len(fwd) == 0 {
			return info
		}
		ip, proto, ok := walkForwarded(fwd, trusted)
		if !ok {
			return info
		}
		info.ip = ip.String()
		if p, ok := normalizeProto(proto); ok {
			info.scheme = p
		}
		return info
	}

	protos := r.Header.Values("X-Forwarded-Proto")
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		// A trusted proxy that sent only a scheme (some TLS terminators do).
		if p, ok := pickProto(protos, 0, 1); ok {
			info.scheme = p
		}
		return info
	}
	ip, k, ok := walkForwardedFor(xff, trusted)
	if !ok {
		return info
	}
	info.ip = ip.String()
	if p, ok := pickProto(protos, k, countEntries(xff)); ok {
		info.scheme = p
	}
	return info
}

// pickProto chooses the X-Forwarded-Proto entry describing the hop whose
// client was selected, k entries from the right of the n X-Forwarded-For
// entries: when proxies append to both headers the lists line up. When they
// do not, the right-most value (written by the trusted proxy nearest to
// us) is used.
func pickProto(protos []string, k, n int) (string, bool) {
	m := countEntries(protos)
	if m == 0 {
		return "", false
	}
	want := 0
	if m == n && k >= 0 && k < n {
		want = k
	}
	var v string
	i := 0
	eachEntryFromRight(protos, func(e string) bool {
		v = e
		i++
		return i <= want
	})
	return normalizeProto(v)
}

func normalizeProto(v string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "https":
		return "https", true
	case "http":
		return "http", true
	}
	return "", false
}

// parsePeer parses r.RemoteAddr ("ip:port", or a bare ip).
func parsePeer(remote string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return parseNodeAddr(remote)
}

// parseNodeAddr parses one forwarded address as proxies write them: a bare
// IPv4 or IPv6 address, "[v6]", "v4:port" or "[v6]:port". Zones are dropped
// and IPv4-mapped IPv6 addresses unmapped, so they match IPv4 prefixes.
func parseNodeAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

// eachEntryFromRight calls fn with the comma-separated entries of header
// values (several lines read as one list), trimmed, empty ones dropped (RFC
// 9110 §5.6.1 allows them), right-most first, until fn returns false. It
// allocates nothing, however long the header.
func eachEntryFromRight(values []string, fn func(entry string) bool) {
	for vi := len(values) - 1; vi >= 0; vi-- {
		v := values[vi]
		end := len(v)
		for i := len(v) - 1; i >= -1; i-- {
			if i >= 0 && v[i] != ',' {
				continue
			}
			e := strings.TrimSpace(v[i+1 : end])
			end = i
			if e != "" && !fn(e) {
				return
			}
		}
	}
}

// countEntries counts the entries eachEntryFromRight would visit.
func countEntries(values []string) int {
	n := 0
	eachEntryFromRight(values, func(string) bool { n++; return true })
	return n
}

// walkForwardedFor walks X-Forwarded-For values from the right and returns
// the right-most address not in trusted, and k, its position from the
// right (0 for the right-most). When every entry examined is trusted (the
// list ends, or maxForwardedHops entries were read) the left-most examined
// is the client. ok is false when an entry the walk reaches does not parse
// or the list is empty; entries left of the client are never read.
func walkForwardedFor(values []string, trusted []netip.Prefix) (ip netip.Addr, k int, ok bool) {
	k, ok = -1, true
	eachEntryFromRight(values, func(e string) bool {
		a, parsed := parseNodeAddr(e)
		if !parsed {
			ok = false
			return false
		}
		ip = a
		k++
		return isTrusted(a, trusted) && k+1 < maxForwardedHops
	})
	if !ok || k < 0 {
		return netip.Addr{}, 0, false
	}
	return ip, k, true
}

// forwardedElem is one comma-separated element of an RFC 7239 Forwarded
// header: the "for" node and the "proto" parameter, raw.
type forwardedElem struct {
	forNode string
	proto   string
}

// walkForwarded is walkForwardedFor for RFC 7239 Forwarded values: it walks
// the elements from the right (each parsed on its own, so a malformed
// element left of the client is never read) and returns the client's
// address with the proto written in the same element, the scheme that
// client used to reach the proxy recording it. An element without a
// for= address ("unknown", an obfuscated "_id", or none) ends the walk
// with ok false: the client cannot be identified.
func walkForwarded(values []string, trusted []netip.Prefix) (ip netip.Addr, proto string, ok bool) {
	n := 0
	ok = true
	eachForwardedElementFromRight(values, func(raw string) bool {
		if len(raw) > maxForwardedElement {
			ok = false
			return false
		}
		elems, parsed := parseForwarded(raw)
		if !parsed || len(elems) != 1 {
			ok = false
			return false
		}
		a, parsed := parseNodeAddr(elems[0].forNode)
		if !parsed {
			ok = false
			return false
		}
		ip, proto = a, elems[0].proto
		n++
		return isTrusted(a, trusted) && n < maxForwardedHops
	})
	if !ok || n == 0 {
		return netip.Addr{}, "", false
	}
	return ip, proto, true
}

// eachForwardedElementFromRight calls fn with the raw elements of Forwarded
// values, right-most first, until fn returns false. It splits at commas
// outside quoted strings, scanning backwards, so an unbalanced quote a
// client put on the left cannot swallow the elements proxies appended on
// the right.
func eachForwardedElementFromRight(values []string, fn func(raw string) bool) {
	for vi := len(values) - 1; vi >= 0; vi-- {
		v := values[vi]
		end, quoted := len(v), false
		for i := len(v) - 1; i >= -1; i-- {
			if i >= 0 {
				if v[i] == '"' && !escapedAt(v, i) {
					quoted = !quoted
				}
				if v[i] != ',' || quoted {
					continue
				}
			}
			e := strings.TrimSpace(v[i+1 : end])
			end = i
			if e != "" && !fn(e) {
				return
			}
		}
	}
}

// escapedAt reports whether v[i] is preceded by an odd number of
// backslashes (a quoted-pair).
func escapedAt(v string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && v[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// parseForwarded parses an RFC 7239 Forwarded header value:
//
//	Forwarded   = 1#forwarded-element
//	forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
//	forwarded-pair = token "=" value ; value = token / quoted-string
//
// Parameter names are case-insensitive. It returns ok false on any syntax
// error, so a malformed header is ignored as a whole.
func parseForwarded(v string) ([]forwardedElem, bool) {
	if len(v) > 4096 {
		return nil, false
	}
	var (
		elems []forwardedElem
		cur   forwardedElem
		pairs int
	)
	i := 0
	skipWS := func() {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
	}
	for {
		skipWS()
		if i >= len(v) {
			break
		}
		switch v[i] {
		case ',':
			if pairs > 0 {
				elems = append(elems, cur)
			}
			cur, pairs = forwardedElem{}, 0
			i++
			continue
		case ';':
			i++
			continue
		}
		// token
		start := i
		for i < len(v) && isTokenChar(v[i]) {
			i++
		}
		if i == start || i >= len(v) || v[i] != '=' {
			return nil, false
		}
		name := strings.ToLower(v[start:i])
		i++ // '='
		var value string
		if i < len(v) && v[i] == '"' {
			var b strings.Builder
			i++
			closed := false
			for i < len(v) {
				c := v[i]
				if c == '\\' && i+1 < len(v) {
					b.WriteByte(v[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return nil, false
			}
			value = b.String()
		} else {
			start := i
			for i < len(v) && isTokenChar(v[i]) {
				i++
			}
			if i == start {
				return nil, false
			}
			value = v[start:i]
		}
		switch name {
		case "for":
			cur.forNode = value
		case "proto":
			cur.proto = value
		}
		pairs++
		skipWS()
		if i < len(v) && v[i] != ';' && v[i] != ',' {
			return nil, false
		}
	}
	if pairs > 0 {
		elems = append(elems, cur)
	}
	return elems, len(elems) > 0
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
