#!/usr/bin/env bash
# Runs every native fuzz target of every Go module for FUZZTIME (default
# 10s) each.
#
# A target fails when the fuzzer reports a failing input. On a loaded
# machine the Go fuzzer itself can end with "context deadline exceeded"
# without any failing input; such a run is retried once.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
FUZZTIME="${FUZZTIME:-10s}"
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# moddir prints the directory of the go.mod that owns directory $1.
moddir() {
  local d="$1"
  while [ ! -f "$d/go.mod" ]; do d="$(dirname "$d")"; done
  echo "$d"
}

while IFS= read -r file; do
  dir="$(cd "$(dirname "$file")" && pwd)"
  mod="$(moddir "$dir")"
  rel="./${dir#"$mod"}"
  rel="${rel/\/\//\/}"
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$file" | awk '{print $2}'); do
    for try in 1 2; do
      echo "== fuzz ${dir#"$root"/} $target ($FUZZTIME, try $try)"
      if (cd "$mod" && go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$rel") 2>&1 | tee "$log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
        break
      fi
      if grep -q "Failing input written" "$log" || [ "$try" -eq 2 ]; then
        status=1
        break
      fi
    done
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | sort)
exit $status
