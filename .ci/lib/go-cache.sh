# Sourced by the scripts that build Go test and benchmark binaries into .cache/.
# A cache directory is named by a hash of the toolchain and every input of the module, so a
# change to either builds anew, and a finished directory is reused as is.

# Prints a 16-hex-digit key over `go env GOVERSION GOOS GOARCH`, go.mod, go.sum and every .go
# file below the module directory $1.
go_module_key() {
  (
    cd "$1"
    {
      go env GOVERSION GOOS GOARCH
      for f in go.mod go.sum $(find . -name '*.go' -type f | LC_ALL=C sort); do
        printf '%s\n' "$f"
        cat "$f"
      done
    } | sha256sum | cut -c1-16
  )
}

# go_build_into OUT CHECK_BINARY BUILD_COMMAND...: runs BUILD_COMMAND with $GO_BUILD_TMP set to
# a fresh sibling of OUT, then renames it to OUT, so an interrupted or concurrent build never
# leaves a directory that looks complete. A concurrent build that won the rename is equivalent.
go_build_into() {
  local out="$1" check="$2"
  shift 2
  mkdir -p "$(dirname "$out")"
  GO_BUILD_TMP="$(mktemp -d "$(dirname "$out")/.build-XXXXXX")"
  trap 'rm -rf "$GO_BUILD_TMP"' EXIT
  "$@"
  if ! mv -T "$GO_BUILD_TMP" "$out" 2>/dev/null; then
    [[ -x "$out/$check" ]] || { echo "could not create $out" >&2; exit 1; }
  fi
}
