#!/usr/bin/env bash
# Builds the grpc-java xDS probe (pom.xml, src/) into a cache directory named by a hash of the
# JDK, Maven and every input of the project, and prints that directory on stdout: probe.jar and
# its runtime dependencies in lib/, run as `java -cp 'probe.jar:lib/*' herald.interop.XdsProbe`.
# Skips the build when the directory is already complete. Dependencies come from Maven's
# configured repositories into its local repository (~/.m2 unless configured otherwise).
#
#   bash test/interop/java/build.sh          build if needed, print the directory
#   bash test/interop/java/build.sh --dir    only print the directory it would use (no build)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "java/build.sh: no '$tool' on PATH; the grpc-java probe needs a JDK (17 or newer) and Maven" >&2
    exit 3
  fi
done

# The key: the JDK that runs it, Maven and the JDK Maven builds with (which may differ from
# `java`; mvn -v's other lines name paths and the kernel, which do not matter), this script (it
# lays out the directory), the pom and every source file.
key="$(
  cd "$here"
  {
    java -version 2>&1
    mvn -v -B 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | grep -E '^(Apache Maven|Java version)'
    for f in build.sh pom.xml $(find src -type f | LC_ALL=C sort); do
      printf '%s\n' "$f"
      cat "$f"
    done
  } | sha256sum | cut -c1-16
)"
out="$repo/.cache/interop-java/$key"

# --dir only names the directory; a complete one needs no build.
if [[ "${1:-}" == "--dir" ]] || [[ -f "$out/probe.jar" && -d "$out/lib" ]]; then
  echo "$out"
  exit 0
fi

# Build into a fresh sibling of $out, then rename it, so an interrupted or concurrent build never
# leaves a directory that looks complete. A concurrent build that won the rename is equivalent.
mkdir -p "$(dirname "$out")"
tmp="$(mktemp -d "$(dirname "$out")/.build-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "java/build.sh: building the grpc-java probe" >&2
# Maven writes its output (and colour codes, even in batch mode) to stdout; only the directory belongs there.
mvn -B -q -Dstyle.color=never -f "$here/pom.xml" -Dprobe.build.dir="$tmp/maven" package 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
mv "$tmp/maven/probe.jar" "$tmp/probe.jar"
mv "$tmp/maven/lib" "$tmp/lib"
rm -rf "$tmp/maven"
if ! mv -T "$tmp" "$out" 2>/dev/null; then
  [[ -f "$out/probe.jar" ]] || { echo "java/build.sh: could not create $out" >&2; exit 1; }
fi
echo "$out"
