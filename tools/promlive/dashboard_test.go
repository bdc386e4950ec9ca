package promlive

import "testing"

func TestExpand(t *testing.T) {
	values := map[string]string{"__rate_interval": "4s", "__interval": "1s", "instance": `127\\.0\\.0\\.1:8000`}
	tests := []struct {
		expr, want string
		fail       bool
	}{
		{`rate(x{instance=~"$instance"}[$__rate_interval])`, `rate(x{instance=~"127\\.0\\.0\\.1:8000"}[4s])`, false},
		{`rate(x[${__interval}]) + y{instance=~"${instance:regex}"} + z{i="[[instance]]"}`,
			`rate(x[1s]) + y{instance=~"127\\.0\\.0\\.1:8000"} + z{i="127\\.0\\.0\\.1:8000"}`, false},
		{`rate(x[$__range])`, "", true},
		{`up`, `up`, false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := Expand(tt.expr, values)
			if tt.fail {
				if err == nil {
					t.Fatalf("Expand(%q) = %q, want an error for the unknown variable", tt.expr, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Expand(%q) = %q, %v; want %q", tt.expr, got, err, tt.want)
			}
		})
	}
}

func TestFormatVariable(t *testing.T) {
	multi := Variable{Name: "instance", Multi: true, IncludeAll: true}
	tests := []struct {
		v      Variable
		values []string
		want   string
	}{
		{multi, []string{"127.0.0.1:8000"}, `127\\.0\\.0\\.1:8000`},
		{multi, []string{"a:1", "b.c:2"}, `(a:1|b\\.c:2)`},
		{Variable{Name: "job"}, []string{`it's`}, `it\\'s`},
	}
	for _, tt := range tests {
		if got := FormatVariable(tt.v, tt.values); got != tt.want {
			t.Errorf("FormatVariable(%+v, %q) = %q, want %q", tt.v, tt.values, got, tt.want)
		}
	}
}

func TestParseLabelValues(t *testing.T) {
	series, label, err := ParseLabelValues(`label_values(blip_build_info{job="blip"}, instance)`)
	if err != nil || series != `blip_build_info{job="blip"}` || label != "instance" {
		t.Errorf("ParseLabelValues = %q, %q, %v", series, label, err)
	}
	if _, _, err := ParseLabelValues(`query_result(up)`); err == nil {
		t.Error("ParseLabelValues(query_result(up)) succeeded; want an error")
	}
}
