# Blip developer commands. `make help` lists them.
# The two set-up commands: `make run` (embedded SQLite, in-process caches)
# and `make test`.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BIN       ?= bin/blip
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
COMPOSE   ?= docker compose
BENCHTIME ?= 1s
COUNT     ?= 1

# Build with at least the patched Go release named by go.mod's toolchain
# line (fetched once from the module proxy when the installed Go is older;
# a machine whose go.env says GOTOOLCHAIN=local would ignore that line).
# Set GOTOOLCHAIN yourself to override.
ifeq ($(origin GOTOOLCHAIN),undefined)
GOTOOLCHAIN := $(shell bash .ci/go-toolchain.sh 2>/dev/null || echo local)
endif
export GOTOOLCHAIN

GOLANGCI_LINT_VERSION ?= v2.15.0
GOVULNCHECK_VERSION   ?= v1.9.0

BLIP_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
BLIP_TEST_REDIS_URL    ?= redis://127.0.0.1:6379/0

.DEFAULT_GOAL := help

.PHONY: help run test test-integration test-load fuzz soak lint vuln fmt build bench bench-go seed \
	docker-up docker-down monitoring-up monitoring-down ci clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

run: ## Run blip with the embedded defaults (SQLite blip.db, in-memory caches)
	$(GO) run ./cmd/blip

# The race detector needs cgo, that is a C compiler: without one, `go env
# CGO_ENABLED` prints 0, and the tests run without -race after saying so.
RACE      = $(if $(filter 1,$(shell $(GO) env CGO_ENABLED)),-race)
RACE_NOTE = $(if $(RACE),,echo "make: no C compiler, so cgo is off and the race detector unavailable: running the tests without -race. Install gcc (apt-get install gcc) to run them as CI does." >&2)

test: ## Run every test with the race detector (CI runs exactly this; without a C compiler, without -race)
	@$(RACE_NOTE)
	$(GO) test $(RACE) -count=1 ./...

test-integration: ## Run the tests against local PostgreSQL and Redis; fail if unreachable
	@$(RACE_NOTE)
	BLIP_TEST_DATABASE_URL='$(BLIP_TEST_DATABASE_URL)' BLIP_TEST_REDIS_URL='$(BLIP_TEST_REDIS_URL)' \
		BLIP_TEST_REQUIRE_SERVICES=1 $(GO) test $(RACE) -count=1 ./...

test-load: ## The login-flood latency test (needs an otherwise idle machine)
	BLIP_TEST_LOAD=1 $(GO) test -count=1 -run 'TestLoginFlood' -v ./cmd/blip

fuzz: ## Every fuzz target for FUZZTIME each (default 3s), as CI runs them
	FUZZTIME=$(or $(FUZZTIME),3s) BLIP_TEST_DATABASE_URL='$(BLIP_TEST_DATABASE_URL)' BLIP_TEST_REDIS_URL='$(BLIP_TEST_REDIS_URL)' \
		bash .ci/fuzz.sh

soak: ## 2-minute soak on PostgreSQL+Redis: RSS and goroutines must stay flat (BLIP_SOAK_DURATION)
	BLIP_SOAK=1 BLIP_TEST_DATABASE_URL='$(BLIP_TEST_DATABASE_URL)' BLIP_TEST_REDIS_URL='$(BLIP_TEST_REDIS_URL)' \
		$(GO) test -count=1 -timeout 30m -run 'TestSoak' -v ./cmd/blip

lint: ## golangci-lint (installs the pinned version into GOBIN when missing)
	@test -x $(GOBIN)/golangci-lint && $(GOBIN)/golangci-lint version | grep -q '$(GOLANGCI_LINT_VERSION:v%=%)' || \
		$(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	$(GOBIN)/golangci-lint run ./...
	$(GO) -C tools run ./checkmetrics -root ..

vuln: ## govulncheck against the offline database that .ci/run builds (see docs/deployment.md)
	@test -x $(GOBIN)/govulncheck || $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	@db=$$(ls -d $$HOME/.cache/blip-ci/vulndb/* 2>/dev/null | tail -1); \
	if [ -n "$$db" ]; then $(GOBIN)/govulncheck -db "file://$$db" ./...; \
	else echo "no offline database yet (bash .ci/run builds it); using the default online one"; $(GOBIN)/govulncheck ./...; fi

fmt: ## gofmt and go mod tidy
	gofmt -w $$(git ls-files '*.go')
	$(GO) mod tidy

build: ## Static, stripped binary in bin/blip
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/blip

bench: ## Load benchmark of the real server vs a same-run baseline (docs/benchmarks.md; PROFILE=1, BENCH_*)
	bash scripts/bench.sh

bench-go: ## Go micro-benchmarks, benchstat-friendly (BENCHTIME=1s, COUNT=1 by default)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./...

seed: ## Demo data in the configured database
	$(GO) run ./cmd/blip seed --users 50 --blips 500 --follows 10

docker-up: ## API, PostgreSQL and Redis in Docker (needs SECRET_KEY in the environment or .env)
	$(COMPOSE) up -d --build

# `docker compose down` interpolates every file it is given, so the
# monitoring file's required METRICS_TOKEN and GRAFANA_ADMIN_PASSWORD (and
# SECRET_KEY) would be demanded just to stop containers, although stopping
# uses none of them. Where a variable is not in the environment, the down
# targets pass a placeholder; nothing is started with it.
COMPOSE_DOWN := SECRET_KEY="$${SECRET_KEY:-unused-by-down}" \
	METRICS_TOKEN="$${METRICS_TOKEN:-unused-by-down}" \
	GRAFANA_ADMIN_PASSWORD="$${GRAFANA_ADMIN_PASSWORD:-unused-by-down}" \
	$(COMPOSE) -f docker-compose.yml -f docker-compose.monitoring.yml down

docker-down: ## Stop the compose stack, monitoring included (volumes are kept; needs no secret)
	$(COMPOSE_DOWN)

monitoring-up: ## The stack plus Prometheus (:9090) and Grafana (:3001)
	$(COMPOSE) -f docker-compose.yml -f docker-compose.monitoring.yml up -d --build

monitoring-down: ## Stop the stack and the monitoring services (same as docker-down)
	$(COMPOSE_DOWN)

ci: ## The whole CI pipeline, as CI runs it
	bash .ci/run

clean: ## Remove build output
	rm -rf bin
