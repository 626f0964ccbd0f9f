/** Prints a workload's progress as it moves through its states, the job's output under them, then its result. */
import type { WorkloadAccess } from './workloadBackend.js';
import { formatMoney } from '../money/money.js';
import type { WorkloadResult, WorkloadState, WorkloadStatus } from '../workflows/messages.js';
import { describeOffer, formatDuration, formatResult } from './format.js';
import { JobOutput } from './jobOutput.js';
import { liveSshTarget } from './sshAccess.js';

/** States in which the job may be writing output on a live instance. */
const OUTPUT_STATES: ReadonlySet<WorkloadState> = new Set(['running', 'recovering', 'stopping', 'terminating']);
/** Lines of output shown again when the job fails. */
const FAILURE_TAIL_LINES = 20;

export interface FollowOptions {
  /** Print the job's output under the state lines (`run` without --quiet), or to this function. */
  output?: boolean | ((line: string) => void);
  /** The worker's SSH key: with it the output streams over SSH (see ./jobOutput.ts). */
  sshKey?: string;
  /** Stops following (the workload keeps running): `run` detaching on Ctrl-C. */
  signal?: AbortSignal;
  intervalMs?: number;
}

export interface FollowResult {
  result?: WorkloadResult;
  error?: Error;
  last?: WorkloadStatus;
  /** Following stopped before the workload ended (options.signal). */
  detached?: boolean;
}

export async function followWorkload(handle: WorkloadAccess, print: (line: string) => void, opts: FollowOptions = {}): Promise<FollowResult> {
  const intervalMs = opts.intervalMs ?? 500;
  let lastState = '';
  let last: WorkloadStatus | undefined;
  let settled: { result?: WorkloadResult; error?: Error } | undefined;
  const printOutput = typeof opts.output === 'function' ? opts.output : (l: string) => print(`  | ${l}`);
  const output = opts.output ? new JobOutput(handle, printOutput, opts.sshKey) : undefined;
  // Detaching cancels the wait for the result too: its pending long poll would keep the CLI from
  // exiting for up to 20 s after Ctrl-C (and that rejection is the detach, not the workload's failure).
  const done = handle.result(opts.signal ? { signal: opts.signal } : {}).then(
    (result) => (settled = { result }),
    (error: Error) => {
      if (!opts.signal?.aborted) settled = { error };
    },
  );
  const aborted = new Promise<void>((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }));
  const started = Date.now();
  while (!settled && !opts.signal?.aborted) {
    try {
      last = await handle.status();
      if (last.state !== lastState) {
        // Leaving the job's states: read what it wrote last while its instance still answers.
        if (output && OUTPUT_STATES.has(lastState as WorkloadState)) await output.poll(true);
        lastState = last.state;
        const extra = last.state === 'provisioning' || last.state === 'waiting-for-instance' ? `  ${describeOffer(last)}` : '';
        print(`  +${formatDuration(Date.now() - started).padStart(6)}  ${last.state}${extra}`);
      }
      if (output && OUTPUT_STATES.has(last.state)) {
        const target = liveSshTarget(last);
        if (target) output.follow(target);
        await output.poll();
      }
    } catch {
      // The first workflow task may not have run yet; keep polling.
    }
    await Promise.race([done, aborted, new Promise((r) => setTimeout(r, intervalMs))]);
  }
  await output?.close(settled ? 1_000 : 0);
  if (!settled) return { detached: true, ...(last ? { last } : {}) };
  try {
    last = await handle.status();
  } catch {
    /* closed workflows still answer queries; ignore if not */
  }
  if (settled.result) {
    print(`  terminated: ${formatResult(settled.result)}`);
  } else {
    // The stored log is complete at the end; the live tail may miss the last lines (the instance goes at once).
    const stored = output ? await handle.storedOutput?.(FAILURE_TAIL_LINES).catch(() => undefined) : undefined;
    const tail = stored?.length ? stored : (output?.last(FAILURE_TAIL_LINES) ?? []);
    if (tail.length) {
      print(`  last ${tail.length} line(s) of the job's output${last?.exitCode !== undefined ? ` (exit code ${last.exitCode})` : ''}:`);
      for (const l of tail) print(`  | ${l}`);
    } else if (last?.exitCode !== undefined) {
      print(`  the job exited with code ${last.exitCode}${output ? ' and wrote no output' : ''}`);
    }
    print(`  terminated: failed: ${rootMessage(settled.error!)}${last ? `, cost ${formatMoney(last.costSoFar)}` : ''}`);
  }
  return { ...settled, ...(last ? { last } : {}) };
}

export function rootMessage(e: Error): string {
  let cur: Error | undefined = e;
  while (cur && (cur as { cause?: Error }).cause) cur = (cur as { cause?: Error }).cause;
  return cur?.message ?? e.message;
}
