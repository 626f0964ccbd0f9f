#!/usr/bin/env bash
# The demo, end to end on the embedded default: installs what it needs, starts a Temporal dev server
# (Web UI on :8233), the local cloud and a worker, runs examples/hello-gpu.yaml from pending to
# terminated, prints its cost, and keeps the Web UI up until Ctrl-C (pass --exit to stop at once).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "export $(bash scripts/ensure-deps.sh | tail -n 1)"
exec node --import tsx src/cli/main.ts demo examples/hello-gpu.yaml "$@"
