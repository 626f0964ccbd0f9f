#!/usr/bin/env bash
# The whole test suite: typecheck, lint, unit, conformance and integration tests on a real
# Temporal dev server and real sshd instances. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "export $(bash scripts/ensure-deps.sh | tail -n 1)"
shopt -s globstar nullglob

npx tsc -p tsconfig.json --noEmit
npx eslint src test bench scripts
# The compiled package (dist/, prebuilt workflow bundle) is what users run: build it and smoke it
# with plain node, which is stricter about ESM/CommonJS imports than tsx. The worker-crash test
# runs the compiled worker.
npm run build >/dev/null
node dist/cli/main.js --help >/dev/null

# test/replay: committed workflow histories replayed against the current code (no server).
# test/topology: the full Temporal server on PostgreSQL with two workers (server build cached in ~/.cache/gpuflow).
files=(test/unit/**/*.test.ts test/conformance/**/*.test.ts test/replay/**/*.test.ts test/integration/**/*.test.ts test/topology/**/*.test.ts)
# One file at a time: integration files each run their own Temporal server and sshd fleet on 2 cores.
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
