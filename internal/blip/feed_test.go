package blip_test

import (
	"testing"

	"github.com/blipsocial/blip/internal/blip"
)

func TestPageRequest_bounds(t *testing.T) {
	id := blip.NewID()
	tests := []struct {
		name         string
		after        string
		upper, lower string
		code         blip.Code
	}{
		{"first page", "", blip.MaxID, blip.MinID, ""},
		{"after an id", id, id, id, ""},
		{"not an id", "nope", "", "", blip.CodeInvalid},
		{"sql in the cursor", "' OR 1=1 --", "", "", blip.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := blip.PageRequest{After: tt.after, Limit: 10}
			up, err := p.UpperBound()
			if blip.ErrorCode(err) != tt.code || up != tt.upper {
				t.Errorf("UpperBound() = %q, %v; want %q, code %q", up, err, tt.upper, tt.code)
			}
			lo, err := p.LowerBound()
			if blip.ErrorCode(err) != tt.code || lo != tt.lower {
				t.Errorf("LowerBound() = %q, %v; want %q, code %q", lo, err, tt.lower, tt.code)
			}
		})
	}
	if !(blip.MinID < id && id < blip.MaxID) {
		t.Errorf("%s does not sort between the sentinels", id)
	}
}
