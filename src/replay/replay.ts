/**
 * Replay: runs recorded workflow histories against the current workflow code. A change that would
 * make a running workload's history diverge (a new activity before an old one, a removed timer...)
 * is reported as non-determinism, before it is deployed and breaks the workloads in flight.
 *
 * Histories come from the server (`fetchHistory`) or from JSON files in the format of
 * `temporal workflow show --output json` (which is also what `gpuflow replay --save` and
 * scripts/record-histories.ts write).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { workflowCode } from '../worker/worker.js';

export interface HistoryItem {
  workflowId: string;
  history: History;
  /** Where it came from (file path or "server"). */
  source: string;
}

export interface ReplayReport {
  workflowId: string;
  source: string;
  events: number;
  workflowType: string;
  ok: boolean;
  /** "nondeterminism" when the code no longer produces the recorded commands; "error" for anything else. */
  failure?: 'nondeterminism' | 'error';
  message?: string;
}

/**
 * A history file: the JSON `temporal workflow show --output json` prints (`{"events": [...]}`),
 * optionally wrapped as `{ workflowId, history }`. The workflow ID defaults to the file name.
 */
export function loadHistoryFile(file: string, workflowId?: string): HistoryItem {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read history ${file}: ${(e as Error).message}`);
  }
  const wrapped = doc && typeof doc === 'object' && 'history' in doc ? (doc as { workflowId?: string; history: unknown }) : undefined;
  const raw = wrapped ? wrapped.history : doc;
  if (!raw || typeof raw !== 'object' || !Array.isArray((raw as { events?: unknown }).events)) {
    throw new Error(`${file} is not a workflow history: expected the JSON of \`temporal workflow show --output json\` ({"events": [...]})`);
  }
  return { workflowId: workflowId ?? wrapped?.workflowId ?? basename(file).replace(/\.json$/, ''), history: historyFromJSON(raw), source: file };
}

export async function fetchHistoryItem(client: Client, workflowId: string, runId?: string): Promise<HistoryItem> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return { workflowId, history, source: 'server' };
}

/** The history as `temporal workflow show --output json` would print it. */
export function historyJSON(history: History): string {
  return historyToJSON(history);
}

function workflowTypeOf(history: History): string {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? 'unknown';
}

let quietLogger = false;
function useQuietLogger(): void {
  // The replay worker logs every non-determinism at WARN/ERROR; the report says it once, clearly.
  if (quietLogger) return;
  quietLogger = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR', () => undefined), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
  } catch {
    // A runtime already exists (a worker in this process): keep its logger.
  }
}

/**
 * Replays each history against the current workflow code (the prebuilt bundle when there is one,
 * else the sources) and reports each result; never throws for a failed replay.
 */
export async function replayHistories(
  items: HistoryItem[],
  opts: { code?: Pick<ReplayWorkerOptions, 'workflowsPath' | 'workflowBundle'>; quiet?: boolean } = {},
): Promise<ReplayReport[]> {
  if (opts.quiet ?? true) useQuietLogger();
  const byId = new Map(items.map((i) => [i.workflowId, i]));
  if (byId.size !== items.length) throw new Error('two histories share a workflow ID: give each its own (file name or --workflow-id)');
  const reports: ReplayReport[] = [];
  const results = Worker.runReplayHistories(
    { ...(opts.code ?? workflowCode()), replayName: 'gpuflow-replay' },
    items.map((i) => ({ workflowId: i.workflowId, history: i.history })),
  );
  for await (const r of results) {
    const item = byId.get(r.workflowId)!;
    const base = { workflowId: r.workflowId, source: item.source, events: item.history.events?.length ?? 0, workflowType: workflowTypeOf(item.history) };
    if (!r.error) reports.push({ ...base, ok: true });
    else {
      const nondet = r.error instanceof DeterminismViolationError || /nondetermin/i.test(r.error.message);
      reports.push({ ...base, ok: false, failure: nondet ? 'nondeterminism' : 'error', message: r.error.message });
    }
  }
  return reports;
}

export function formatReplayReport(r: ReplayReport): string {
  if (r.ok) return `ok    ${r.workflowId} (${r.workflowType}, ${r.events} events, ${r.source})`;
  const what = r.failure === 'nondeterminism' ? 'NON-DETERMINISTIC' : 'REPLAY FAILED';
  return `FAIL  ${r.workflowId} (${r.workflowType}, ${r.events} events, ${r.source}): ${what}\n      ${r.message?.split('\n').join('\n      ')}\n      The current workflow code would not reproduce this history: workloads started before the change would fail on the next worker. Guard the change with patched()/deprecatePatch() or a new workflow type.`;
}
