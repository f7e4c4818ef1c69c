#!/usr/bin/env bash
# Builds the Python virtual environment of the gRPC C-core xDS probe (xds_probe.py on grpcio's
# prebuilt wheel) into a cache directory named by a hash of the interpreter, requirements.txt and
# the probe's source, and prints that directory on stdout. Skips the build when the directory is
# already complete. Wheels only (--only-binary=:all:): no compiler is needed, and a platform
# without a grpcio wheel fails here rather than compiling C-core for half an hour.
#
#   bash test/interop/python/build.sh          build if needed, print the directory
#   bash test/interop/python/build.sh --dir    only print the directory it would use (no build)
#
# A virtual environment embeds its own absolute path, so it cannot be built aside and renamed
# into place. It is built where it stays, under a lock, and counts as complete only once the
# stamp file, written last, exists.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
stamp_name=".herald-complete"

if ! command -v python3 >/dev/null 2>&1; then
  echo "python/build.sh: no 'python3' on PATH; the gRPC C-core probe needs Python 3 with venv (Debian: python3 python3-venv)" >&2
  exit 3
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "python/build.sh: $(python3 --version 2>&1) has no working venv/ensurepip module (Debian: apt-get install python3-venv)" >&2
  exit 3
fi

# The interpreter's real path joins its version in the key: a venv links to the interpreter it was
# made with, so another python3 of the same version needs its own venv.
key="$(
  {
    python3 --version 2>&1
    python3 -c 'import os, sys; print(os.path.realpath(sys.executable))'
    for f in requirements.txt xds_probe.py; do
      printf '%s\n' "$f"
      cat "$here/$f"
    done
  } | sha256sum | cut -c1-16
)"
out="$repo/.cache/interop-python/$key"

if [[ "${1:-}" == "--dir" ]]; then
  echo "$out"
  exit 0
fi
if [[ $# -ne 0 ]]; then
  echo "usage: bash test/interop/python/build.sh [--dir]" >&2
  exit 2
fi

if [[ -f "$out/$stamp_name" ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
# Another build may have finished while this one waited for the lock.
if [[ ! -f "$out/$stamp_name" ]]; then
  # Whatever is there is an interrupted build: start over.
  rm -rf "$out"
  echo "python/build.sh: creating $out" >&2
  python3 -m venv "$out"
  "$out/bin/python" -m pip install --quiet --no-input --disable-pip-version-check --only-binary=:all: -r "$here/requirements.txt" >&2
  # The wheel must load here (a wheel for another libc would install and then fail to import).
  "$out/bin/python" -c 'import grpc; print("python/build.sh: grpcio", grpc.__version__)' >&2
  "$out/bin/python" -m pip freeze --all >"$out/$stamp_name.tmp"
  mv "$out/$stamp_name.tmp" "$out/$stamp_name"
fi
echo "$out"
