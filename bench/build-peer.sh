#!/usr/bin/env bash
# Builds the benchmark's Go binaries — the go-control-plane peer (herald-bench-peer) and the load
# generator worker (herald-bench-loadgen) — into .cache/bench-bin/<hash>/ (hash of the Go
# toolchain and every file of bench/peer) and prints that directory. Skips the build when both
# binaries are already there. Uses the Go module proxy as configured by `go env`.
#
#   bash bench/build-peer.sh         build if needed, print the directory
#   bash bench/build-peer.sh --dir   only print the directory it would use
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
module="$here/peer"
binary=herald-bench-peer
loadgen=herald-bench-loadgen

if ! command -v go >/dev/null 2>&1; then
  echo "build-peer.sh: no 'go' on PATH; the benchmark peer needs Go (see bench/peer/go.mod)" >&2
  exit 3
fi

# shellcheck source=../.ci/lib/go-cache.sh
source "$repo/.ci/lib/go-cache.sh"
out="$repo/.cache/bench-bin/$(go_module_key "$module")"

if [[ "${1:-}" == "--dir" ]]; then
  echo "$out"
  exit 0
fi
if [[ -x "$out/$binary" && -x "$out/$loadgen" ]]; then
  echo "$out"
  exit 0
fi

build_peer() {
  echo "build-peer.sh: building $binary and $loadgen" >&2
  (cd "$module" && go build -buildvcs=false -trimpath -o "$GO_BUILD_TMP/$binary" . && go build -buildvcs=false -trimpath -o "$GO_BUILD_TMP/$loadgen" ./loadgen)
}
go_build_into "$out" "$loadgen" build_peer
echo "$out"
