# syntax=docker/dockerfile:1
# Blip: a static, non-root image. Build: docker build --build-arg VERSION=$(git describe --always) -t blip .
# Pin both base images by digest in production (docker buildx imagetools inspect).
# CI builds and runs this image without Docker: tools/ociimage reads this file
# and refuses instructions it does not understand (docs/deployment.md).

FROM golang:1.26-bookworm AS build
# The image's Go, or go.mod's toolchain line (the patched release) when the
# image is older: the golang images say GOTOOLCHAIN=local, which ignores it.
ENV GOTOOLCHAIN=auto
WORKDIR /src
# Dependencies first, so a code change does not download modules again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download && go mod verify
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: the SQLite driver is pure Go, so the binary is fully static
# and runs on distroless/static without libc.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/blip ./cmd/blip
# The working directory where the embedded SQLite default would put blip.db,
# owned by the distroless nonroot user (65532); distroless has no mkdir.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/blip /blip
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
USER 65532:65532
ENV APP_ENV=production \
    HTTP_ADDR=:8000 \
    JSON_LOGS=1
EXPOSE 8000
# distroless has no shell or curl: the binary checks itself. `blip health`
# GETs /health/ on HTTP_ADDR (via 127.0.0.1) and exits 0 only on 200.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 CMD ["/blip", "health"]
# SIGTERM drains within SHUTDOWN_TIMEOUT (default 15s); give Docker longer
# (docker stop -t / compose stop_grace_period) than that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/blip"]
CMD ["serve"]
