# syntax=docker/dockerfile:1
# Blip: a static, non-root image. Build: docker build --build-arg VERSION=$(git describe --always) -t blip .
#
# Both base images are pinned by digest (the multi-arch index; the tag is kept
# for readers), so a rebuild of this commit builds on the same bytes. To update
# one, resolve the tag and replace the digest, then keep docs/deployment.md
# naming the same tag (CI checks both):
#   docker buildx imagetools inspect golang:1.26.N-bookworm --format '{{.Manifest.Digest}}'
#   docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot --format '{{.Manifest.Digest}}'
# (or `crane digest IMAGE`). The digests below were not resolved here (no
# registry access) but taken from public Dockerfiles that pin the same tags:
# golang:1.26.9-bookworm as in pomerium/pomerium's Dockerfile (and seven other
# public projects), distroless static-debian12:nonroot as in
# kilo666mj/taskboard's Dockerfile (commit 18d1c89) and many others, one of
# which dates it "as of 2026-08-26".
# CI builds and runs this image without Docker: tools/ociimage reads this file
# and refuses instructions it does not understand (docs/deployment.md).

FROM golang:1.26.9-bookworm@sha256:d9c68c2c51161e12fd77e4c6320687c9cd86e1af1e3ad6e6cd63ff970641453c AS build
# The image's Go, or go.mod's toolchain line (the patched release) when the
# image is older, as go1.26.9 is: the golang images say GOTOOLCHAIN=local,
# which ignores it.
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

FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
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
# SIGTERM drains: SHUTDOWN_DELAY (5s in production) with /health/ at 503, then
# in-flight requests within SHUTDOWN_TIMEOUT (15s); give Docker longer than the
# sum (docker stop -t / compose stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/blip"]
CMD ["serve"]
