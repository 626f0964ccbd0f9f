/**
 * What gpuflow puts on a node and how it drives it over SSH: the job directory layout, the job
 * launcher that survives our disconnects, and the commands that read its state. Kept in one place
 * so bootstrap, run and stop agree on paths.
 */
import { markerCommand, runnerScript } from '../logs/nodeOutput.js';
import { shellQuote } from '../ssh/shellQuote.js';
import { hostPortOf, needsPortMapping } from './servicePorts.js';
import type { ServicePort } from './types.js';

/**
 * A workload ID as a path segment. Scheduled workloads have IDs such as
 * `nightly-2026-11-24T09:00:00Z`; a colon would split Docker's `-v host:container` mounts.
 */
export function pathSegment(workloadId: string): string {
  return workloadId.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function jobDir(workloadId: string): string {
  return `$HOME/.gpuflow/jobs/${pathSegment(workloadId)}`;
}

/** Environment every job gets: a stable task ID and a checkpoint directory, the resume convention. */
export function standardJobEnv(workloadId: string): Record<string, string> {
  return {
    GPUFLOW_WORKLOAD_ID: workloadId,
    GPUFLOW_TASK_ID: workloadId,
    GPUFLOW_CHECKPOINT_DIR: `$HOME/.gpuflow/checkpoints/${pathSegment(workloadId)}`,
    /** Instance-local scratch space (recipe volumes of kind "ephemeral" live here). */
    GPUFLOW_SCRATCH_DIR: `$HOME/.gpuflow/scratch/${pathSegment(workloadId)}`,
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
    // The runner is written at each launch (not at bootstrap), so a rerun on a node an older
    // worker bootstrapped gets the current one.
    `  cat > run.sh <<'GPUFLOW_RUNNER'`,
    runnerScript() + 'GPUFLOW_RUNNER',
    `  setsid nohup bash "$PWD/run.sh" "$PWD" > /dev/null 2>&1 < /dev/null &`,
    `  echo $! > pid; echo STARTED`,
    `else echo ATTACHED; fi`,
  ].join('\n');
}

/**
 * A process is alive if it exists and is not a zombie (kill -0 succeeds on zombies). Read from
 * /proc, not ps: no fork, so a loaded node cannot make a live job look dead.
 */
const ALIVE_FN = `alive() { [ -r "/proc/$1/stat" ] || return 1; read -r _ _ st _ < "/proc/$1/stat" || return 0; [ "$st" != Z ]; }`;

/**
 * Whether any live process is left in the process group the launcher started (setsid makes the
 * job's pid its group ID). The launcher's own shell can die on SIGTERM while the job ignores it, so
 * the leader alone says nothing. From /proc (fields after the command: state, ppid, pgrp).
 */
const GROUP_ALIVE_FN = `group_alive() { local g=$1 f s; for f in /proc/[0-9]*/stat; do read -r s 2>/dev/null < "$f" || continue; s=\${s##*) }; set -- $s; [ "$3" = "$g" ] && [ "$1" != Z ] && return 0; done; return 1; }`;

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

/**
 * The launch, then how long ago (seconds, by the node's clock) this run was launched: a re-attached
 * start keeps the deadline of the first attempt instead of getting a new one.
 */
export function launchWithAgeCommand(workloadId: string): string {
  return [launchCommand(workloadId), `echo "AGE $(( $(date +%s) - $(stat -c %Y started 2>/dev/null || date +%s) ))"`].join('\n');
}

/** What the launch printed: STARTED (this call launched it), ATTACHED (launched before) or EXITED (this run already ended). */
export function parseLaunch(out: string): { state: 'STARTED' | 'ATTACHED' | 'EXITED'; ageSeconds: number } {
  const state = /^(STARTED|ATTACHED|EXITED)$/m.exec(out)?.[1] as 'STARTED' | 'ATTACHED' | 'EXITED' | undefined;
  if (!state) throw new Error(`unexpected launch output: ${JSON.stringify(out.slice(0, 200))}`);
  const age = Number(/^AGE (-?\d+)$/m.exec(out)?.[1] ?? 0);
  return { state, ageSeconds: Math.max(0, age) };
}

/**
 * Readies the job directory for run `run` (> 0) on the same node: stops what is left of the
 * previous run (SIGTERM to its process group, grace, SIGKILL), moves its `pid` and `exit_code`
 * into `runs/<run-1>/`, clears the `started` guard and marks the log. `runs/<run>/` is created
 * last, as the commit: a retry after a crash (worker or SSH) redoes only what was not done, and
 * once it exists the current `pid` is this run's, never stopped again. Under flock, so a stale
 * attempt racing a retry waits and then finds the marker. Prints PREPARED or ALREADY.
 */
export function prepareRunCommand(workloadId: string, run: number, graceSeconds: number): string {
  if (!Number.isInteger(run) || run < 1) throw new RangeError(`run must be an integer >= 1 (got ${run})`);
  const d = jobDir(workloadId);
  const prev = `runs/${run - 1}`;
  return [
    GROUP_ALIVE_FN,
    `cd "${d}" || { echo "no job directory ${d}: bootstrap the instance first" >&2; exit 1; }`,
    `exec 9> .run.lock`,
    `if command -v flock >/dev/null 2>&1; then flock -w 120 -x 9 || { echo 'job directory is locked by another run' >&2; exit 1; }; fi`,
    `[ -d runs/${run} ] && { echo ALREADY; exit 0; }`,
    `mkdir -p ${prev}`,
    `if [ -f pid ] && p=$(cat pid) && group_alive "$p"; then`,
    `  kill -TERM -- -"$p" 2>/dev/null`,
    `  for i in $(seq 1 ${Math.max(1, graceSeconds) * 5}); do group_alive "$p" || break; sleep 0.2; done`,
    `  if group_alive "$p"; then kill -KILL -- -"$p" 2>/dev/null; for i in $(seq 1 25); do group_alive "$p" || break; sleep 0.2; done; fi`,
    `fi`,
    `[ -f exit_code ] && mv -f exit_code ${prev}/exit_code`,
    `[ -f pid ] && mv -f pid ${prev}/pid`,
    `rm -rf started exit_code.tmp`,
    markerCommand(`gpuflow: run ${run} (restart ${run})`),
    `mkdir runs/${run} && echo PREPARED`,
  ].join('\n');
}

/** SIGTERM the job's process group, wait up to the grace for all of it to end, then SIGKILL. */
export function stopCommand(workloadId: string, graceSeconds: number): string {
  const d = jobDir(workloadId);
  return [
    GROUP_ALIVE_FN,
    `cd "${d}" 2>/dev/null || exit 0`,
    `[ -f pid ] || exit 0`,
    `p=$(cat pid)`,
    `kill -TERM -- -"$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null`,
    `for i in $(seq 1 ${Math.max(1, graceSeconds) * 5}); do group_alive "$p" || exit 0; sleep 0.2; done`,
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
 * Recipe volumes (see src/recipes/recipe.ts): `$GPUFLOW_VOLUMES` holds `name=kind:hostPath:mountPath:mode`
 * entries. Each host directory is prepared (a network volume must already be mounted) and exported
 * as `$GPUFLOW_VOLUME_<NAME>`; for Docker, `-v` flags mount it at its mountPath and the variable
 * names the mountPath inside the container.
 */
const VOLUMES_PRELUDE = [
  'gpuflow_volume_flags=()',
  'for gpuflow_v in ${GPUFLOW_VOLUMES:-}; do',
  '  gpuflow_name=${gpuflow_v%%=*}',
  '  IFS=: read -r gpuflow_kind gpuflow_host gpuflow_mount gpuflow_mode <<< "${gpuflow_v#*=}"',
  '  case "$gpuflow_kind" in',
  '    ephemeral) gpuflow_host="$GPUFLOW_SCRATCH_DIR/$gpuflow_name" ;;',
  '    persistent) [ "$gpuflow_host" = - ] && gpuflow_host="$HOME/.gpuflow/volumes/$gpuflow_name" ;;',
  '  esac',
  '  case "$gpuflow_host" in /*) ;; *) gpuflow_host="$HOME/$gpuflow_host" ;; esac',
  '  if [ "$gpuflow_kind" = network ]; then',
  '    [ -d "$gpuflow_host" ] || { echo "gpuflow: network volume $gpuflow_name: $gpuflow_host is not mounted on this host" >&2; exit 78; }',
  '  else mkdir -p "$gpuflow_host" || exit 78; fi',
  '  gpuflow_upper=$(printf %s "$gpuflow_name" | tr a-z A-Z)',
  '  gpuflow_ro=; [ "$gpuflow_mode" = ro ] && gpuflow_ro=:ro',
  '  gpuflow_volume_flags+=(-v "$gpuflow_host:$gpuflow_mount$gpuflow_ro" -e "GPUFLOW_VOLUME_$gpuflow_upper=$gpuflow_mount")',
  '  export "GPUFLOW_VOLUME_$gpuflow_upper=$gpuflow_host"',
  'done',
];

/**
 * `$GPUFLOW_PORT_<port>`: the port a command must bind for each declared port. Inside a container
 * that is the port itself (Docker maps it to its host port); a command run directly on the host
 * binds the host port, so a command that honours the variable works both ways, and one that binds a
 * fixed port needs `hostPort` equal to `port` when there is no Docker.
 */
function portExports(ports: readonly ServicePort[]): string[] {
  return ports.map((p) => `export GPUFLOW_PORT_${p.port}=${hostPortOf(p)}`);
}

/**
 * The job script. With an image and a Docker engine on the host the command runs in the container
 * (GPUs, host network or published ports, checkpoint dir mounted, the job's environment passed
 * through); without Docker (the local cloud) the command runs directly on the host and the script
 * says so.
 */
export function jobScript(command: string, image: string | undefined, envNames: string[], ports: readonly ServicePort[] = []): string {
  const lines = ['#!/usr/bin/env bash', 'set -o pipefail', ...(envNames.includes('GPUFLOW_VOLUMES') ? VOLUMES_PRELUDE : []), ...portExports(ports)];
  if (!image) return [...lines, command, ''].join('\n');
  const envFlags = [...envNames.map((n) => `-e ${n}`), ...ports.map((p) => `-e GPUFLOW_PORT_${p.port}=${p.port}`)].join(' ');
  // Host networking unless a port is exposed elsewhere on the host: then each port is published.
  const network = needsPortMapping(ports) ? ports.map((p) => `-p ${hostPortOf(p)}:${p.port}`).join(' ') : '--network host';
  const volumeFlags = envNames.includes('GPUFLOW_VOLUMES') ? ' "${gpuflow_volume_flags[@]}"' : '';
  return [
    ...lines,
    'if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then',
    // NGC catalog images: log in with the NGC API key when the job has one (secretEnv NGC_API_KEY).
    ...(image.startsWith('nvcr.io/')
      ? [`  if [ -n "\${NGC_API_KEY:-}" ]; then printf '%s' "$NGC_API_KEY" | docker login nvcr.io --username '$oauthtoken' --password-stdin >/dev/null || exit 125; fi`]
      : []),
    // --entrypoint: images such as vllm/vllm-openai set one, which would swallow `bash -c`.
    `  exec docker run --rm --gpus all ${network} ${envFlags} -v "$GPUFLOW_CHECKPOINT_DIR:$GPUFLOW_CHECKPOINT_DIR"${volumeFlags} --entrypoint bash ${shellQuote(image)} -c ${shellQuote(command)}`,
    'fi',
    `echo "gpuflow: no Docker engine on this host: running the command directly, not in ${image.replace(/["$`\\]/g, '')}" >&2`,
    command,
    '',
  ].join('\n');
}

/**
 * Counts interactive SSH sessions (those with a pty) on the node, other than gpuflow's own
 * (which never ask for a pty), for auto-shutdown's "no SSH session" rule. It finds the sshd that
 * serves this very command by walking up from the shell, then counts that daemon's `@pts/`
 * session processes: so on a shared host (the local cloud) only the instance's own sshd counts.
 * Handles both process titles: `sshd: user@pts/0` (OpenSSH < 9.8) and `sshd-session: user@pts/0`.
 */
export const SSH_SESSIONS_QUERY = [
  `ppid_of() { local s; read -r s < "/proc/$1/stat" 2>/dev/null || return 1; s=\${s##*) }; set -- $s; echo "$2"; }`,
  `cmd_of() { tr '\\0' ' ' < "/proc/$1/cmdline" 2>/dev/null; }`,
  `p=$$; listener=`,
  `while [ "\${p:-0}" -gt 1 ]; do`,
  `  c=$(cmd_of "$p")`,
  // The daemon: "sshd: /usr/sbin/sshd -D [listener] ..." (OpenSSH >= 9.x titles) or its plain command line.
  `  case "$c" in "sshd: "*"[listener]"*) listener=$p; break ;; "sshd: "*|"sshd-session: "*) ;; /*/sshd" "*|"sshd "*) listener=$p; break ;; esac`,
  `  p=$(ppid_of "$p") || break`,
  `done`,
  `[ -n "$listener" ] || { echo 0; exit 0; }`,
  `n=0`,
  `for d in /proc/[0-9]*; do`,
  `  pid=\${d#/proc/}`,
  `  case "$(cmd_of "$pid")" in "sshd: "*@pts/*|"sshd-session: "*@pts/*) ;; *) continue ;; esac`,
  `  q=$pid`,
  `  while [ "\${q:-0}" -gt 1 ]; do q=$(ppid_of "$q") || break; if [ "$q" = "$listener" ]; then n=$((n+1)); break; fi; done`,
  `done`,
  `echo "$n"`,
].join('\n');
