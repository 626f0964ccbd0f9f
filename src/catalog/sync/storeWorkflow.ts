/**
 * catalogStoreWorkflow: one entity per provider connection (`catalog:<connection>`), created on the
 * first sync with update-with-start, holding the connection's latest catalog snapshot and a bounded
 * history of changes durably, readable by every worker and the CLI through Queries.
 *
 * The catalog itself is not in history: it is a content-addressed blob in the catalog content store
 * (./contentStore.ts), written by the sync activity; the entity keeps its digest, counts and recent
 * changes (applyCatalogSync), so a sync costs a few hundred bytes of history per poll, and at most
 * ~100 KB of change records, whatever the catalog's size. Handlers are synchronous, so each check-and-apply is atomic. The
 * entity continues-as-new, carrying its state, well before Temporal's history limits.
 */
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { applySync, changesSince, checkApplySync, headView, newStoreState, recordFailure, storeStatus, type CatalogStoreState } from './store.js';
import {
  applyCatalogSyncUpdate,
  catalogChangesQuery,
  catalogHeadQuery,
  catalogSnapshotQuery,
  catalogStatusQuery,
  recordCatalogSyncFailureUpdate,
} from './messages.js';

export interface CatalogStoreWorkflowInput {
  connection: string;
  state?: CatalogStoreState;
}

/** Many small syncs (or a few with many change records), then a fresh run. */
const HISTORY_EVENTS_LIMIT = 2_000;
const HISTORY_BYTES_LIMIT = 8 * 1024 * 1024;

export async function catalogStoreWorkflow(input: CatalogStoreWorkflowInput): Promise<void> {
  const state: CatalogStoreState = input.state ?? newStoreState(input.connection);

  setHandler(applyCatalogSyncUpdate, (req) => applySync(state, req), {
    validator: (req) => {
      const bad = checkApplySync(state, req);
      if (bad) throw ApplicationFailure.create({ type: 'CatalogSyncConflict', message: bad, nonRetryable: true });
    },
  });
  setHandler(recordCatalogSyncFailureUpdate, ({ at, error }) => recordFailure(state, at, error));
  setHandler(catalogHeadQuery, () => headView(state));
  setHandler(catalogSnapshotQuery, () => state.snapshot ?? null);
  setHandler(catalogStatusQuery, () => storeStatus(state));
  setHandler(catalogChangesQuery, (opts) => changesSince(state, opts?.sinceMs, opts?.limit));

  const tooLong = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > HISTORY_EVENTS_LIMIT || info.historySize > HISTORY_BYTES_LIMIT;
  };
  await condition(tooLong);
  await condition(allHandlersFinished);
  // Updates that arrive now are retried by their callers against the new run.
  await continueAsNew<typeof catalogStoreWorkflow>({ connection: state.connection, state });
}
