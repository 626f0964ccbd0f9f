/**
 * What gpuflow puts on a node and how it drives it over SSH: the job directory layout, the job
 * launcher that survives our disconnects, and the commands that read its state. Kept in one place
 * so bootstrap, run and stop agree on paths.
 */
import { shellQuote } from '../ssh/sshClient.js';

export function jobDir(workloadId: string): string {
  return `$HOME/.gpuflow/jobs/${workloadId}`;
}

/** Environment every job gets: a stable task ID and a checkpoint directory, the resume convention. */
export function standardJobEnv(workloadId: string): Record<string, string> {
  return {
    GPUFLOW_WORKLOAD_ID: workloadId,
    GPUFLOW_TASK_ID: workloadId,
    GPUFLOW_CHECKPOINT_DIR: `$HOME/.gpuflow/checkpoints/${workloadId}`,
  };
}

export function envFileContent(env: Record<string, string>): string {
  // Values are single-quoted so the file is sourced literally; $HOME in our own defaults expands
  // because those are written double-quoted.
  return Object.entries(env)
    .map(([k, v]) => (v.includes('$HOME') && k.startsWith('GPUFLOW_') ? `export ${k}="${v}"` : `export ${k}=${shellQuote(v)}`))
    .join('\n') + '\n';
}

/**
 * Starts the job once. `mkdir started` is the atomic guard: a second launcher (a retried activity
 * on another worker) sees it and attaches instead of starting the job again.
 */
export function launchCommand(workloadId: string): string {
  const d = jobDir(workloadId);
  return [
    `cd "${d}"`,
    `if [ -f exit_code ]; then echo EXITED`,
    `elif mkdir started 2>/dev/null; then`,
    `  setsid nohup bash -c 'set -a; . ./env; set +a; mkdir -p "$GPUFLOW_CHECKPOINT_DIR"; cd "$HOME"; bash "$0/job.sh" >> "$0/log" 2>&1; echo $? > "$0/exit_code.tmp"; mv "$0/exit_code.tmp" "$0/exit_code"' "$PWD" > /dev/null 2>&1 < /dev/null &`,
    `  echo $! > pid; echo STARTED`,
    `else echo ATTACHED; fi`,
  ].join('\n');
}

/**
 * A process is alive if it exists and is not a zombie (kill -0 succeeds on zombies). Read from
 * /proc, not ps: no fork, so a loaded node cannot make a live job look dead.
 */
const ALIVE_FN = `alive() { [ -r "/proc/$1/stat" ] || return 1; read -r _ _ st _ < "/proc/$1/stat" || return 0; [ "$st" != Z ]; }`;

/** Prints EXIT <code>, RUNNING, or LOST (no process and no exit code: the node lost it). */
export function pollCommand(workloadId: string): string {
  const d = jobDir(workloadId);
  return [
    ALIVE_FN,
    `cd "${d}" 2>/dev/null || { echo LOST; exit 0; }`,
    `if [ -f exit_code ]; then echo "EXIT $(cat exit_code)"`,
    `elif [ -f pid ] && alive "$(cat pid)"; then echo RUNNING`,
    `elif [ -d started ] && [ ! -f pid ]; then echo RUNNING`,
    `else echo LOST; fi`,
  ].join('\n');
}

/** SIGTERM the job's process group, wait up to the grace, then SIGKILL. */
export function stopCommand(workloadId: string, graceSeconds: number): string {
  const d = jobDir(workloadId);
  return [
    ALIVE_FN,
    `cd "${d}" 2>/dev/null || exit 0`,
    `[ -f pid ] || exit 0`,
    `p=$(cat pid)`,
    `kill -TERM -- -"$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null`,
    `for i in $(seq 1 ${Math.max(1, graceSeconds) * 5}); do alive "$p" || exit 0; sleep 0.2; done`,
    `kill -KILL -- -"$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null; exit 0`,
  ].join('\n');
}

export function tailLogCommand(workloadId: string, lines: number): string {
  return `tail -n ${Math.max(1, Math.min(lines, 10_000))} "${jobDir(workloadId)}/log" 2>/dev/null || true`;
}

export const GPU_QUERY = 'nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits';

/** Per-GPU utilization percentages from nvidia-smi's CSV output. */
export function parseGpuUtilization(out: string): number[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => {
      const n = Number(l.split(',')[0]);
      if (!Number.isFinite(n)) throw new Error(`unexpected nvidia-smi output line "${l}"`);
      return n;
    });
}

/**
 * The job script. With an image and a Docker engine on the host the command runs in the container
 * (GPUs, host network, checkpoint dir mounted, the job's environment passed through); without
 * Docker (the local cloud) the command runs directly on the host and the script says so.
 */
export function jobScript(command: string, image: string | undefined, envNames: string[]): string {
  const lines = ['#!/usr/bin/env bash', 'set -o pipefail'];
  if (!image) return [...lines, command, ''].join('\n');
  const envFlags = envNames.map((n) => `-e ${n}`).join(' ');
  return [
    ...lines,
    'if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then',
    `  exec docker run --rm --gpus all --network host ${envFlags} -v "$GPUFLOW_CHECKPOINT_DIR:$GPUFLOW_CHECKPOINT_DIR" ${shellQuote(image)} bash -c ${shellQuote(command)}`,
    'fi',
    `echo "gpuflow: no Docker engine on this host: running the command directly, not in ${image.replace(/["$`\\]/g, '')}" >&2`,
    command,
    '',
  ].join('\n');
}
