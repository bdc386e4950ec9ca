package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/blipsocial/blip/internal/blip"
)

const (
	// maxCSPReportBytes bounds a report body (64 KiB).
	maxCSPReportBytes = 64 << 10
	// maxCSPReportsPerRequest bounds the log lines one request can cause.
	maxCSPReportsPerRequest = 20
	// maxCSPFieldLen caps each logged value, in bytes.
	maxCSPFieldLen = 256
)

// isCSPDirective reports whether name is a CSP directive name. Labels come
// only from this set ("other" otherwise), so the metric's cardinality stays
// bounded whatever a client sends.
func isCSPDirective(name string) bool {
	switch name {
	case "default-src", "script-src", "script-src-elem", "script-src-attr",
		"style-src", "style-src-elem", "style-src-attr", "img-src", "font-src",
		"connect-src", "media-src", "object-src", "frame-src", "child-src",
		"worker-src", "manifest-src", "prefetch-src", "fenced-frame-src",
		"base-uri", "form-action", "frame-ancestors", "navigate-to", "sandbox",
		"require-trusted-types-for", "trusted-types", "upgrade-insecure-requests",
		"webrtc", "plugin-types", "block-all-mixed-content":
		return true
	}
	return false
}

// cspViolation is one violation, whichever format it came in.
type cspViolation struct {
	DocumentURI        string
	Referrer           string
	ViolatedDirective  string
	EffectiveDirective string
	BlockedURI         string
	SourceFile         string
	LineNumber         string
	ColumnNumber       string
	StatusCode         string
	Disposition        string
}

// lenientString accepts a JSON string, number, boolean or null, since
// browsers disagree on field types (Chromium sends line numbers as numbers,
// older Safari as strings). Objects and arrays are kept as raw JSON.
type lenientString string

func (s *lenientString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = lenientString(v)
		return nil
	}
	if string(b) == "null" {
		*s = ""
		return nil
	}
	*s = lenientString(b)
	return nil
}

// cspReportBody is the CSP Level 2 report-uri format:
// {"csp-report": {"document-uri": …}}, sent as application/csp-report.
type cspReportBody struct {
	Report *struct {
		DocumentURI        lenientString `json:"document-uri"`
		Referrer           lenientString `json:"referrer"`
		ViolatedDirective  lenientString `json:"violated-directive"`
		EffectiveDirective lenientString `json:"effective-directive"`
		BlockedURI         lenientString `json:"blocked-uri"`
		SourceFile         lenientString `json:"source-file"`
		LineNumber         lenientString `json:"line-number"`
		ColumnNumber       lenientString `json:"column-number"`
		StatusCode         lenientString `json:"status-code"`
		Disposition        lenientString `json:"disposition"`
	} `json:"csp-report"`
}

// reportingAPIReport is one entry of the Reporting API format (an array,
// sent as application/reports+json); only "csp-violation" entries are used.
type reportingAPIReport struct {
	Type lenientString `json:"type"`
	Body *struct {
		DocumentURL        lenientString `json:"documentURL"`
		Referrer           lenientString `json:"referrer"`
		EffectiveDirective lenientString `json:"effectiveDirective"`
		BlockedURL         lenientString `json:"blockedURL"`
		SourceFile         lenientString `json:"sourceFile"`
		LineNumber         lenientString `json:"lineNumber"`
		ColumnNumber       lenientString `json:"columnNumber"`
		StatusCode         lenientString `json:"statusCode"`
		Disposition        lenientString `json:"disposition"`
	} `json:"body"`
}

// handleCSPReport handles POST /csp-report/, where browsers send Content
// Security Policy violation reports. It accepts
//   - application/csp-report: {"csp-report": {...}} (report-uri; Firefox,
//     Safari, older Chromium);
//   - application/reports+json: [{"type": "csp-violation", "body": {...}}]
//     (report-to with Reporting-Endpoints; Chromium), a single object too;
//   - application/json in either shape, told apart by the first byte: some
//     browser versions and polyfills send that type.
//
// Bodies over 64 KiB are 413, other types 415, empty or malformed ones 400
// parse_error. Each violation (at most maxCSPReportsPerRequest) is logged as
// one "csp violation" line with its URIs stripped of query, fragment and
// credentials and every value capped, and counted by onReport with a
// directive label from a fixed set ("other" otherwise). It answers 204.
func handleCSPReport(logger *slog.Logger, onReport func(directive string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeProblem(w, r, logger, blip.Errorf(blip.CodeMethodNotAllowed,
				"Method %q not allowed.", r.Method))
			return
		}
		mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			mediaType = ""
		}
		switch mediaType {
		case "application/csp-report", "application/reports+json", "application/json":
		default:
			writeProblem(w, r, logger, blip.Errorf(blip.CodeUnsupportedMediaType,
				"Unsupported media type; use application/csp-report or application/reports+json."))
			return
		}
		if r.ContentLength > maxCSPReportBytes {
			writeProblem(w, r, logger, blip.Errorf(blip.CodePayloadTooLarge,
				"Report body exceeds %d bytes.", maxCSPReportBytes))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCSPReportBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeProblem(w, r, logger, blip.Errorf(blip.CodePayloadTooLarge,
					"Report body exceeds %d bytes.", maxCSPReportBytes))
				return
			}
			writeProblem(w, r, logger, blip.Errorf(blip.CodeParseError, "Could not read the report body."))
			return
		}
		violations, err := parseCSPReports(mediaType, body)
		if err != nil {
			writeProblem(w, r, logger, blip.Errorf(blip.CodeParseError, "Malformed CSP report."))
			return
		}
		for _, v := range violations {
			directive := cspDirectiveLabel(v)
			logger.LogAttrs(r.Context(), slog.LevelWarn, "csp violation",
				slog.String("request_id", requestID(r.Context())),
				slog.String("client_ip", clientIP(r.Context())),
				slog.String("directive", directive),
				slog.String("document_uri", sanitizeReportURI(v.DocumentURI)),
				slog.String("referrer", sanitizeReportURI(v.Referrer)),
				slog.String("violated_directive", capField(v.ViolatedDirective)),
				slog.String("effective_directive", capField(v.EffectiveDirective)),
				slog.String("blocked_uri", sanitizeReportURI(v.BlockedURI)),
				slog.String("source_file", sanitizeReportURI(v.SourceFile)),
				slog.String("line_number", capField(v.LineNumber)),
				slog.String("column_number", capField(v.ColumnNumber)),
				slog.String("status_code", capField(v.StatusCode)),
				slog.String("disposition", capField(v.Disposition)),
			)
			if onReport != nil {
				onReport(directive)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// errNoReport marks a body that parsed as JSON but is not a report.
var errNoReport = errors.New("csp report: no report in body")

// parseCSPReports decodes a report body of the given media type into at most
// maxCSPReportsPerRequest violations. Unknown fields are ignored: browsers
// add fields over time. A Reporting API batch holding only other report
// types yields no violations and no error.
func parseCSPReports(mediaType string, body []byte) ([]cspViolation, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errNoReport
	}
	legacy := mediaType == "application/csp-report"
	if mediaType == "application/json" {
		legacy = body[0] == '{' && bytes.Contains(body, []byte(`"csp-report"`))
	}
	if legacy {
		var rb cspReportBody
		if err := json.Unmarshal(body, &rb); err != nil {
			return nil, err
		}
		if rb.Report == nil {
			return nil, errNoReport
		}
		c := rb.Report
		return []cspViolation{{
			DocumentURI:        string(c.DocumentURI),
			Referrer:           string(c.Referrer),
			ViolatedDirective:  string(c.ViolatedDirective),
			EffectiveDirective: string(c.EffectiveDirective),
			BlockedURI:         string(c.BlockedURI),
			SourceFile:         string(c.SourceFile),
			LineNumber:         string(c.LineNumber),
			ColumnNumber:       string(c.ColumnNumber),
			StatusCode:         string(c.StatusCode),
			Disposition:        string(c.Disposition),
		}}, nil
	}

	var reports []reportingAPIReport
	switch body[0] {
	case '[':
		if err := json.Unmarshal(body, &reports); err != nil {
			return nil, err
		}
	case '{':
		var one reportingAPIReport
		if err := json.Unmarshal(body, &one); err != nil {
			return nil, err
		}
		reports = append(reports, one)
	default:
		return nil, errNoReport
	}
	var out []cspViolation
	for _, rep := range reports {
		if string(rep.Type) != "csp-violation" || rep.Body == nil {
			continue
		}
		if len(out) == maxCSPReportsPerRequest {
			break
		}
		b := rep.Body
		out = append(out, cspViolation{
			DocumentURI: string(b.DocumentURL),
			Referrer:    string(b.Referrer),
			// The Reporting API format has only the effective directive.
			ViolatedDirective:  string(b.EffectiveDirective),
			EffectiveDirective: string(b.EffectiveDirective),
			BlockedURI:         string(b.BlockedURL),
			SourceFile:         string(b.SourceFile),
			LineNumber:         string(b.LineNumber),
			ColumnNumber:       string(b.ColumnNumber),
			StatusCode:         string(b.StatusCode),
			Disposition:        string(b.Disposition),
		})
	}
	return out, nil
}

// cspDirectiveLabel is the metric label for a violation: the effective
// directive, or the name in the violated one (CSP2 browsers send the whole
// directive, "script-src 'self'"), if it is a known directive name.
func cspDirectiveLabel(v cspViolation) string {
	d := v.EffectiveDirective
	if strings.TrimSpace(d) == "" {
		d = v.ViolatedDirective
	}
	name, _, _ := strings.Cut(strings.TrimSpace(d), " ")
	name = strings.ToLower(name)
	if isCSPDirective(name) {
		return name
	}
	return "other"
}

// sanitizeReportURI strips what may carry secrets or personal data from a
// reported URI (query, fragment, user:password@) and caps its length.
// Keywords such as "inline", "eval" and "data" pass through.
func sanitizeReportURI(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		authority, path, hasPath := strings.Cut(rest, "/")
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			authority = authority[at+1:]
		}
		s = scheme + "://" + authority
		if hasPath {
			s += "/" + path
		}
	}
	return capField(s)
}

// capField limits s to maxCSPFieldLen bytes of valid UTF-8.
func capField(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxCSPFieldLen {
		return s
	}
	cut := maxCSPFieldLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
