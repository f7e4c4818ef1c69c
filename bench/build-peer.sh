#!/usr/bin/env bash
# Builds the go-control-plane benchmark peer into .cache/bench-bin/<hash>/ (hash of the Go
# toolchain and every file of bench/peer) and prints that directory. Skips the build when the
# binary is already there. Uses the Go module proxy as configured by `go env`.
#
#   bash bench/build-peer.sh         build if needed, print the directory
#   bash bench/build-peer.sh --dir   only print the directory it would use
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
module="$here/peer"
binary=herald-bench-peer

if ! command -v go >/dev/null 2>&1; then
  echo "build-peer.sh: no 'go' on PATH; the benchmark peer needs Go (see bench/peer/go.mod)" >&2
  exit 3
fi

hash="$(
  cd "$module"
  {
    go env GOVERSION GOOS GOARCH
    for f in go.mod go.sum $(find . -name '*.go' -type f | LC_ALL=C sort); do
      printf '%s\n' "$f"
      cat "$f"
    done
  } | sha256sum | cut -c1-16
)"
out="$repo/.cache/bench-bin/$hash"

if [[ "${1:-}" == "--dir" ]]; then
  echo "$out"
  exit 0
fi
if [[ -x "$out/$binary" ]]; then
  echo "$out"
  exit 0
fi

# Build into a temporary sibling and rename, so an interrupted or concurrent build never leaves
# a directory that looks complete.
mkdir -p "$repo/.cache/bench-bin"
tmp="$(mktemp -d "$repo/.cache/bench-bin/.build-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "build-peer.sh: building $binary" >&2
(cd "$module" && go build -buildvcs=false -trimpath -o "$tmp/$binary" .)
if ! mv -T "$tmp" "$out" 2>/dev/null; then
  [[ -x "$out/$binary" ]] || { echo "build-peer.sh: could not create $out" >&2; exit 1; }
fi
echo "$out"
