#!/usr/bin/env bash
# The whole test suite: typecheck, lint, unit, conformance and integration tests on a real
# Temporal dev server and real sshd instances. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "export $(bash scripts/ensure-deps.sh | tail -n 1)"
# The test suite also drives a real terminal (tmux) and a real browser (Debian's headless Chromium).
if ! command -v tmux >/dev/null 2>&1 || [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing tmux and chromium from Debian (CLI terminal and dashboard browser tests)..." >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux chromium >&2
  else
    echo "the tests need tmux and Chromium (apt-get install tmux chromium, or set CHROMIUM_PATH)" >&2
    exit 1
  fi
fi
# The full Temporal server for test/topology (first run only: a Go build of about 10 minutes) builds
# in the background while the typecheck, lint and fast tests run; the topology test waits for it.
if ! GPUFLOW_NO_BUILD=1 bash scripts/topology/install-server.sh >/dev/null 2>&1; then
  mkdir -p .gpuflow
  echo "building the Temporal server for the topology test in the background (log: .gpuflow/server-build.log)"
  bash scripts/topology/install-server.sh >.gpuflow/server-build.log 2>&1 &
fi
# Worker and activity logs (JSON lines) go to a file, not into the test reporter's output.
export GPUFLOW_LOG_FILE="${GPUFLOW_LOG_FILE:-$PWD/.gpuflow/test-logs/worker.log}"
mkdir -p "$(dirname "$GPUFLOW_LOG_FILE")" && : >"$GPUFLOW_LOG_FILE"
echo "worker logs of this run: $GPUFLOW_LOG_FILE"
shopt -s globstar nullglob

npx tsc -p tsconfig.json --noEmit
npx eslint src test bench scripts
# The compiled package (dist/, prebuilt workflow bundle) is what users run: build it and smoke it
# with plain node, which is stricter about ESM/CommonJS imports than tsx. The worker-crash test
# runs the compiled worker.
npm run build >/dev/null
node dist/cli/main.js --help >/dev/null
# Workers in the tests load the bundle just built from these sources instead of each running webpack
# over src/workflows (about 5 s of CPU per worker, and the suite starts about a hundred).
export GPUFLOW_WORKFLOW_BUNDLE="$PWD/dist/workflow-bundle.js"

# Fast files (unit, conformance against in-process replicas, replay of committed histories: no server)
# run two at a time; integration files three at a time: each runs its own Temporal server, local
# cloud and sshds on ports it picks, and mostly waits on them (one at a time: about 45 minutes;
# GPUFLOW_TEST_CONCURRENCY=1 runs them so). test/topology: the full Temporal server on PostgreSQL
# with two workers. Both groups always run; the suite fails if either did.
fast=(test/unit/**/*.test.ts test/conformance/**/*.test.ts test/replay/**/*.test.ts)
slow=(test/integration/**/*.test.ts test/topology/**/*.test.ts)
# A test (or a whole file) that hangs fails after 15 minutes, and a file whose tests are done exits
# even if a handle (a child process, a socket) would keep it alive: neither can stall the suite.
guard=(--test-timeout=900000 --test-force-exit)
rc=0
node --import tsx --test "${guard[@]}" --test-concurrency=2 --test-reporter=spec "${fast[@]}" || rc=$?
node --import tsx --test "${guard[@]}" --test-concurrency="${GPUFLOW_TEST_CONCURRENCY:-3}" --test-reporter=spec "${slow[@]}" || rc=$?
exit "$rc"
