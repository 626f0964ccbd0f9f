/** Prints a workload's progress as it moves through its states, then its result. */
import type { WorkloadHandle } from '../client/gpuflowClient.js';
import { formatMoney } from '../money/money.js';
import type { WorkloadResult, WorkloadStatus } from '../workflows/messages.js';
import { describeOffer, formatDuration, formatResult } from './format.js';

export async function followWorkload(
  handle: WorkloadHandle,
  print: (line: string) => void,
  intervalMs = 500,
): Promise<{ result?: WorkloadResult; error?: Error; last?: WorkloadStatus }> {
  let lastState = '';
  let last: WorkloadStatus | undefined;
  let settled: { result?: WorkloadResult; error?: Error } | undefined;
  const done = handle.result().then(
    (result) => (settled = { result }),
    (error: Error) => (settled = { error }),
  );
  const started = Date.now();
  while (!settled) {
    try {
      last = await handle.status();
      if (last.state !== lastState) {
        lastState = last.state;
        const extra = last.state === 'provisioning' || last.state === 'waiting-for-instance' ? `  ${describeOffer(last)}` : '';
        print(`  +${formatDuration(Date.now() - started).padStart(6)}  ${last.state}${extra}`);
      }
    } catch {
      // The first workflow task may not have run yet; keep polling.
    }
    await Promise.race([done, new Promise((r) => setTimeout(r, intervalMs))]);
  }
  try {
    last = await handle.status();
  } catch {
    /* closed workflows still answer queries; ignore if not */
  }
  if (settled.result) print(`  terminated: ${formatResult(settled.result)}`);
  else print(`  terminated: failed: ${rootMessage(settled.error!)}${last ? `, cost ${formatMoney(last.costSoFar)}` : ''}`);
  return { ...settled, ...(last ? { last } : {}) };
}

export function rootMessage(e: Error): string {
  let cur: Error | undefined = e;
  while (cur && (cur as { cause?: Error }).cause) cur = (cur as { cause?: Error }).cause;
  return cur?.message ?? e.message;
}
