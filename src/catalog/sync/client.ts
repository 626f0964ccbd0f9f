/**
 * Talks to the catalog entity workflows (`catalog:<connection>`): applies syncs with
 * update-with-start (the entity is created by the first sync), reads snapshots, status and changes
 * with Queries. Used by the sync activity, by routing (planCandidates), and by the CLI.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import {
  applyCatalogSyncUpdate,
  catalogChangesQuery,
  catalogSnapshotQuery,
  catalogStatusQuery,
  catalogStoreWorkflowId,
  recordCatalogSyncFailureUpdate,
} from '../../workflows/catalogSyncMessages.js';
import type { catalogStoreWorkflow } from '../../workflows/catalogSyncStore.js';
import type { CatalogChange } from './diff.js';
import type { CatalogSnapshot } from './snapshot.js';
import type { ApplySyncRequest, ApplySyncResult, CatalogStatus } from './store.js';

export const CATALOG_STORE_WORKFLOW_TYPE = 'catalogStoreWorkflow';

function notFound(e: unknown): boolean {
  return e instanceof WorkflowNotFoundError || (e as { name?: string })?.name === 'WorkflowNotFoundError';
}

/** A Query needs a worker to answer it; without one it would wait for the RPC's own deadline. */
const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

export class CatalogStoreClient {
  constructor(
    readonly temporal: Client,
    readonly taskQueue: string,
    private readonly opts: { queryTimeoutMs?: number } = {},
  ) {}

  private query<T>(fn: () => Promise<T>): Promise<T> {
    return this.temporal.connection.withDeadline(Date.now() + (this.opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS), fn);
  }

  private startOp(connection: string): WithStartWorkflowOperation<typeof catalogStoreWorkflow> {
    const op = new WithStartWorkflowOperation<typeof catalogStoreWorkflow>(CATALOG_STORE_WORKFLOW_TYPE, {
      workflowId: catalogStoreWorkflowId(connection),
      taskQueue: this.taskQueue,
      args: [{ connection }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      memo: { connection },
    });
    // When the Update fails this promise rejects too; unobserved, it would crash the process.
    op.workflowHandle().catch(() => undefined);
    return op;
  }

  /** Applies a sync (creating the entity on first use). Rejected when the diff's base is not current. */
  apply(connection: string, req: ApplySyncRequest): Promise<ApplySyncResult> {
    return this.temporal.workflow.executeUpdateWithStart(applyCatalogSyncUpdate, {
      args: [req],
      updateId: `sync/${req.baseSeq + 1}/${req.syncedAt}`,
      startWorkflowOperation: this.startOp(connection),
    });
  }

  recordFailure(connection: string, error: string): Promise<void> {
    return this.temporal.workflow.executeUpdateWithStart(recordCatalogSyncFailureUpdate, {
      args: [{ at: new Date().toISOString(), error }],
      startWorkflowOperation: this.startOp(connection),
    });
  }

  /** The latest snapshot, or undefined when the connection was never synced. */
  async snapshot(connection: string): Promise<CatalogSnapshot | undefined> {
    try {
      return (await this.query(() => this.temporal.workflow.getHandle(catalogStoreWorkflowId(connection)).query(catalogSnapshotQuery))) ?? undefined;
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  async status(connection: string): Promise<CatalogStatus | undefined> {
    try {
      return await this.query(() => this.temporal.workflow.getHandle(catalogStoreWorkflowId(connection)).query(catalogStatusQuery));
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  async changes(connection: string, opts: { sinceMs?: number; limit?: number } = {}): Promise<CatalogChange[]> {
    try {
      return await this.query(() => this.temporal.workflow.getHandle(catalogStoreWorkflowId(connection)).query(catalogChangesQuery, opts));
    } catch (e) {
      if (notFound(e)) return [];
      throw e;
    }
  }

  /** Connections that have a catalog entity (running), by name. */
  async connections(): Promise<string[]> {
    const names = new Set<string>();
    for await (const w of this.temporal.workflow.list({ query: `WorkflowType = '${CATALOG_STORE_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'` })) {
      if (w.workflowId.startsWith('catalog:')) names.add(w.workflowId.slice('catalog:'.length));
    }
    return [...names].sort();
  }
}
