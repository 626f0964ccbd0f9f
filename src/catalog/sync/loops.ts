/**
 * One long-lived sync loop per provider connection (`gpuflow-catalog-sync-<connection>`,
 * catalogSyncLoopWorkflow), started idempotently when a worker starts: a running loop is
 * reconfigured only when its interval changed, and a paused one stays paused (pausing is an
 * operator's decision). A Schedule of the old design (`gpuflow-catalog-<connection>`, one
 * execution per poll) is deleted on the way, so its runs stop piling up.
 */
import { ScheduleNotFoundError, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { TemporalConfig } from '../../config/temporalConfig.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import { connectClient } from '../../temporal/connect.js';
import { catalogSyncLoopQuery, catalogSyncLoopWorkflowId, configureCatalogSyncUpdate, syncCatalogNowSignal, type CatalogSyncLoopState, type CatalogSyncSettings } from './loopMessages.js';
import type { catalogSyncLoopWorkflow } from './loopWorkflow.js';

export const CATALOG_SYNC_LOOP_WORKFLOW_TYPE = 'catalogSyncLoopWorkflow';
/** The per-poll Schedules of the old design. */
const LEGACY_SCHEDULE_PREFIX = 'gpuflow-catalog-';
const LOOP_ID_PREFIX = catalogSyncLoopWorkflowId('');
const MIN_INTERVAL_MS = 1_000;

export function legacyCatalogScheduleId(connection: string): string {
  return `${LEGACY_SCHEDULE_PREFIX}${connection}`;
}

/** Whole seconds, at least one (as the old schedules counted). */
export function syncIntervalMs(pollMs: number): number {
  return Math.max(MIN_INTERVAL_MS, Math.round(pollMs / 1000) * 1000);
}

export interface EnsuredSyncLoop {
  connection: string;
  workflowId: string;
  everyMs: number;
  outcome: 'created' | 'updated' | 'unchanged' | 'failed';
  error?: string;
}

function notFound(e: unknown): boolean {
  return e instanceof WorkflowNotFoundError || (e as { name?: string })?.name === 'WorkflowNotFoundError';
}

async function deleteLegacySchedule(temporal: Client, connection: string): Promise<void> {
  try {
    await temporal.schedule.getHandle(legacyCatalogScheduleId(connection)).delete();
  } catch (e) {
    if (!(e instanceof ScheduleNotFoundError)) throw e;
  }
}

/** Starts (or reconfigures) the sync loop of every connection of the registry. Never throws per connection. */
export async function ensureCatalogSyncLoops(temporal: Client, taskQueue: string, registry: ProviderRegistry): Promise<EnsuredSyncLoop[]> {
  return Promise.all(
    registry.names().map(async (connection): Promise<EnsuredSyncLoop> => {
      const workflowId = catalogSyncLoopWorkflowId(connection);
      let everyMs = 0;
      try {
        everyMs = syncIntervalMs((await registry.client(connection)).getInstanceTypePollTimeMs());
        await deleteLegacySchedule(temporal, connection);
        try {
          await temporal.workflow.start<typeof catalogSyncLoopWorkflow>(CATALOG_SYNC_LOOP_WORKFLOW_TYPE, {
            workflowId,
            taskQueue,
            args: [{ connection, everyMs }],
            workflowIdConflictPolicy: 'FAIL',
            memo: { connection },
            staticSummary: `catalog sync of ${connection} every ${everyMs / 1000}s (its instance-type poll time)`,
          });
          return { connection, workflowId, everyMs, outcome: 'created' };
        } catch (e) {
          if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        }
        const handle = temporal.workflow.getHandle(workflowId);
        const current = await handle.query(catalogSyncLoopQuery);
        if (current.everyMs === everyMs) return { connection, workflowId, everyMs, outcome: 'unchanged' };
        await handle.executeUpdate(configureCatalogSyncUpdate, { args: [{ everyMs }] });
        return { connection, workflowId, everyMs, outcome: 'updated' };
      } catch (e) {
        return { connection, workflowId, everyMs, outcome: 'failed', error: (e as Error).message };
      }
    }),
  );
}

function missingLoop(connection: string): Error {
  return new Error(`no catalog sync running for connection "${connection}" (${catalogSyncLoopWorkflowId(connection)}): start a worker that serves it (\`gpuflow worker\`), which starts it`);
}

/** Asks the connection's loop to sync now (one already running is enough). */
export async function requestCatalogSync(temporal: Client, connection: string): Promise<void> {
  try {
    await temporal.workflow.getHandle(catalogSyncLoopWorkflowId(connection)).signal(syncCatalogNowSignal);
  } catch (e) {
    if (notFound(e)) throw missingLoop(connection);
    throw e;
  }
}

/** The loop answers Updates and Queries only through a worker; without one they would wait for the RPC's deadline. */
const DEFAULT_ANSWER_TIMEOUT_MS = 15_000;

/** No worker answered the loop's Update or Query in time. */
export class CatalogSyncLoopNotAnsweringError extends Error {
  override readonly name = 'CatalogSyncLoopNotAnsweringError';
}

function deadlineExceeded(e: unknown): boolean {
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
    const err = c as { code?: number; message?: string };
    if (err.code === 4 || /deadline/i.test(err.message ?? '')) return true;
  }
  return false;
}

async function answered<T>(temporal: Client, connection: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await temporal.connection.withDeadline(Date.now() + timeoutMs, fn);
  } catch (e) {
    if (notFound(e)) throw missingLoop(connection);
    if (deadlineExceeded(e)) {
      throw new CatalogSyncLoopNotAnsweringError(
        `the catalog sync of "${connection}" did not answer within ${timeoutMs / 1000} s: is a worker running (\`gpuflow worker\` or \`gpuflow dev\`)?`,
      );
    }
    throw e;
  }
}

/** Pauses or resumes a connection's timed syncs, or changes its interval; answers the loop's state after it. */
export async function configureCatalogSync(temporal: Client, connection: string, settings: CatalogSyncSettings, opts: { timeoutMs?: number } = {}): Promise<CatalogSyncLoopState> {
  const handle = temporal.workflow.getHandle(catalogSyncLoopWorkflowId(connection));
  return answered(temporal, connection, opts.timeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS, () => handle.executeUpdate(configureCatalogSyncUpdate, { args: [settings] }));
}

export async function catalogSyncLoopState(temporal: Client, connection: string, opts: { timeoutMs?: number } = {}): Promise<CatalogSyncLoopState> {
  const handle = temporal.workflow.getHandle(catalogSyncLoopWorkflowId(connection));
  return answered(temporal, connection, opts.timeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS, () => handle.query(catalogSyncLoopQuery));
}

/** Connections with a running sync loop. */
export async function syncedConnections(temporal: Client): Promise<string[]> {
  const out = new Set<string>();
  for await (const w of temporal.workflow.list({ query: `WorkflowType = '${CATALOG_SYNC_LOOP_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'` })) {
    if (w.workflowId.startsWith(LOOP_ID_PREFIX)) out.add(w.workflowId.slice(LOOP_ID_PREFIX.length));
  }
  return [...out].sort();
}

/** {@link ensureCatalogSyncLoops} over a client of its own (for `gpuflow worker` and `gpuflow dev`). */
export async function ensureCatalogSyncLoopsAt(cfg: TemporalConfig, registry: ProviderRegistry): Promise<EnsuredSyncLoop[]> {
  const client = await connectClient(cfg);
  try {
    return await ensureCatalogSyncLoops(client, cfg.taskQueue, registry);
  } finally {
    await client.connection.close();
  }
}
