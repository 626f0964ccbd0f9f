/**
 * catalogSyncWorkflow: one sync of one provider connection's catalog, started by that connection's
 * Temporal Schedule (`gpuflow-catalog-<connection>`) every instance-type poll time. The activity
 * reads the provider, diffs against the stored snapshot and applies the diff to the catalog entity;
 * only a small summary comes back into this history. A sync that fails for good is recorded on the
 * entity (the snapshot stays and ages into staleness, so routing falls back to live reads).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { CatalogSyncActivities, CatalogSyncSummary } from './activities.js';

export interface CatalogSyncWorkflowInput {
  connection: string;
}

const sync = proxyActivities<CatalogSyncActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 4, nonRetryableErrorTypes: ['UnknownConnection'] },
});
const record = proxyActivities<CatalogSyncActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
});

export async function catalogSyncWorkflow(input: CatalogSyncWorkflowInput): Promise<CatalogSyncSummary> {
  try {
    return await sync.syncCatalog({ connection: input.connection });
  } catch (e) {
    // An ActivityFailure's own message names the activity; its cause says what went wrong.
    const message = ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
    await record.recordCatalogSyncFailure({ connection: input.connection, error: message });
    throw e;
  }
}
