#!/usr/bin/env bash
# Installs what gpuflow needs on this machine, idempotently: npm packages, OpenSSH server (the local
# cloud's instances are real sshd processes), and the Temporal CLI. Prints TEMPORAL_CLI=<path>.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules/@temporalio/worker ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages..." >&2
  # Exactly the committed lock (scripts/refresh-lock.sh keeps it complete for every platform).
  npm ci --no-audit --no-fund >&2
fi

if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing openssh-server and openssh-client from Debian..." >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >&2
  else
    echo "gpuflow's local cloud needs OpenSSH (sshd, ssh-keygen): install openssh-server" >&2
    exit 1
  fi
fi

echo "TEMPORAL_CLI=$(bash scripts/install-temporal.sh)"
