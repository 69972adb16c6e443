#!/usr/bin/env bash
# Runs the load benchmarks of issue #7 (Go server vs Node's socket.io, same
# machine, same run) and writes docs/benchmarks.md and docs/benchmarks/*.svg.
# Bounded: the tool stops itself after 12 minutes (BENCH_TIMEOUT); a full run
# takes about 8. The scaleout scenario runs over Redis (redis-server 7+: it
# starts its own on a free port), PostgreSQL (127.0.0.1:5432, -postgres) and
# NATS (127.0.0.1:4222, -nats); the tool checks those two before anything
# runs and stops at once, saying what to do, when one does not answer.
# Extra arguments go to the tool, e.g.
#   bench/run.sh -quick                 # small counts, checks the tool
#   bench/run.sh -only fanout,echo      # some scenarios
#   bench/run.sh -quick -only scaleout  # K = 1, 2, 4 servers over each adapter
#   bench/run.sh -only scaleout -scaleout-adapters postgres -scaleout-k 2
#   bench/run.sh -adapter classic       # scaleout with the classic Redis adapter
#   bench/run.sh -nats-jetstream        # scaleout with NATS in JetStream mode
#   bench/run.sh -profile /tmp/prof     # CPU + heap profiles of the Go server
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { echo "bench: node (20+) is required" >&2; exit 1; }
command -v redis-server >/dev/null || echo "bench: redis-server not found; the scaleout scenario will report it (Debian package redis-server)" >&2
if [ ! -f node/node_modules/.package-lock.json ] || [ node/package-lock.json -nt node/node_modules/.package-lock.json ]; then
	npm ci --prefix node --no-audit --no-fund
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/goserver" ./cmd/goserver
go build -o "$bin/bench" ./cmd/bench
"$bin/bench" -goserver "$bin/goserver" -node node -docs ../docs -timeout "${BENCH_TIMEOUT:-12m}" "$@"
# Print the summary table of the report just written.
sed -n '/^## Targets/,/^CPU:/p' ../docs/benchmarks.md | sed '$d'
