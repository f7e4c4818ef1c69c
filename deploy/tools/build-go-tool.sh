#!/usr/bin/env bash
# Builds a pinned deployment tool (kustomize, helm) from its Go module into
# .cache/<tool>/<version>/ (git-ignored), so tests render deploy/ and charts/ without a
# downloaded binary. The last line on stdout is the binary's path; progress goes to stderr.
# A built binary is reused.
#
#   deploy/tools/build-go-tool.sh TOOL          build if needed, print the path
#   deploy/tools/build-go-tool.sh TOOL --path   print the path only (exit 3 if not built yet)
set -euo pipefail

tool="${1:?name a tool: kustomize or helm}"
case "$tool" in
  kustomize) version="v5.8.1" package="sigs.k8s.io/kustomize/kustomize/v5" override="${HERALD_KUSTOMIZE_DIR:-}" ;;
  # Helm 4: the release line the Go module proxy serves approved builds of.
  helm) version="v4.3.2" package="helm.sh/helm/v4/cmd/helm" override="${HERALD_HELM_DIR:-}" ;;
  *) echo "unknown tool '$tool' (kustomize or helm)" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${override:-$root/.cache/$tool/$version}"
bin="$dir/$tool"

if [[ "${2:-}" == "--path" ]]; then
  echo "$bin"
  [[ -x "$bin" ]] || exit 3
  exit 0
fi
if [[ -x "$bin" ]]; then
  echo "$tool $version cached" >&2
  echo "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "Go not found: it is needed to build $tool $version" >&2
  exit 2
fi

tmp="$dir.partial.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
echo "building $tool $version with $(go version) ..." >&2
start=$SECONDS
CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "$package@$version"
mkdir -p "$dir"
mv "$tmp/$tool" "$bin"
echo "built $tool $version in $((SECONDS - start)) s" >&2
echo "$bin"
