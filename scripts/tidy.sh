#!/usr/bin/env bash
# go mod tidy for every module of the workspace (or the module directories
# given as arguments), before the version they require each other at is
# tagged.
#
# go mod tidy ignores go.work: in a submodule it looks the root module up at
# the version its go.mod requires, which no proxy has until the release is
# tagged. This script publishes the working tree at that version into a
# temporary file proxy (internal/modproxy), runs go mod tidy against it
# with a temporary module cache (so the unreleased versions never reach
# the shared one), and drops the lines of our own modules from each go.sum:
# their checksums are those of the working tree, not of the release.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tmp="$(mktemp -d)"
cleanup() {
  GOMODCACHE="$tmp/mod" go clean -modcache 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go run ./internal/modproxy/cmd/modproxy -o "$tmp/proxy" >/dev/null
shared="$(go env GOMODCACHE)/cache/download"
upstream="$(go env GOPROXY)"

if [ $# -gt 0 ]; then
  dirs=("$@")
else
  mapfile -t dirs < <(go list -m -f '{{.Dir}}')
fi
for d in "${dirs[@]}"; do
  echo "== go mod tidy in ${d#"$root"/}"
  (
    cd "$d"
    GOWORK=off GOFLAGS=-modcacherw GOMODCACHE="$tmp/mod" GONOSUMDB=github.com/gosio \
      GOPROXY="file://$tmp/proxy,file://$shared,$upstream" go mod tidy
    if [ -f go.sum ]; then
      grep -v '^github.com/gosio/' go.sum >"$tmp/go.sum" || true
      cat "$tmp/go.sum" >go.sum
    fi
  )
done
