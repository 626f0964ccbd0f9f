/**
 * One Temporal Schedule per provider connection (`gpuflow-catalog-<connection>`) that starts
 * catalogSyncWorkflow every instance-type poll time of that provider. Created idempotently when a
 * worker starts (a schedule that exists is updated only when its interval or task queue changed, and
 * a paused one stays paused: pausing is an operator's decision).
 *
 * Overlap policy skip (a sync still running makes the next trigger a no-op) with an execution
 * timeout, so a stuck sync cannot silently skip every later one; the first sync runs at once.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { TemporalConfig } from '../../config/temporalConfig.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import { connectClient } from '../../temporal/connect.js';
import type { catalogSyncWorkflow } from '../../workflows/catalogSync.js';

export const CATALOG_SCHEDULE_PREFIX = 'gpuflow-catalog-';
export const CATALOG_SYNC_WORKFLOW_TYPE = 'catalogSyncWorkflow';
/** Temporal schedules count whole seconds. */
const MIN_INTERVAL_MS = 1_000;
const MIN_EXECUTION_TIMEOUT_MS = 10 * 60_000;
const MIN_CATCHUP_WINDOW_MS = 10_000;

export function catalogScheduleId(connection: string): string {
  return `${CATALOG_SCHEDULE_PREFIX}${connection}`;
}

export function syncIntervalMs(pollMs: number): number {
  return Math.max(MIN_INTERVAL_MS, Math.round(pollMs / 1000) * 1000);
}

export function catalogScheduleOptions(connection: string, pollMs: number, taskQueue: string): ScheduleOptions {
  const every = syncIntervalMs(pollMs);
  return {
    scheduleId: catalogScheduleId(connection),
    spec: { intervals: [{ every }] },
    action: {
      type: 'startWorkflow',
      workflowType: CATALOG_SYNC_WORKFLOW_TYPE,
      workflowId: `gpuflow-catalog-sync-${connection}`,
      args: [{ connection }] as Parameters<typeof catalogSyncWorkflow>,
      taskQueue,
      workflowExecutionTimeout: Math.max(MIN_EXECUTION_TIMEOUT_MS, 2 * every),
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: Math.max(MIN_CATCHUP_WINDOW_MS, every) },
    memo: { connection, pollMs },
    state: { triggerImmediately: true, note: `catalog sync of ${connection} every ${every / 1000}s (its instance-type poll time)` },
  };
}

export interface EnsuredSchedule {
  connection: string;
  scheduleId: string;
  everyMs: number;
  outcome: 'created' | 'updated' | 'unchanged' | 'failed';
  error?: string;
}

/** Creates or updates the sync schedule of every connection of the registry. Never throws per connection. */
export async function ensureCatalogSchedules(temporal: Client, taskQueue: string, registry: ProviderRegistry): Promise<EnsuredSchedule[]> {
  return Promise.all(
    registry.names().map(async (connection): Promise<EnsuredSchedule> => {
      const scheduleId = catalogScheduleId(connection);
      let everyMs = 0;
      try {
        const pollMs = (await registry.client(connection)).getInstanceTypePollTimeMs();
        const options = catalogScheduleOptions(connection, pollMs, taskQueue);
        everyMs = syncIntervalMs(pollMs);
        try {
          await temporal.schedule.create(options);
          return { connection, scheduleId, everyMs, outcome: 'created' };
        } catch (e) {
          if (!(e instanceof ScheduleAlreadyRunning)) throw e;
        }
        const handle = temporal.schedule.getHandle(scheduleId);
        const d = await handle.describe();
        const current = d.spec.intervals?.[0]?.every;
        const action = d.action as { taskQueue?: string };
        if (current === everyMs && d.spec.intervals?.length === 1 && action.taskQueue === taskQueue) {
          return { connection, scheduleId, everyMs, outcome: 'unchanged' };
        }
        await handle.update((prev) => ({
          ...prev,
          spec: options.spec,
          action: options.action as typeof prev.action,
          policies: { ...prev.policies, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: options.policies!.catchupWindow! },
        }));
        return { connection, scheduleId, everyMs, outcome: 'updated' };
      } catch (e) {
        return { connection, scheduleId, everyMs, outcome: 'failed', error: (e as Error).message };
      }
    }),
  );
}

/** Starts a sync of the connection now (the overlap policy applies: one already running is enough). */
export async function triggerCatalogSync(temporal: Client, connection: string): Promise<void> {
  try {
    await temporal.schedule.getHandle(catalogScheduleId(connection)).trigger();
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) {
      throw new Error(`no catalog sync schedule for connection "${connection}" (${catalogScheduleId(connection)}): start a worker that serves it (\`gpuflow worker\`), which creates it`);
    }
    throw e;
  }
}

/** Connections with a sync schedule. */
export async function scheduledConnections(temporal: Client): Promise<string[]> {
  const out: string[] = [];
  for await (const s of temporal.schedule.list()) {
    if (s.scheduleId.startsWith(CATALOG_SCHEDULE_PREFIX) && s.action?.workflowType === CATALOG_SYNC_WORKFLOW_TYPE) out.push(s.scheduleId.slice(CATALOG_SCHEDULE_PREFIX.length));
  }
  return out.sort();
}

/** {@link ensureCatalogSchedules} over a client of its own (for `gpuflow worker` and `gpuflow dev`). */
export async function ensureCatalogSchedulesAt(cfg: TemporalConfig, registry: ProviderRegistry): Promise<EnsuredSchedule[]> {
  const client = await connectClient(cfg);
  try {
    return await ensureCatalogSchedules(client, cfg.taskQueue, registry);
  } finally {
    await client.connection.close();
  }
}
