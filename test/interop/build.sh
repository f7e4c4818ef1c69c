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

# The toolchain version is part of the key: a new Go makes new binaries.
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
out="$repo/.cache/interop-bin/$hash"

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

# Build into a temporary sibling and rename, so a concurrent or interrupted build never leaves
# a directory that looks complete but is not.
mkdir -p "$repo/.cache/interop-bin"
tmp="$(mktemp -d "$repo/.cache/interop-bin/.build-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
for t in "${tools[@]}"; do
  echo "build.sh: building $t" >&2
  (cd "$module" && go build -buildvcs=false -trimpath -o "$tmp/$t" "./cmd/$t")
done
if ! mv -T "$tmp" "$out" 2>/dev/null; then
  # Another build finished first; its result is equivalent.
  [[ -x "$out/${tools[0]}" ]] || { echo "build.sh: could not create $out" >&2; exit 1; }
fi
echo "$out"
