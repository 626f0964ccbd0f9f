/**
 * The job's output on the node. The launcher runs the job with stdout and stderr each piped through
 * a stamper that masks secret values and appends every line twice:
 * - to `log`, as written (what `gpuflow ssh -- tail -f ~/.gpuflow/jobs/<id>/log` shows);
 * - to `output`, as one record a line: `<UTC time to the µs> <o|e|g> <text>` (o: stdout, e: stderr,
 *   g: gpuflow's own markers such as a rerun). `output` only grows, so a byte offset into it names a
 *   position for good: the shipper and every reader resume from one, with no gap and no duplicate.
 * Plain bash (no Python, no moreutils on the image): `read -n` splits a line longer than
 * MAX_LINE_CHARS (progress bars that never print a newline) into several records.
 */
import { shellQuote } from '../ssh/shellQuote.js';

export const OUTPUT_FILE = 'output';
export const MAX_LINE_CHARS = 8_192;
/** The env variable that names the job's secretEnv variables for the stamper (names only, never values). */
export const SECRET_NAMES_VAR = 'GPUFLOW_SECRET_NAMES';
export const MASK = '***';

/**
 * run.sh, the job's runner: `$1` is the job directory. The stampers ignore SIGTERM, so a job that
 * logs while shutting down (gpuflow stop) keeps its last lines; they end when the job's output
 * closes. The exit code is written once they are done (or after 5 s, if a daemon the job left
 * behind keeps the output open), so a shipper that sees `exit_code` also sees the last line.
 */
export function runnerScript(): string {
  return [
    '#!/usr/bin/env bash',
    'd=$1',
    'set -a; . "$d/env"; set +a',
    'mkdir -p "$GPUFLOW_CHECKPOINT_DIR"',
    'gpuflow_stamp() {',
    '  local s=$1 l t n v',
    `  while IFS= read -r -n ${MAX_LINE_CHARS} l || [ -n "$l" ]; do`,
    `    for n in \${${SECRET_NAMES_VAR}:-}; do v=\${!n-}; [ -n "$v" ] && l=\${l//"$v"/'${MASK}'}; done`,
    '    t=${EPOCHREALTIME:-}; t=${t/,/.}',
    '    if [ -n "$t" ]; then printf -v t \'%(%Y-%m-%dT%H:%M:%S)T.%sZ\' "${t%.*}" "${t#*.}"; else printf -v t \'%(%Y-%m-%dT%H:%M:%S)T.000000Z\' -1; fi',
    '    printf \'%s\\n\' "$l" >&3',
    '    printf \'%s %s %s\\n\' "$t" "$s" "$l" >&4',
    '  done',
    '}',
    'export TZ=UTC',
    `exec 3>>"$d/log" 4>>"$d/${OUTPUT_FILE}"`,
    'f=$(mktemp -d "$d/.pipes.XXXXXX") && mkfifo "$f/o" "$f/e" || exit 70',
    '( trap "" TERM; gpuflow_stamp o < "$f/o" ) & po=$!',
    '( trap "" TERM; gpuflow_stamp e < "$f/e" ) & pe=$!',
    // The synced workdir when there is one (see src/sync), else home.
    'cd "${GPUFLOW_WORKDIR:-$HOME}"',
    'bash "$d/job.sh" > "$f/o" 2> "$f/e" 3>&- 4>&-',
    'c=$?',
    'for i in $(seq 1 50); do kill -0 "$po" 2>/dev/null || kill -0 "$pe" 2>/dev/null || break; sleep 0.1; done',
    'rm -rf "$f"',
    'echo "$c" > "$d/exit_code.tmp"; mv "$d/exit_code.tmp" "$d/exit_code"',
    '',
  ].join('\n');
}

/**
 * A gpuflow marker line (e.g. a rerun) appended to both files, as the shell command that writes it
 * in the job directory: `log` gets `<text> at <time>`, `output` a `g` record.
 */
export function markerCommand(text: string): string {
  const q = shellQuote(text);
  return `printf '%s at %s\\n' ${q} "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> log; printf '%s g %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)" ${q} >> ${OUTPUT_FILE}`;
}

/**
 * Reads `output` from byte `offset` (at most `maxBytes`), complete lines only unless `final` (the
 * job has exited: a last line without a newline is complete then). Prints `SIZE <bytes of the
 * file>` and `DONE <0|1>` (whether exit_code exists, checked before reading), then the bytes in
 * base64: the SSH client decodes output as UTF-8 text, which would break a character cut by a read.
 */
export function readOutputCommand(dir: string, offset: number, maxBytes: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset must be an integer >= 0 (got ${offset})`);
  return [
    `cd "${dir}" 2>/dev/null || { echo 'SIZE -1'; echo 'DONE 0'; exit 0; }`,
    `done=0; [ -f exit_code ] && done=1`,
    `size=$(stat -c %s ${OUTPUT_FILE} 2>/dev/null || echo -1)`,
    `echo "SIZE $size"; echo "DONE $done"`,
    `[ "$size" -gt ${offset} ] 2>/dev/null && tail -c +${offset + 1} ${OUTPUT_FILE} | head -c ${maxBytes} | base64 -w0`,
    `exit 0`,
  ].join('\n');
}

export interface OutputRead {
  /** Size of `output` on the node, -1 when it does not exist (not launched yet, or an old launcher). */
  size: number;
  /** The job had exited before the read. */
  done: boolean;
  /** The bytes read from the offset (may end inside a line). */
  bytes: Buffer;
}

export function parseOutputRead(stdout: string): OutputRead {
  const m = /^SIZE (-?\d+)\nDONE ([01])\n([A-Za-z0-9+/=]*)\s*$/.exec(stdout);
  if (!m) throw new Error(`unexpected output read: ${JSON.stringify(stdout.slice(0, 100))}`);
  return { size: Number(m[1]), done: m[2] === '1', bytes: Buffer.from(m[3] ?? '', 'base64') };
}

/** The prefix of `bytes` that ends at a newline (all of it when `final`). */
export function completeLines(bytes: Buffer, final: boolean): Buffer {
  if (final) return bytes;
  const end = bytes.lastIndexOf(0x0a);
  return end < 0 ? bytes.subarray(0, 0) : bytes.subarray(0, end + 1);
}
