package main

import (
	"reflect"
	"testing"
)

func TestReferences(t *testing.T) {
	tests := []struct {
		expr string
		want []ref
	}{
		{`sum(rate(blip_http_requests_total{code=~"5..", route!="/x"}[5m])) by (route)`,
			[]ref{{metric: "blip_http_requests_total", labels: []string{"code", "route"}}}},
		{`histogram_quantile(0.99, sum by (le, route) (rate(blip_http_request_duration_seconds_bucket{job="$job"}[$__rate_interval])))`,
			[]ref{{metric: "blip_http_request_duration_seconds_bucket", labels: []string{"job"}}}},
		{`up{job="blip"} == 0`, []ref{{metric: "up", labels: []string{"job"}}}},
		{`label_values(blip_build_info, instance)`, []ref{{metric: "blip_build_info"}}},
		{`label_values(instance)`, nil},
		{`a / on(instance) group_left b > 1e3 and c offset 5m`, []ref{{metric: "a"}, {metric: "b"}, {metric: "c"}}},
		{`sum(blip_db_pool_acquired_conns) / sum(blip_db_pool_max_conns) > 0.9`,
			[]ref{{metric: "blip_db_pool_acquired_conns"}, {metric: "blip_db_pool_max_conns"}}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			if got := references(tt.expr); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("references(%q) = %+v, want %+v", tt.expr, got, tt.want)
			}
		})
	}
}
