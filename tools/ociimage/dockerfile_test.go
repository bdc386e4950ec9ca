package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeDockerfile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRuntimeConfigOf(t *testing.T) {
	path := writeDockerfile(t, `# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
RUN go build -o /out/x ./cmd/x

FROM gcr.io/distroless/static-debian12:nonroot@sha256:0123
COPY --from=build /out/x /x
WORKDIR /data
USER 65532:65532
ENV A=1 \
    B="two words" \
    C=:8000
ENV LEGACY some value
EXPOSE 8000 9100/udp
LABEL org.opencontainers.image.title="x"
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 CMD ["/x", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/x"]
CMD ["serve"]
`)
	stages, err := ParseDockerfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 2 || stages[0].Name != "build" || stages[1].From != "gcr.io/distroless/static-debian12:nonroot@sha256:0123" {
		t.Fatalf("stages = %+v", stages)
	}
	got, err := RuntimeConfigOf(stages[1], RuntimeConfig{User: "65532", WorkingDir: "/home/nonroot", Env: []string{"PATH=/bin", "A=0"}})
	if err != nil {
		t.Fatal(err)
	}
	want := RuntimeConfig{
		User:         "65532:65532",
		ExposedPorts: map[string]struct{}{"8000/tcp": {}, "9100/udp": {}},
		Env:          []string{"PATH=/bin", "A=1", "B=two words", "C=:8000", "LEGACY=some value"},
		Entrypoint:   []string{"/x"},
		Cmd:          []string{"serve"},
		WorkingDir:   "/data",
		StopSignal:   "SIGTERM",
		Healthcheck: &Healthcheck{Test: []string{"CMD", "/x", "health"},
			Interval: 10 * time.Second, Timeout: 3 * time.Second, StartPeriod: 15 * time.Second, Retries: 3},
		Labels: map[string]string{"org.opencontainers.image.title": "x"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RuntimeConfigOf =\n%+v\nwant\n%+v", got, want)
	}
}

func TestRuntimeConfigOfRefuses(t *testing.T) {
	for _, line := range []string{
		`CMD /x serve`,                     // shell form: the image has no shell
		`ENTRYPOINT ["/x"`,                 // bad JSON
		`HEALTHCHECK --bogus=1 CMD ["/x"]`, // unknown option
		`HEALTHCHECK CMD-SHELL x`,
		`VOLUME /data`, // not understood: must fail, not be skipped
		`ONBUILD RUN x`,
	} {
		t.Run(line, func(t *testing.T) {
			stages, err := ParseDockerfile(writeDockerfile(t, "FROM scratch\n"+line+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := RuntimeConfigOf(stages[0], RuntimeConfig{}); err == nil {
				t.Errorf("%s: accepted", line)
			}
		})
	}
}

// The repository's Dockerfile must stay within what the tool understands,
// and its final stage must describe a non-root image with an entrypoint and
// a health check in exec form.
func TestRepositoryDockerfile(t *testing.T) {
	stages, err := ParseDockerfile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	final := stages[len(stages)-1]
	if repo, _ := splitRef(final.From); repo != distroless {
		t.Errorf("final stage FROM %s: the tool stands in for %s only", final.From, distroless)
	}
	cfg, err := RuntimeConfigOf(final, RuntimeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User == "" || cfg.User == "0" || strings.HasPrefix(cfg.User, "0:") || strings.HasPrefix(cfg.User, "root") {
		t.Errorf("USER %q: the image must not run as root", cfg.User)
	}
	if len(cfg.Entrypoint) == 0 || cfg.Healthcheck == nil || cfg.Healthcheck.Test[0] != "CMD" || len(cfg.ExposedPorts) == 0 {
		t.Errorf("final stage config %+v: want ENTRYPOINT, HEALTHCHECK CMD [...] and EXPOSE", cfg)
	}
	for _, in := range final.Instrs {
		if in.Cmd == "COPY" && in.Flags["from"] != "" {
			if _, ok := stageNamed(stages[:len(stages)-1], in.Flags["from"]); !ok {
				t.Errorf("line %d: COPY --from=%s names no build stage", in.Line, in.Flags["from"])
			}
		}
	}
}

func TestShellWords(t *testing.T) {
	vars := map[string]string{"VERSION": "v1.2", "E": ""}
	tests := []struct {
		in   string
		want []string
	}{
		{`CGO_ENABLED=0 go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/x`,
			[]string{"CGO_ENABLED=0", "go", "build", "-ldflags", "-s -w -X main.version=v1.2", "-o", "/out/x"}},
		{`a 'single $VERSION' $VERSION "q\"uote" x\ y "$E"`, []string{"a", "single $VERSION", "v1.2", `q"uote`, "x y", ""}},
	}
	for _, tt := range tests {
		got, err := shellWords(tt.in, vars)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`"unclosed`, `'unclosed`, `$UNDEFINED`, `${VERSION`} {
		if got, err := shellWords(bad, vars); err == nil {
			t.Errorf("shellWords(%q) = %q; want an error", bad, got)
		}
	}
}

func TestRunStageRefuses(t *testing.T) {
	for _, line := range []string{
		`RUN apt-get install -y curl`,
		`RUN go build ./... | tee log`,
		`RUN --network=none go build ./...`,
		`COPY --from=other /x /y`,
		`ADD https://example.com/x /x`,
	} {
		t.Run(line, func(t *testing.T) {
			stages, err := ParseDockerfile(writeDockerfile(t, "FROM golang:1.26 AS build\nWORKDIR /src\n"+line+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = runStage(stages[0], Options{Root: t.TempDir(), Work: t.TempDir(), Log: &strings.Builder{}})
			if err == nil {
				t.Errorf("%s: accepted", line)
			}
		})
	}
}

func TestSplitRef(t *testing.T) {
	for ref, want := range map[string][2]string{
		"gcr.io/distroless/static-debian12:nonroot":             {"gcr.io/distroless/static-debian12", "nonroot"},
		"gcr.io/distroless/static-debian12:nonroot@sha256:abcd": {"gcr.io/distroless/static-debian12", "nonroot"},
		"localhost:5000/x":     {"localhost:5000/x", "latest"},
		"golang:1.26-bookworm": {"golang", "1.26-bookworm"},
	} {
		if repo, tag := splitRef(ref); repo != want[0] || tag != want[1] {
			t.Errorf("splitRef(%q) = %q, %q; want %q", ref, repo, tag, want)
		}
	}
}

func TestReleaseLine(t *testing.T) {
	for in, want := range map[string]string{"go1.26.8": "go1.26", "go1.26": "go1.26", "go1.27rc1": "go1.27rc1", "go1": "go1"} {
		if got := releaseLine(in); got != want {
			t.Errorf("releaseLine(%q) = %q, want %q", in, got, want)
		}
	}
}
