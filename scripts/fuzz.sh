#!/usr/bin/env bash
# Runs every native fuzz target of the module for FUZZTIME (default 20s) each.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-20s}"
status=0
while IFS= read -r file; do
  dir="./$(dirname "$file")"
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$file" | awk '{print $2}'); do
    echo "== fuzz $dir $target ($FUZZTIME)"
    if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$dir"; then
      status=1
    fi
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | sort)
exit $status
