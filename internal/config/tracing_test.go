package config_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
)

func TestLoad_TracingDefaults(t *testing.T) {
	tr := mustLoad(t, nil).Tracing
	want := config.Tracing{
		Headers: map[string]blip.Secret{}, Timeout: 10 * time.Second, ServiceName: "blip",
		ResourceAttributes: map[string]string{}, Sampler: "parentbased_always_on", SamplerArg: 1,
	}
	if !reflect.DeepEqual(tr, want) {
		t.Errorf("Tracing = %+v, want %+v", tr, want)
	}
	if tr.Enabled() {
		t.Error("export is on without an endpoint")
	}
}

func TestLoad_Tracing(t *testing.T) {
	tests := []struct {
		name  string
		vars  map[string]string
		check func(t *testing.T, tr config.Tracing)
	}{
		{"base endpoint gets v1/traces", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
			func(t *testing.T, tr config.Tracing) {
				wantEqual(t, "Endpoint", tr.Endpoint, "http://collector:4318/v1/traces")
				if !tr.Enabled() {
					t.Error("not enabled")
				}
			}},
		{"base endpoint with a path", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otlp.example.com/otlp/"},
			func(t *testing.T, tr config.Tracing) {
				wantEqual(t, "Endpoint", tr.Endpoint, "https://otlp.example.com/otlp/v1/traces")
			}},
		{"traces endpoint as is, and winning", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/custom",
		}, func(t *testing.T, tr config.Tracing) {
			wantEqual(t, "Endpoint", tr.Endpoint, "http://b:4318/custom")
		}},
		{"sdk disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_SDK_DISABLED": "true"},
			func(t *testing.T, tr config.Tracing) {
				if tr.Enabled() {
					t.Errorf("enabled with OTEL_SDK_DISABLED: %q", tr.Endpoint)
				}
			}},
		{"headers, percent-decoded, canonical keys", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": " api-key = s%3Dcr%2Cet , x-tenant=blue,"},
			func(t *testing.T, tr config.Tracing) {
				want := map[string]blip.Secret{"Api-Key": "s=cr,et", "X-Tenant": "blue"}
				if !reflect.DeepEqual(tr.Headers, want) {
					t.Errorf("Headers = %#v, want %#v", tr.Headers, want)
				}
			}},
		{"timeout, gzip, service, resource, sampler", map[string]string{
			"OTEL_EXPORTER_OTLP_TIMEOUT": "2500", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
			"OTEL_SERVICE_NAME": "blip-eu", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,team=core%20api",
			"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		}, func(t *testing.T, tr config.Tracing) {
			wantEqual(t, "Timeout", tr.Timeout, 2500*time.Millisecond)
			wantEqual(t, "Gzip", tr.Gzip, true)
			wantEqual(t, "ServiceName", tr.ServiceName, "blip-eu")
			wantEqual(t, "Sampler", tr.Sampler, "parentbased_traceidratio")
			wantEqual(t, "SamplerArg", tr.SamplerArg, 0.25)
			want := map[string]string{"deployment.environment": "prod", "team": "core api"}
			if !reflect.DeepEqual(tr.ResourceAttributes, want) {
				t.Errorf("ResourceAttributes = %v, want %v", tr.ResourceAttributes, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, mustLoad(t, tt.vars).Tracing) })
	}
}

func wantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestLoad_TracingErrors checks that each malformed OTEL_* value is a
// startup error naming its variable, and that secret values (headers, URL
// credentials) are not quoted in it.
func TestLoad_TracingErrors(t *testing.T) {
	const secret = "s3cr3t-value"
	tests := []struct{ name, value string }{
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:" + secret + "@collector:4318"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/?token=x"},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c/v1/traces#frag"},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c\x7f/"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
		{"OTEL_EXPORTER_OTLP_HEADERS", "api-key"},
		{"OTEL_EXPORTER_OTLP_HEADERS", "=" + secret},
		{"OTEL_EXPORTER_OTLP_HEADERS", "bad key=" + secret},
		{"OTEL_EXPORTER_OTLP_HEADERS", "api-key=" + secret + "%zz"},
		{"OTEL_EXPORTER_OTLP_HEADERS", "api-key=" + secret + "%0a"},
		{"OTEL_EXPORTER_OTLP_TIMEOUT", "10s"},
		{"OTEL_EXPORTER_OTLP_TIMEOUT", "0"},
		{"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"},
		{"OTEL_RESOURCE_ATTRIBUTES", "novalue"},
		{"OTEL_TRACES_SAMPLER", "sometimes"},
		{"OTEL_TRACES_SAMPLER_ARG", "1.5"},
		{"OTEL_TRACES_SAMPLER_ARG", "half"},
		{"OTEL_SDK_DISABLED", "maybe"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := config.Load(envOf(map[string]string{tt.name: tt.value}))
			var le *config.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load: err = %v, want a *LoadError", err)
			}
			if !le.Has(tt.name) || len(le.Vars) != 1 {
				t.Errorf("errors %v, want one for %s", err, tt.name)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error quotes a secret: %v", err)
			}
		})
	}
}
