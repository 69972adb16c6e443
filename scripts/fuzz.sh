#!/usr/bin/env bash
# Runs every native fuzz target of the module for FUZZTIME (default 20s) each.
#
# A target fails when the fuzzer reports a failing input. On a loaded
# machine the Go fuzzer itself can end with "context deadline exceeded"
# without any failing input; such a run is retried once.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-20s}"
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while IFS= read -r file; do
  dir="./$(dirname "$file")"
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$file" | awk '{print $2}'); do
    for try in 1 2; do
      echo "== fuzz $dir $target ($FUZZTIME, try $try)"
      if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$dir" 2>&1 | tee "$log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
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
