#!/usr/bin/env bash
# Builds kube-apiserver and etcd for the e2e tier from the Go module in kube-bins/ and caches
# them under .cache/e2e-bin/<hash of the module's inputs>/ (git-ignored). A cached pair is
# reused as is. The last line on stdout is the directory holding both binaries; progress goes
# to stderr.
#
#   test/e2e/build-bins.sh          build if needed, print the directory
#   test/e2e/build-bins.sh --dir    print the directory only (exit 3 if not built yet)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mod="$here/kube-bins"

# Anything that changes what gets built changes the directory name.
hash="$(cat "$mod/go.mod" "$mod/go.sum" "$mod/kube-apiserver/main.go" "$mod/etcd/main.go" \
  | sha256sum | cut -c1-16)"
out="${E2E_BIN_DIR:-$root/.cache/e2e-bin/$hash}"

built() { [[ -x "$out/kube-apiserver" && -x "$out/etcd" ]]; }

if [[ "${1:-}" == "--dir" ]]; then
  echo "$out"
  built || exit 3
  exit 0
fi

if built; then
  echo "e2e binaries cached" >&2
  echo "$out"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "Go not found: install Go $(awk '$1=="go"{print $2}' "$mod/go.mod") or newer to build the e2e binaries" >&2
  exit 2
fi

k8s_version="$(awk '$1=="k8s.io/kubernetes"{print $2}' "$mod/go.mod")"
k8s_minor="$(echo "$k8s_version" | cut -d. -f2)"
tmp="$out.partial.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"

# Without these the binary reports v0.0.0-master, which confuses version-sensitive clients.
ldflags="-s -w"
ldflags+=" -X k8s.io/component-base/version.gitVersion=$k8s_version"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
ldflags+=" -X k8s.io/component-base/version.gitMinor=$k8s_minor"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"

start=$SECONDS
echo "building kube-apiserver $k8s_version and etcd with $(go version) ..." >&2
(
  cd "$mod"
  export CGO_ENABLED=0
  go build -buildvcs=false -trimpath -ldflags "$ldflags" -o "$tmp/kube-apiserver" ./kube-apiserver
  go build -buildvcs=false -trimpath -ldflags "-s -w" -o "$tmp/etcd" ./etcd
)
mkdir -p "$(dirname "$out")"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "built in $((SECONDS - start)) s" >&2
echo "$out"
