#!/usr/bin/env bash
# Builds the pinned kustomize from its Go module into .cache/kustomize/<version>/ (git-ignored)
# so tests render deploy/ without kubectl. The last line on stdout is the binary's path;
# progress goes to stderr. A built binary is reused.
#
#   deploy/tools/build-kustomize.sh          build if needed, print the path
#   deploy/tools/build-kustomize.sh --path   print the path only (exit 3 if not built yet)
set -euo pipefail

version="v5.8.1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${HERALD_KUSTOMIZE_DIR:-$root/.cache/kustomize/$version}"
bin="$dir/kustomize"

if [[ "${1:-}" == "--path" ]]; then
  echo "$bin"
  [[ -x "$bin" ]] || exit 3
  exit 0
fi
if [[ -x "$bin" ]]; then
  echo "kustomize $version cached" >&2
  echo "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "Go not found: it is needed to build kustomize $version" >&2
  exit 2
fi

tmp="$dir.partial.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
echo "building kustomize $version with $(go version) ..." >&2
start=$SECONDS
CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kustomize/kustomize/v5@$version"
mkdir -p "$dir"
mv "$tmp/kustomize" "$bin"
echo "built kustomize $version in $((SECONDS - start)) s" >&2
echo "$bin"
