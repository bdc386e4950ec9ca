package main

import (
	"bytes"
	"strings"
	"testing"
)

const (
	configMsg = `{"config":{"scanner_version":"v1.9.0","db":"file:///db","go_version":"go1.26.8","scan_level":"symbol"}}`
	stdlibMsg = `{"osv":{"id":"GO-1","summary":"s"}}
{"finding":{"osv":"GO-1","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"Error"}]}}`
	moduleMsg = `{"osv":{"id":"GO-2","summary":"m"}}
{"finding":{"osv":"GO-2","fixed_version":"v1.2.4","trace":[{"module":"example.com/m","version":"v1.2.3","package":"example.com/m","function":"F"}]}}`
	// An imported but unreached vulnerability: no function in the trace.
	unreachedMsg = `{"finding":{"osv":"GO-3","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/mail"}]}}`
)

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		input   string
		wantErr string // "" means pass
		wantOut string
	}{
		{"clean", nil, configMsg + "\n" + unreachedMsg, "", "no reachable vulnerability"},
		{"stdlib fails by default", nil, configMsg + "\n" + stdlibMsg, "standard-library", "GO-1"},
		{"stdlib fails with -fail-stdlib", []string{"-fail-stdlib"}, configMsg + "\n" + stdlibMsg, "standard-library", "GO-1"},
		{"stdlib only warns when opted out", []string{"-fail-stdlib=false"}, configMsg + "\n" + stdlibMsg, "", "WARNING: 1 reachable"},
		{"module always fails", []string{"-fail-stdlib=false"}, configMsg + "\n" + moduleMsg, "dependencies", "GO-2"},
		{"no config message", nil, stdlibMsg, "no govulncheck config", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(tt.args, strings.NewReader(tt.input), &out)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("run: %v\n%s", err, out.String())
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("run error = %v, want one containing %q\n%s", err, tt.wantErr, out.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out.String())
			}
		})
	}
}
