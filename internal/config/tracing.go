package config

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/blipsocial/blip/internal/blip"
)

// Tracing configures the export of OpenTelemetry spans over OTLP/HTTP,
// from the standard OTEL_* variables with their standard meanings (Load
// reads them; the SDK is never left to read the process environment on its
// own). Export is off unless an endpoint is set.
type Tracing struct {
	// Endpoint is the URL spans are POSTed to: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
	// as given, else OTEL_EXPORTER_OTLP_ENDPOINT with "v1/traces" appended
	// to its path. "" means export is off (also when OTEL_SDK_DISABLED).
	Endpoint string
	// Headers are sent with every export (OTEL_EXPORTER_OTLP_HEADERS,
	// "key=value,…" with percent-encoded values); they usually carry an
	// API key, hence Secrets.
	Headers map[string]blip.Secret
	// Timeout bounds one export request (OTEL_EXPORTER_OTLP_TIMEOUT, in
	// milliseconds; default 10000).
	Timeout time.Duration
	// Gzip compresses export requests (OTEL_EXPORTER_OTLP_COMPRESSION=gzip;
	// default none).
	Gzip bool
	// ServiceName is the service.name resource attribute (OTEL_SERVICE_NAME,
	// default "blip"; wins over a service.name in OTEL_RESOURCE_ATTRIBUTES).
	ServiceName string
	// ResourceAttributes are extra resource attributes
	// (OTEL_RESOURCE_ATTRIBUTES, "key=value,…", percent-encoded values).
	ResourceAttributes map[string]string
	// Sampler is OTEL_TRACES_SAMPLER: always_on, always_off, traceidratio,
	// parentbased_always_on (default), parentbased_always_off or
	// parentbased_traceidratio.
	Sampler string
	// SamplerArg is OTEL_TRACES_SAMPLER_ARG, the ratio of the traceidratio
	// samplers, in [0, 1] (default 1).
	SamplerArg float64
}

// Enabled reports whether spans are exported.
func (t Tracing) Enabled() bool { return t.Endpoint != "" }

// Samplers accepted by OTEL_TRACES_SAMPLER.
var samplers = []string{
	"parentbased_always_on", "always_on", "always_off", "traceidratio",
	"parentbased_always_off", "parentbased_traceidratio",
}

// tracing reads the OTEL_* variables.
func (l *loader) tracing() Tracing {
	t := Tracing{
		Headers:     map[string]blip.Secret{},
		Timeout:     time.Duration(l.integer("OTEL_EXPORTER_OTLP_TIMEOUT", "10000", 1, 600_000)) * time.Millisecond,
		Gzip:        l.oneOf("OTEL_EXPORTER_OTLP_COMPRESSION", "none", "none", "gzip") == "gzip",
		ServiceName: l.headerValue("OTEL_SERVICE_NAME", "blip"),
		Sampler:     l.oneOf("OTEL_TRACES_SAMPLER", samplers[0], samplers...),
		SamplerArg:  l.ratio("OTEL_TRACES_SAMPLER_ARG", "1"),
	}
	for k, v := range l.keyValues("OTEL_EXPORTER_OTLP_HEADERS", true) {
		t.Headers[k] = blip.Secret(v)
	}
	t.ResourceAttributes = l.keyValues("OTEL_RESOURCE_ATTRIBUTES", false)
	if p := l.value("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"); p != "http/protobuf" {
		l.bad("OTEL_EXPORTER_OTLP_PROTOCOL", p, "is not supported: Blip exports OTLP over HTTP as protobuf (http/protobuf)")
	}
	base := l.otlpURL("OTEL_EXPORTER_OTLP_ENDPOINT")
	full := l.otlpURL("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	switch {
	case full != nil:
		t.Endpoint = full.String()
	case base != nil:
		base.Path = strings.TrimSuffix(base.Path, "/") + "/v1/traces"
		t.Endpoint = base.String()
	}
	if l.boolean("OTEL_SDK_DISABLED", "false") {
		t.Endpoint = ""
	}
	return t
}

// otlpURL reads an http or https URL with a host and no credentials,
// query or fragment (the exporter would drop them silently), or nil when
// the variable is unset or bad.
func (l *loader) otlpURL(name string) *url.URL {
	v := l.value(name, "")
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		l.fail(name, "is not a URL")
	case u.User != nil:
		// Not quoted: the value holds a password.
		l.fail(name, "must not carry credentials; send them in OTEL_EXPORTER_OTLP_HEADERS")
	case u.Scheme != "http" && u.Scheme != "https":
		l.bad(name, v, "must be an http:// or https:// URL")
	case u.Host == "":
		l.bad(name, v, "has no host")
	case u.RawQuery != "" || u.Fragment != "":
		l.bad(name, v, "must not have a query or fragment")
	default:
		return u
	}
	return nil
}

// keyValues reads a "key=value,…" list as the OTEL_* variables spell them
// (W3C Baggage style: values percent-encoded, spaces around items ignored).
// With header set, keys must be HTTP header names and values valid header
// values, and values are never quoted in errors.
func (l *loader) keyValues(name string, header bool) map[string]string {
	out := map[string]string{}
	v := l.value(name, "")
	if v == "" {
		return out
	}
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, raw, ok := strings.Cut(item, "=")
		key = strings.TrimSpace(key)
		val, err := url.PathUnescape(strings.TrimSpace(raw))
		switch {
		case !ok || key == "":
			l.fail(name, "items must be key=value, separated by commas")
		case err != nil:
			l.fail(name, "the value of "+strconv.Quote(clip(key))+" has a malformed %-escape")
		case header && !isHeaderName(key):
			l.fail(name, strconv.Quote(clip(key))+" is not an HTTP header name")
		case strings.ContainsFunc(val, unicode.IsControl):
			l.fail(name, "the value of "+strconv.Quote(clip(key))+" contains a control character")
		default:
			if header {
				key = http.CanonicalHeaderKey(key)
			}
			out[key] = val
			continue
		}
		return map[string]string{}
	}
	return out
}

// ratio reads a number in [0, 1].
func (l *loader) ratio(name, def string) float64 {
	v := l.value(name, def)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		l.bad(name, v, "must be a number from 0 to 1")
		return 0
	}
	return f
}

// isHeaderName reports whether s is an RFC 9110 token.
func isHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return s != ""
}
