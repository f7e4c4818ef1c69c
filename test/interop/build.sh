#!/usr/bin/env bash
# Builds the Go interop tools (envoy-validate, grpc-xds-probe) into a cache directory named by a
# hash of everything that affects the binaries, and prints that directory on stdout. Skips the
# build when the directory is already complete. Uses the Go module proxy as configured by `go env`.
#
#   bash test/interop/build.sh          build if needed, print the directory
#   bash test/interop/build.sh --dir    only print the directory it would use (no build)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
module="$here/go"
tools=(envoy-validate grpc-xds-probe)

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: no 'go' on PATH; the interop tools need Go (see test/interop/go/go.mod)" >&2
  exit 3
fi

# shellcheck source=../../.ci/lib/go-cache.sh
source "$repo/.ci/lib/go-cache.sh"
out="$repo/.cache/interop-bin/$(go_module_key "$module")"

if [[ "${1:-}" == "--dir" ]]; then
  echo "$out"
  exit 0
fi

complete=1
for t in "${tools[@]}"; do [[ -x "$out/$t" ]] || complete=0; done
if [[ $complete == 1 ]]; then
  echo "$out"
  exit 0
fi

build_tools() {
  for t in "${tools[@]}"; do
    echo "build.sh: building $t" >&2
    (cd "$module" && go build -buildvcs=false -trimpath -o "$GO_BUILD_TMP/$t" "./cmd/$t")
  done
}
go_build_into "$out" "${tools[0]}" build_tools
echo "$out"
