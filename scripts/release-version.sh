#!/usr/bin/env bash
# Sets the release version every module of the repository requires the
# others at (and the go.work's replacements of those versions): the first
# step of a release, see docs/releasing.md.
#
#   scripts/release-version.sh v0.2.0
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
new="${1:-}"
if ! [[ "$new" =~ ^v[01]\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]]; then
  echo "usage: $0 vX.Y.Z (v0 or v1: a v2 needs /v2 module paths)" >&2
  exit 2
fi
# The version the go.work replaces now, from its root module replacement.
old="$(sed -nE 's#^[[:space:]]*(replace[[:space:]]+)?github\.com/gosio/socketio[[:space:]]+(v[^[:space:]]+)[[:space:]]+=>.*#\2#p' go.work | head -1)"
if [ -z "$old" ]; then
  echo "go.work has no replace of github.com/gosio/socketio at a version" >&2
  exit 1
fi

# module path -> directory, for every module of the workspace.
declare -A dirOf
while read -r dir path; do
  dirOf[$path]="${dir#"$root"}"
done < <(go list -m -f '{{.Dir}} {{.Path}}')

for path in "${!dirOf[@]}"; do
  d="$root${dirOf[$path]}"
  for dep in "${!dirOf[@]}"; do
    if grep -qE "^[[:space:]]*(require[[:space:]]+)?${dep//./\\.}[[:space:]]+v" "$d/go.mod"; then
      (cd "$d" && go mod edit -require="$dep@$new")
    fi
  done
done
# The go.work's replacements of the old version name the new one.
sed -i -E 's#^([[:space:]]*(replace[[:space:]]+)?github\.com/gosio/[^[:space:]]+[[:space:]]+)'"${old//./\\.}"'([[:space:]]+=>)#\1'"$new"'\3#' go.work

echo "modules now require each other at $new (was $old). Tags for the release:"
for path in $(printf '%s\n' "${!dirOf[@]}" | sort); do
  prefix="${dirOf[$path]#/}"
  echo "  git tag ${prefix:+$prefix/}$new"
done
