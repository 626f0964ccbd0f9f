/**
 * catalogSyncLoopWorkflow: the one long-lived sync execution of a provider connection
 * (`gpuflow-catalog-sync-<connection>`). It syncs at once, then every poll interval (a durable
 * timer), and on the syncCatalogNow Signal (`gpuflow catalog sync`); configureCatalogSync changes
 * the interval or pauses the timed syncs. It replaces the per-poll executions that a Schedule
 * started (catalogSyncWorkflow, still registered for the runs of old schedules), which piled up
 * in the Web UI at about 1,440 a day; this one continues-as-new, carrying its settings, well before
 * history limits (a few closed runs a day per connection).
 */
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CatalogSyncActivities } from './activities.js';
import { catalogSyncLoopQuery, configureCatalogSyncUpdate, syncCatalogNowSignal, type CatalogSyncLoopState } from './loopMessages.js';

export interface CatalogSyncLoopWorkflowInput {
  connection: string;
  everyMs: number;
  paused?: boolean;
  pausedAt?: string;
  pauseReason?: string;
  /** When the last sync started (epoch ms); absent: sync at once. */
  lastSyncAtMs?: number;
  /** A sync-now request carried over continue-as-new. */
  syncNow?: boolean;
}

const sync = proxyActivities<CatalogSyncActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 4, nonRetryableErrorTypes: ['UnknownConnection'] },
});
const record = proxyActivities<CatalogSyncActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
});

/** About 10 events a sync: some 500 syncs per run (8 h at a 60 s poll). */
const HISTORY_EVENTS_LIMIT = 5_000;
const MIN_EVERY_MS = 1_000;

export async function catalogSyncLoopWorkflow(input: CatalogSyncLoopWorkflowInput): Promise<void> {
  const { connection } = input;
  let everyMs = Math.max(MIN_EVERY_MS, input.everyMs);
  let paused = input.paused ?? false;
  let pausedAt = paused ? input.pausedAt : undefined;
  let pauseReason = paused ? input.pauseReason : undefined;
  let lastSyncAtMs = input.lastSyncAtMs;
  let syncNow = input.syncNow ?? false;
  let syncing = false;
  let syncs = 0;
  let settingsChanged = false;

  const nextAtMs = () => (paused ? undefined : lastSyncAtMs === undefined ? Date.now() : lastSyncAtMs + everyMs);
  const view = (): CatalogSyncLoopState => {
    const next = nextAtMs();
    return {
      connection,
      everyMs,
      paused,
      ...(pausedAt !== undefined ? { pausedAt } : {}),
      ...(pauseReason !== undefined ? { pauseReason } : {}),
      syncing,
      syncs,
      ...(next !== undefined ? { nextAt: new Date(next).toISOString() } : {}),
    };
  };
  setHandler(syncCatalogNowSignal, () => {
    if (!syncing) syncNow = true;
  });
  setHandler(
    configureCatalogSyncUpdate,
    (c) => {
      if (c.everyMs !== undefined) everyMs = c.everyMs;
      if (c.paused === true) {
        // Pausing again keeps the first pause's time; a new reason replaces the old one.
        if (!paused) pausedAt = new Date().toISOString();
        paused = true;
        if (c.reason !== undefined) pauseReason = c.reason;
      } else if (c.paused === false) {
        paused = false;
        pausedAt = undefined;
        pauseReason = undefined;
      }
      settingsChanged = true;
      return view();
    },
    {
      validator: (c) => {
        if (c.reason !== undefined && c.paused !== true) {
          throw ApplicationFailure.create({ type: 'InvalidCatalogSyncSettings', nonRetryable: true, message: 'a reason goes with paused: true only' });
        }
        if (c.everyMs !== undefined && !(Number.isInteger(c.everyMs) && c.everyMs >= MIN_EVERY_MS)) {
          throw ApplicationFailure.create({ type: 'InvalidCatalogSyncSettings', nonRetryable: true, message: `everyMs must be a whole number of milliseconds >= ${MIN_EVERY_MS} (got ${c.everyMs})` });
        }
      },
    },
  );
  setHandler(catalogSyncLoopQuery, view);

  const tooLong = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_LIMIT;
  while (!tooLong()) {
    const next = nextAtMs();
    if (syncNow || (next !== undefined && Date.now() >= next)) {
      syncNow = false;
      syncing = true;
      lastSyncAtMs = Date.now();
      try {
        await sync.syncCatalog({ connection });
      } catch (e) {
        // An ActivityFailure's own message names the activity; its cause says what went wrong.
        const message = ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
        await record.recordCatalogSyncFailure({ connection, error: message }).catch(() => undefined);
      } finally {
        syncing = false;
      }
      syncs++;
      continue;
    }
    settingsChanged = false;
    const wake = () => syncNow || settingsChanged;
    if (next === undefined) await condition(wake);
    else await condition(wake, Math.max(1, next - Date.now()));
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof catalogSyncLoopWorkflow>({
    connection,
    everyMs,
    paused,
    ...(pausedAt !== undefined ? { pausedAt } : {}),
    ...(pauseReason !== undefined ? { pauseReason } : {}),
    ...(lastSyncAtMs !== undefined ? { lastSyncAtMs } : {}),
    syncNow,
  });
}
