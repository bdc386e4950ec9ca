package blip_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/blip"
)

// TestSecret_neverPrinted checks every way a value usually leaves a
// program: fmt verbs, errors, slog's handlers, encoding/json.
func TestSecret_neverPrinted(t *testing.T) {
	const value = "hunter2-correct-horse"
	s := blip.Secret(value)
	type request struct {
		Email    string
		Password blip.Secret `json:"password"`
	}
	req := request{Email: "a@example.com", Password: s}

	var outputs []string
	for _, format := range []string{"%v", "%s", "%q", "%x", "%X", "%d", "%#v", "%+v", "%10s"} {
		outputs = append(outputs, fmt.Sprintf(format, s), fmt.Sprintf(format, req), fmt.Sprintf(format, &req))
	}
	outputs = append(outputs, fmt.Sprint(s, req), fmt.Errorf("login: %v", req).Error(),
		errors.New(fmt.Sprint(s)).Error())

	raw, err := json.Marshal(req) //nolint:gosec // G117: marshalling a Secret is what this test checks
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(raw))

	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		logger := slog.New(h(&buf))
		logger.Info("secret", slog.Any("s", s), slog.Any("req", req), slog.Any("ptr", &req),
			slog.Group("g", slog.Any("s", s)), "loose", s)
		logger.With(slog.Any("with", s)).Info("with")
		outputs = append(outputs, buf.String())
	}

	for _, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
			t.Errorf("secret printed: %s", out)
		}
		if !strings.Contains(out, blip.Redacted) && !strings.Contains(out, "blip.Secret") {
			t.Errorf("output shows neither the mask nor the type: %s", out)
		}
	}
}

// TestSecret_decodesAndReveals checks that a Secret is still an ordinary
// string where it is used on purpose: JSON request bodies decode into it,
// and string(s) gives the value back.
func TestSecret_decodesAndReveals(t *testing.T) {
	var in struct {
		Password blip.Secret `json:"password"`
	}
	if err := json.Unmarshal([]byte(`{"password":"p\u00e4ss word"}`), &in); err != nil {
		t.Fatal(err)
	}
	if got := string(in.Password); got != "päss word" {
		t.Errorf("string(decoded) = %q, want %q", got, "päss word")
	}
	if in.Password == "" || len(in.Password) != len("päss word") {
		t.Errorf("comparisons and len see the value: len %d", len(in.Password))
	}
}
