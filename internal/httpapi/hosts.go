package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
)

// hostPatterns is a parsed ALLOWED_HOSTS list.
type hostPatterns struct {
	any      bool
	exact    map[string]bool // lower-case names and canonical IP literals
	suffixes []string        // ".example.com": the domain and its subdomains
}

func newHostPatterns(list []string) hostPatterns {
	p := hostPatterns{exact: map[string]bool{}}
	for _, raw := range list {
		s := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case s == "":
			continue
		case s == "*":
			p.any = true
		case strings.HasPrefix(s, "."):
			s = strings.TrimSuffix(s, ".")
			if len(s) > 1 {
				p.suffixes = append(p.suffixes, s)
			}
		default:
			if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
				p.exact[a.Unmap().String()] = true
			} else if h, ok := parseHost(s); ok {
				p.exact[h] = true
			}
		}
	}
	return p
}

// match reports whether the (already parsed) host is allowed.
func (p hostPatterns) match(host string) bool {
	if p.any || p.exact[host] {
		return true
	}
	for _, s := range p.suffixes {
		if host == s[1:] || strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// isHostCheckExempt reports whether path skips the host check: load
// balancers and Kubernetes probe by IP address, whatever ALLOWED_HOSTS says.
func isHostCheckExempt(path string) bool {
	switch path {
	case "/health", "/health/", "/health/live", "/health/live/":
		return true
	}
	return false
}

// requireAllowedHost answers 400 bad_host to any request whose Host header
// is not in cfg.AllowedHosts (ALLOWED_HOSTS): exact names compared without
// case or port, ".example.com" for the domain and every subdomain, "*" for
// any host. It guards against Host-header poisoning of absolute URLs
// (pagination links, redirects). X-Forwarded-Host is never consulted. An
// empty list allows only localhost outside production and nothing in
// production. The health probes are exempt.
func requireAllowedHost(logger *slog.Logger, cfg config.Config) func(http.Handler) http.Handler {
	list := cfg.AllowedHosts
	if len(list) == 0 && cfg.Env != config.Production {
		// As Django with DEBUG on: a laptop works out of the box, while a
		// production deployment must name its hosts.
		list = []string{"localhost", "127.0.0.1", "[::1]"}
	}
	patterns := newHostPatterns(list)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isHostCheckExempt(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			host, ok := parseHost(r.Host)
			if !ok || !patterns.match(host) {
				writeProblem(w, r, logger, blip.Errorf(blip.CodeBadHost,
					"Invalid Host header; add it to ALLOWED_HOSTS if it is yours."))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// parseHost validates a Host header value (name or IP literal, optional
// port) and returns its host part, lower-case, with one trailing dot and any
// port removed; IPv6 literals lose their brackets and are canonicalised.
// It accepts what Django's host validation accepts: letters, digits, dots
// and hyphens, or a bracketed IPv6 literal.
func parseHost(hostport string) (string, bool) {
	if hostport == "" || len(hostport) > 255+8 {
		return "", false
	}
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", false
		}
		host, port = hostport[1:end], hostport[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return "", false
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
		host = a.Unmap().String()
	} else {
		if i := strings.IndexByte(hostport, ':'); i >= 0 {
			host, port = hostport[:i], hostport[i:]
		}
		host = strings.TrimSuffix(strings.ToLower(host), ".")
		if !validHostName(host) {
			return "", false
		}
		if a, err := netip.ParseAddr(host); err == nil {
			host = a.Unmap().String()
		}
	}
	if port != "" {
		digits := port[1:]
		if len(digits) == 0 || len(digits) > 5 {
			return "", false
		}
		for i := 0; i < len(digits); i++ {
			if digits[i] < '0' || digits[i] > '9' {
				return "", false
			}
		}
	}
	return host, true
}

// validHostName reports whether h is a lower-case DNS name (or IPv4
// literal): dot-separated, non-empty labels of letters, digits and hyphens.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			label++
			if label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return label > 0
}
