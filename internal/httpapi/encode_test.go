package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// decodeTestBody is a request body shaped like the API's.
type decodeTestBody struct {
	Name   string   `json:"name"`
	Age    int      `json:"age"`
	Tags   []string `json:"tags"`
	Nested struct {
		Flag bool `json:"flag"`
	} `json:"nested"`
}

func (b decodeTestBody) Valid(context.Context) map[string][]string {
	problems := map[string][]string{}
	if strings.TrimSpace(b.Name) == "" {
		problems["name"] = append(problems["name"], "This field is required.")
	}
	if b.Age < 0 {
		problems["age"] = append(problems["age"], "Must not be negative.")
	}
	return problems
}

const decodeTestLimit = 1024

// newDecodeTestServer serves POST /echo: decode, then encode the value back.
func newDecodeTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := decode[decodeTestBody](w, r, decodeTestLimit)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		if err := encode(w, r, http.StatusOK, v); err != nil {
			t.Errorf("encode: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDecode(t *testing.T) {
	srv := newDecodeTestServer(t)
	const jsonType = "application/json"
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantCode    blip.Code
		wantField   string // a key expected in errors
	}{
		{"ok", jsonType, `{"name":"ann","age":3,"tags":["a"]}`, 200, "", ""},
		{"ok with charset", "application/json; charset=utf-8", `{"name":"ann"}`, 200, "", ""},
		{"ok charset upper", "application/json; charset=UTF-8", `{"name":"ann"}`, 200, "", ""},
		{"ok trailing whitespace", jsonType, "{\"name\":\"ann\"}\n \t\n", 200, "", ""},
		{"missing content type", "", `{"name":"ann"}`, 415, blip.CodeUnsupportedMediaType, ""},
		{"text/plain", "text/plain", `{"name":"ann"}`, 415, blip.CodeUnsupportedMediaType, ""},
		{"form", "application/x-www-form-urlencoded", `name=ann`, 415, blip.CodeUnsupportedMediaType, ""},
		{"json lookalike", "application/jsonx", `{"name":"ann"}`, 415, blip.CodeUnsupportedMediaType, ""},
		{"latin1 charset", "application/json; charset=latin1", `{"name":"ann"}`, 415, blip.CodeUnsupportedMediaType, ""},
		{"garbage content type", ";;;", `{"name":"ann"}`, 415, blip.CodeUnsupportedMediaType, ""},
		{"oversize body", jsonType, `{"name":"` + strings.Repeat("a", 2*decodeTestLimit) + `"}`, 413, blip.CodePayloadTooLarge, ""},
		{"oversize trailing", jsonType, `{"name":"ann"}` + strings.Repeat(" ", 2*decodeTestLimit) + "x", 413, blip.CodePayloadTooLarge, ""},
		{"empty", jsonType, ``, 400, blip.CodeParseError, ""},
		{"malformed", jsonType, `{"name":`, 400, blip.CodeParseError, ""},
		{"syntax", jsonType, `{"name" "ann"}`, 400, blip.CodeParseError, ""},
		{"trailing garbage", jsonType, `{"name":"ann"} x`, 400, blip.CodeParseError, ""},
		{"second value", jsonType, `{"name":"ann"}{"name":"bob"}`, 400, blip.CodeParseError, ""},
		{"trailing bracket", jsonType, `{"name":"ann"}]`, 400, blip.CodeParseError, ""},
		{"invalid utf8", jsonType, "{\"name\":\"\xff\xfe\"}", 400, blip.CodeParseError, ""},
		{"unknown field", jsonType, `{"name":"ann","admin":true}`, 400, blip.CodeInvalid, "admin"},
		{"unknown nested field", jsonType, `{"name":"ann","nested":{"x":1}}`, 400, blip.CodeInvalid, "x"},
		{"wrong type", jsonType, `{"name":42}`, 400, blip.CodeInvalid, "name"},
		{"wrong type int", jsonType, `{"name":"ann","age":"3"}`, 400, blip.CodeInvalid, "age"},
		{"float for int", jsonType, `{"name":"ann","age":1.5}`, 400, blip.CodeInvalid, "age"},
		{"wrong nested type", jsonType, `{"name":"ann","nested":{"flag":"yes"}}`, 400, blip.CodeInvalid, "nested.flag"},
		{"wrong list type", jsonType, `{"name":"ann","tags":"a"}`, 400, blip.CodeInvalid, "tags"},
		{"array body", jsonType, `[{"name":"ann"}]`, 400, blip.CodeInvalid, nonFieldErrors},
		{"null body", jsonType, `null`, 400, blip.CodeInvalid, nonFieldErrors},
		{"string body", jsonType, `"ann"`, 400, blip.CodeInvalid, nonFieldErrors},
		{"invalid value", jsonType, `{"name":""}`, 400, blip.CodeInvalid, "name"},
		{"invalid two fields", jsonType, `{"name":" ","age":-1}`, 400, blip.CodeInvalid, "age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/echo", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == 200 {
				if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Errorf("Content-Type = %q", ct)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			var p problem
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("problem body %q: %v", body, err)
			}
			if p.Code != tt.wantCode || p.Status != tt.wantStatus {
				t.Errorf("problem = %+v, want code %q status %d", p, tt.wantCode, tt.wantStatus)
			}
			if tt.wantField != "" {
				if msgs := p.Errors[tt.wantField]; len(msgs) == 0 {
					t.Errorf("errors = %v, want a message for %q", p.Errors, tt.wantField)
				}
			}
		})
	}
}

// TestDecode_announcedLength sends, over a raw connection, a Content-Length
// far over the limit followed by a short body: the server answers 413 from
// the header alone instead of waiting for 10 MiB.
func TestDecode_announcedLength(t *testing.T) {
	srv := newDecodeTestServer(t)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := dialer.DialContext(t.Context(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = io.WriteString(conn, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: 10485760\r\n\r\n{\"name\":\"ann\"}")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", resp.StatusCode)
	}
}

// TestDecode_announcedLengthNotRead checks that a Content-Length over the
// limit is refused before the body is read.
func TestDecode_announcedLengthNotRead(t *testing.T) {
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", errReader{})
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = decodeTestLimit + 1
	w := httptest.NewRecorder()
	_, err := decode[decodeTestBody](w, r, decodeTestLimit)
	if got := blip.ErrorCode(err); got != blip.CodePayloadTooLarge {
		t.Fatalf("code = %q, want %q (err %v)", got, blip.CodePayloadTooLarge, err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("body must not be read") }

func TestEncode(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
	if err := encode(w, r, http.StatusCreated, map[string]string{"a": "<b>"}); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusCreated {
		t.Errorf("status = %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if got := w.Body.String(); got != "{\"a\":\"\\u003cb\\u003e\"}\n" {
		t.Errorf("body = %q", got)
	}

	// A value that cannot be marshalled leaves the response untouched.
	w = httptest.NewRecorder()
	if err := encode(w, r, http.StatusOK, map[string]any{"f": func() {}}); err == nil {
		t.Fatal("encode of a func succeeded")
	}
	if w.Body.Len() != 0 || len(w.Header()) != 0 {
		t.Errorf("response written on marshal error: %d %v", w.Body.Len(), w.Header())
	}
}

// FuzzDecode feeds arbitrary bodies and content types to decode: it must
// never panic, and every failure must be a client error with a known code.
func FuzzDecode(f *testing.F) {
	f.Add("application/json", []byte(`{"name":"ann","age":1,"tags":["x"],"nested":{"flag":true}}`))
	f.Add("application/json", []byte(`{"name":`))
	f.Add("application/json; charset=utf-8", []byte(`{"name":"a"} {}`))
	f.Add("application/json", []byte(`[1,2,3]`))
	f.Add("application/json", []byte("{\"name\":\"\xff\"}"))
	f.Add("application/json", []byte(`{"nested":{"flag":"x"},"zzz":1}`))
	f.Add("text/plain", []byte(`{}`))
	allowed := map[blip.Code]bool{
		blip.CodeInvalid: true, blip.CodeParseError: true,
		blip.CodePayloadTooLarge: true, blip.CodeUnsupportedMediaType: true,
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		_, err := decode[decodeTestBody](w, r, 512)
		if err == nil {
			return
		}
		if code := blip.ErrorCode(err); !allowed[code] {
			t.Fatalf("decode(%q, %q) error code %q: %v", contentType, body, code, err)
		}
	})
}
