#!/usr/bin/env bash
# Builds the full Temporal server (`server`) and its SQL schema tool (`temporal-sql-tool`) from the
# Go module proxy into the gpuflow cache and prints the directory holding both. Idempotent: a
# cached build is reused. Same server version as the dev server in scripts/install-temporal.sh
# (CLI v1.5.1 embeds server v1.29.1), so the same workflow histories run on both.
set -euo pipefail
VERSION="${TEMPORAL_SERVER_VERSION:-v1.29.1}"
CACHE_ROOT="${GPUFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpuflow}"
BIN_DIR="$CACHE_ROOT/temporal-server/$VERSION"

if [ -x "$BIN_DIR/server" ] && [ -x "$BIN_DIR/temporal-sql-tool" ]; then echo "$BIN_DIR"; exit 0; fi
if [ -n "${GPUFLOW_NO_BUILD:-}" ]; then echo "no Temporal server build in $BIN_DIR and building is disabled" >&2; exit 3; fi
if ! command -v go >/dev/null 2>&1; then
  for g in /usr/local/go/bin/go; do [ -x "$g" ] && PATH="$(dirname "$g"):$PATH"; done
fi
if ! command -v go >/dev/null 2>&1; then
  echo "no Go toolchain to build the Temporal server; install Go (1.25+)" >&2
  exit 3
fi
mkdir -p "$BIN_DIR"
# One build at a time (the test suite starts one in the background; the topology test asks again):
# a second caller waits for the first and then finds the binaries.
exec 9>"$BIN_DIR/.lock"
flock 9
if [ -x "$BIN_DIR/server" ] && [ -x "$BIN_DIR/temporal-sql-tool" ]; then echo "$BIN_DIR"; exit 0; fi
echo "building Temporal server $VERSION and its SQL tool from the Go module proxy into $BIN_DIR (first time only, minutes)..." >&2
# Shares the module and build caches with the CLI build: most server packages are compiled already.
export GOMODCACHE="${GOMODCACHE:-$CACHE_ROOT/go/mod}" GOCACHE="${GOCACHE:-$CACHE_ROOT/go/build}"
tmp="$BIN_DIR/.tmp-$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
# The full `go: downloading ...` log goes to a file; the terminal gets one line at the end.
log="$BIN_DIR/build.log"
echo "  full build log: $log" >&2
if ! CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod nice -n 10 go install -p "${GPUFLOW_GO_BUILD_JOBS:-1}" \
  "go.temporal.io/server/cmd/server@$VERSION" "go.temporal.io/server/cmd/tools/sql@$VERSION" >"$log" 2>&1; then
  echo "building the Temporal server failed; the last lines of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
echo "  built: $(grep -c '^go: downloading' "$log") modules downloaded" >&2
mv "$tmp/server" "$BIN_DIR/server"
mv "$tmp/sql" "$BIN_DIR/temporal-sql-tool"
echo "$BIN_DIR"
