/**
 * The spec's `setup` on a node: its own directory under the job's (script, log, pid, exit code),
 * launched detached like the job so a worker restart re-attaches, and run once per instance: a
 * second launch finds the exit code and reports it instead of running setup again.
 */
import { jobDir } from './node.js';

export function setupDir(workloadId: string): string {
  return `${jobDir(workloadId)}/setup`;
}

/** Where setup's output is on the node, for status (the home spelled ~). */
export function setupLogPath(workloadId: string): string {
  return `${setupDir(workloadId).replace(/^\$HOME/, '~')}/log`;
}

export function setupScript(setup: string): string {
  return ['#!/usr/bin/env bash', 'set -o pipefail', setup, ''].join('\n');
}

/**
 * Installs the script (from stdin) unless setup already started, then starts it once. Runs in the
 * workdir when there is one, with the job's environment. Prints STARTED, ATTACHED or EXITED.
 */
export function launchSetupCommand(workloadId: string): string {
  const d = setupDir(workloadId);
  return [
    `set -e`,
    `mkdir -p "${d}"`,
    `cd "${d}"`,
    `if [ -f exit_code ]; then cat > /dev/null; echo EXITED; exit 0; fi`,
    `if [ -d started ]; then cat > /dev/null; else umask 077; cat > setup.sh.tmp; mv setup.sh.tmp setup.sh; fi`,
    `if mkdir started 2>/dev/null; then`,
    `  setsid nohup bash -c 'set -a; . ../env; set +a; cd "\${GPUFLOW_WORKDIR:-$HOME}"; bash "$0/setup.sh" >> "$0/log" 2>&1; echo $? > "$0/exit_code.tmp"; mv "$0/exit_code.tmp" "$0/exit_code"' "$PWD" > /dev/null 2>&1 < /dev/null &`,
    `  echo $! > pid; echo STARTED`,
    `else echo ATTACHED; fi`,
  ].join('\n');
}

/** EXIT <code>, RUNNING, or LOST (no process and no exit code). */
export function pollSetupCommand(workloadId: string): string {
  const d = setupDir(workloadId);
  return [
    `alive() { [ -r "/proc/$1/stat" ] || return 1; read -r _ _ st _ < "/proc/$1/stat" || return 0; [ "$st" != Z ]; }`,
    `cd "${d}" 2>/dev/null || { echo LOST; exit 0; }`,
    `if [ -f exit_code ]; then echo "EXIT $(cat exit_code)"`,
    `elif [ -f pid ] && alive "$(cat pid)"; then echo RUNNING`,
    `elif [ -d started ] && [ ! -f pid ]; then echo RUNNING`,
    `else echo LOST; fi`,
  ].join('\n');
}

/** SIGTERM setup's process group, grace, SIGKILL. */
export function stopSetupCommand(workloadId: string, graceSeconds: number): string {
  const d = setupDir(workloadId);
  return [
    `cd "${d}" 2>/dev/null || exit 0`,
    `[ -f pid ] || exit 0`,
    `p=$(cat pid)`,
    `kill -TERM -- -"$p" 2>/dev/null || exit 0`,
    `for i in $(seq 1 ${Math.max(1, graceSeconds) * 5}); do kill -0 -- -"$p" 2>/dev/null || exit 0; sleep 0.2; done`,
    `kill -KILL -- -"$p" 2>/dev/null; exit 0`,
  ].join('\n');
}
