#!/usr/bin/env bash
# Makes package-lock.json one that `npm ci` accepts on every platform, or checks that it is one.
#
#   bash scripts/refresh-lock.sh            rewrite package-lock.json in place (after a merge or an
#                                           `npm install <pkg>`), keeping every version it pins
#   bash scripts/refresh-lock.sh --scratch  resolve from package.json alone (every range to its newest)
#   bash scripts/refresh-lock.sh --check    exit 1, showing the difference, if the lock would change
#
# Why: `npm install` run where node_modules exists (npm 11) writes only this platform's optional
# packages (@swc/core-darwin-arm64 and the like go missing), and `npm ci` then refuses the lock on
# every machine. Resolving the lock beside package.json with no node_modules (--package-lock-only)
# lists every platform's optional packages again and changes nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-write}"
case "$mode" in write | --scratch | --check) ;; *)
  echo "usage: bash scripts/refresh-lock.sh [--scratch | --check]" >&2
  exit 2
  ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp package.json "$tmp/"
if [ "$mode" != --scratch ] && [ -f package-lock.json ]; then cp package-lock.json "$tmp/"; fi
(cd "$tmp" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error >&2)

if [ "$mode" = --check ]; then
  if ! diff -u package-lock.json "$tmp/package-lock.json" >&2; then
    echo "package-lock.json is not what npm resolves from package.json on every platform: run bash scripts/refresh-lock.sh and commit it" >&2
    exit 1
  fi
  echo "package-lock.json is complete" >&2
  exit 0
fi
cp "$tmp/package-lock.json" package-lock.json
echo "package-lock.json refreshed; check it with: git diff --stat package-lock.json && npm ci" >&2
