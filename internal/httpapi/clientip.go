package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds how many X-Forwarded-For or Forwarded entries are
// examined, so a hostile header costs little to walk. Real chains are short.
const maxForwardedHops = 32

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
// For a trusted peer it walks X-Forwarded-For from the right, skipping
// trusted addresses, and takes the first untrusted one: entries to its left
// were written by the client and may be forged. When X-Forwarded-For is
// absent it reads RFC 7239 Forwarded the same way. The scheme likewise comes
// from X-Forwarded-Proto (or Forwarded proto=) only when the peer is trusted,
// and from the connection (r.TLS) otherwise. A malformed header is ignored and
// the peer's own address and scheme are used. See docs/security.md.
func clientIPMiddleware(trusted []netip.Prefix) func(http.Handler) http.Handler {
	trusted = normalizePrefixes(trusted)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, r := withState(r)
			st.client, st.hasClient = resolveClient(r, trusted), true
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
func resolveClient(r *http.Request, trusted []netip.Prefix) clientInfo {
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

	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		ip, idx, n, ok := walkForwardedFor(strings.Join(xff, ","), trusted)
		if !ok {
			return info
		}
		info.ip = ip.String()
		protos := splitList(strings.Join(r.Header.Values("X-Forwarded-Proto"), ","))
		if p, ok := pickProto(protos, idx, n); ok {
			info.scheme = p
		}
		return info
	}
	if fwd := r.Header.Values("Forwarded"); len(fwd) > 0 {
		elems, ok := parseForwarded(strings.Join(fwd, ","))
		if !ok {
			return info
		}
		ip, proto, ok := walkForwarded(elems, trusted)
		if !ok {
			return info
		}
		info.ip = ip.String()
		if p, ok := normalizeProto(proto); ok {
			info.scheme = p
		}
		return info
	}
	// A trusted proxy that sent only a scheme (some TLS terminators do).
	protos := splitList(strings.Join(r.Header.Values("X-Forwarded-Proto"), ","))
	if p, ok := pickProto(protos, 0, 1); ok {
		info.scheme = p
	}
	return info
}

// pickProto chooses the X-Forwarded-Proto entry describing the hop whose
// client was selected: when proxies append to both headers the lists line
// up, so entry idx of n X-Forwarded-For entries matches entry idx of the
// protos. When they do not line up, the right-most value (written by the
// trusted proxy nearest to us) is used.
func pickProto(protos []string, idx, n int) (string, bool) {
	if len(protos) == 0 {
		return "", false
	}
	v := protos[len(protos)-1]
	if len(protos) == n && idx >= 0 && idx < n {
		v = protos[idx]
	}
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

// splitList splits a comma-separated header value, trimming blanks and
// dropping empty elements (RFC 9110 §5.6.1 allows them).
func splitList(v string) []string {
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// walkForwardedFor walks an X-Forwarded-For value from the right and returns
// the right-most address not in trusted, with its index among the n entries.
// When every entry is trusted the left-most is the client. ok is false when
// the header is malformed where it matters: an entry reached by the walk
// does not parse, or the list is empty or absurdly long.
func walkForwardedFor(v string, trusted []netip.Prefix) (ip netip.Addr, idx, n int, ok bool) {
	entries := splitList(v)
	n = len(entries)
	if n == 0 || n > maxForwardedHops {
		return netip.Addr{}, 0, n, false
	}
	for i := n - 1; i >= 0; i-- {
		a, ok := parseNodeAddr(entries[i])
		if !ok {
			return netip.Addr{}, 0, n, false
		}
		if !isTrusted(a, trusted) || i == 0 {
			return a, i, n, true
		}
	}
	return netip.Addr{}, 0, n, false // unreachable: i == 0 returns
}

// forwardedElem is one comma-separated element of an RFC 7239 Forwarded
// header: the "for" node and the "proto" parameter, raw.
type forwardedElem struct {
	forNode string
	proto   string
}

// walkForwarded is walkForwardedFor for parsed Forwarded elements; the proto
// returned is the one written in the same element as the chosen address,
// which is the scheme that client used to reach the proxy recording it.
func walkForwarded(elems []forwardedElem, trusted []netip.Prefix) (ip netip.Addr, proto string, ok bool) {
	if len(elems) == 0 || len(elems) > maxForwardedHops {
		return netip.Addr{}, "", false
	}
	for i := len(elems) - 1; i >= 0; i-- {
		// "unknown" and obfuscated "_id" nodes do not parse: the client
		// cannot be identified, so the caller falls back to the peer.
		a, ok := parseNodeAddr(elems[i].forNode)
		if !ok {
			return netip.Addr{}, "", false
		}
		if !isTrusted(a, trusted) || i == 0 {
			return a, elems[i].proto, true
		}
	}
	return netip.Addr{}, "", false
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
