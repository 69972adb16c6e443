# Two entry points (see README): `make demo` and `make test`.
SHELL := /bin/bash
STATICCHECK_VERSION := v0.8.2
GOBIN := $(shell go env GOPATH)/bin
# 10 s per target (13 targets): CI stays within its 20-minute budget on a
# fresh machine; FUZZTIME=5m make fuzz for a longer run.
FUZZTIME ?= 10s
# Every Go module of the repository (examples live in their own modules).
MODULES := . admin examples/admin examples/echo examples/client examples/cluster examples/chat bench parser/msgpack adapter/redis adapter/postgres adapter/nats examples/routers/nethttp examples/routers/chi examples/routers/gin examples/routers/echo examples/routers/fiber metrics/prometheus tracing/otel examples/metrics

.PHONY: all deps frontend demo chat test lint unit conformance fuzz bench-micro bench clean

all: test

# npm packages for the interop tests, the benchmarks' Node server and the demo frontends.
deps: interop/node_modules/.package-lock.json examples/echo/frontend/node_modules/.package-lock.json \
	examples/chat/frontend/node_modules/.package-lock.json bench/node/node_modules/.package-lock.json

interop/node_modules/.package-lock.json: interop/package-lock.json
	npm ci --prefix interop --no-audit --no-fund

# The Node reference server of the benchmarks (bench/cmd/bench's tests run it).
bench/node/node_modules/.package-lock.json: bench/node/package-lock.json
	npm ci --prefix bench/node --no-audit --no-fund

examples/echo/frontend/node_modules/.package-lock.json: examples/echo/frontend/package-lock.json
	npm ci --prefix examples/echo/frontend --no-audit --no-fund

examples/chat/frontend/node_modules/.package-lock.json: examples/chat/frontend/package-lock.json
	npm ci --prefix examples/chat/frontend --no-audit --no-fund

# The seed's frontend and the chat's, built for their Go servers to serve.
frontend: deps
	npm run --prefix examples/echo/frontend build
	npm run --prefix examples/chat/frontend build

# Build the seed's frontend and run the Go echo server on PORT (default 3000).
demo: frontend
	cd examples/echo && go run .

# Build the frontends and run the chat demo (examples/chat) on PORT (default 3000).
chat: frontend
	cd examples/chat && go run .

# Everything: lint, unit + interop tests with -race, the official conformance
# suites, fuzzing, micro-benchmarks.
test: deps frontend lint unit conformance fuzz bench-micro

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	@test -x $(GOBIN)/staticcheck && $(GOBIN)/staticcheck -version | grep -q $(STATICCHECK_VERSION:v%=%) || go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	for m in $(MODULES); do (cd $$m && go vet ./... && $(GOBIN)/staticcheck ./...) || exit 1; done

unit:
	for m in $(MODULES); do (cd $$m && go test -race -count=1 -timeout 10m $$(go list ./... | grep -v /conformance$$)) || exit 1; done

# The official Engine.IO v4, Socket.IO v5 and socket.io-client suites
# (conformance/suites, run twice each against our servers). They run on
# their own and without the race detector: their clients give the server a
# few milliseconds (a 5 ms abort, 50 ms ack timeouts), which a server slowed
# 2-10x by -race and sharing the machine with the other test packages misses
# now and then; the code they exercise runs under -race in every other test.
conformance:
	go test -count=1 -timeout 15m -v -run TestOfficialSuites ./conformance/

fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# Micro-benchmarks run once each so they keep compiling and working; the
# numbers are informational (docs/benchmarks.md for real comparisons).
bench-micro:
	go test -run='^$$' -bench=. -benchmem -benchtime=200ms ./...

# Load benchmarks against Node's socket.io, same machine, same run (about 8
# minutes, bounded to 12); writes docs/benchmarks.md and docs/benchmarks/*.svg.
# The scale-out scenario needs PostgreSQL at 127.0.0.1:5432 and NATS at
# 127.0.0.1:4222 (bench/README.md).
bench:
	bench/run.sh

clean:
	rm -rf interop/node_modules examples/echo/frontend/node_modules examples/echo/frontend/dist \
		examples/chat/frontend/node_modules examples/chat/frontend/dist
