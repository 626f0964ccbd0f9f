#!/usr/bin/env bash
# Resolves a real Temporal CLI (dev server) binary and prints its path.
# Order: $TEMPORAL_CLI, `temporal` on PATH, cached build, Go build from the module proxy.
# (If none works, the SDK's own download is the last resort; see src/temporal/resolveServer.ts.)
set -euo pipefail
VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
CACHE_ROOT="${GPUFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpuflow}"
BIN_DIR="$CACHE_ROOT/temporal-cli/$VERSION"
BIN="$BIN_DIR/temporal"

if [ -n "${TEMPORAL_CLI:-}" ]; then
  [ -x "$TEMPORAL_CLI" ] || { echo "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file" >&2; exit 1; }
  echo "$TEMPORAL_CLI"; exit 0
fi
if [ -z "${GPUFLOW_IGNORE_PATH_TEMPORAL:-}" ] && command -v temporal >/dev/null 2>&1; then
  command -v temporal; exit 0
fi
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
if [ -n "${GPUFLOW_NO_BUILD:-}" ]; then echo "no Temporal CLI found and building is disabled" >&2; exit 3; fi
if ! command -v go >/dev/null 2>&1; then
  for g in /usr/local/go/bin/go; do [ -x "$g" ] && PATH="$(dirname "$g"):$PATH"; done
fi
if ! command -v go >/dev/null 2>&1; then
  echo "no Temporal CLI found and no Go toolchain to build one; set TEMPORAL_CLI or install Go" >&2
  exit 3
fi
mkdir -p "$BIN_DIR"
echo "building Temporal CLI $VERSION from the Go module proxy into $BIN_DIR (first time only, a few minutes)..." >&2
export GOMODCACHE="${GOMODCACHE:-$CACHE_ROOT/go/mod}" GOCACHE="${GOCACHE:-$CACHE_ROOT/go/build}"
tmp="$BIN_DIR/.tmp-$$"
mkdir -p "$tmp"
# The full `go: downloading ...` log goes to a file; the terminal gets one progress line.
log="$BIN_DIR/build.log"
echo "  full build log: $log" >&2
CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$VERSION" >"$log" 2>&1 &
build=$!
if [ -t 2 ]; then
  while kill -0 "$build" 2>/dev/null; do
    printf '\r  %s modules downloaded...' "$(grep -c '^go: downloading' "$log" 2>/dev/null || echo 0)" >&2
    sleep 2
  done
  printf '\n' >&2
fi
if ! wait "$build"; then
  echo "building the Temporal CLI failed; the last lines of $log:" >&2
  tail -n 20 "$log" >&2
  rm -rf "$tmp"
  exit 1
fi
echo "  built: $(grep -c '^go: downloading' "$log") modules downloaded" >&2
mv "$tmp/temporal" "$BIN"
rmdir "$tmp"
echo "$BIN"
