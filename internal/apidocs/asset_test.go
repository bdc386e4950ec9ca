package apidocs_test

import (
	"testing"

	"github.com/blipsocial/blip/internal/apidocs"
)

func TestIsAsset(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/api/docs/swagger-ui-bundle.js", true},
		{"/api/docs/init.js", true},
		{"/api/docs/docs.css", true},
		{"/api/docs/swagger-ui.LICENSE", true},
		{"/api/docs/", false},           // the page is throttled like any request
		{"/api/docs/index.html", false}, // the page's template, not an asset URL
		{"/api/docs/README.md", false},  // in the directory, not embedded
		{"/api/docs/nope.js", false},
		{"/api/docs/../docs/init.js", false},
		{"/api/docs/x/init.js", false},
		{"/api/v1/init.js", false},
	}
	for _, tt := range tests {
		if got := apidocs.IsAsset(tt.path); got != tt.want {
			t.Errorf("IsAsset(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
