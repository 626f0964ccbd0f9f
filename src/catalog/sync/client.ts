/**
 * Talks to the catalog entity workflows (`catalog:<connection>`): applies syncs with
 * update-with-start (the entity is created by the first sync), reads heads, status and changes
 * with Queries, and the catalogs themselves from the catalog content store (./contentStore.ts) by
 * the digest the entity holds. Used by the sync activity, by routing (planCandidates), and by the CLI.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import {
  applyCatalogSyncUpdate,
  catalogChangesQuery,
  catalogHeadQuery,
  catalogStatusQuery,
  catalogStoreWorkflowId,
  recordCatalogSyncFailureUpdate,
} from './messages.js';
import type { catalogStoreWorkflow } from './storeWorkflow.js';
import type { CatalogChange } from './diff.js';
import type { CatalogSnapshot } from './snapshot.js';
import type { ApplySyncRequest, ApplySyncResult, CatalogHeadView, CatalogStatus } from './store.js';
import { openCatalogContentStore, type CatalogContentStore } from './contentStore.js';

export const CATALOG_STORE_WORKFLOW_TYPE = 'catalogStoreWorkflow';

function notFound(e: unknown): boolean {
  return e instanceof WorkflowNotFoundError || (e as { name?: string })?.name === 'WorkflowNotFoundError';
}

/** A Query needs a worker to answer it; without one it would wait for the RPC's own deadline. */
const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/** Syncs whose change records `changes` could not all show (their full list was not readable). */
export interface IncompleteChanges {
  seq: number;
  at: string;
  total: number;
  shown: number;
  error: string;
}

export class CatalogStoreClient {
  /** Where the catalogs are (default: GPUFLOW_CATALOG_DIR, else $GPUFLOW_HOME/catalogs). */
  readonly contents: CatalogContentStore;

  constructor(
    readonly temporal: Client,
    readonly taskQueue: string,
    private readonly opts: { queryTimeoutMs?: number; contents?: CatalogContentStore } = {},
  ) {
    this.contents = opts.contents ?? openCatalogContentStore();
  }

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

  /** Where the connection's catalog is and what the entity references, or undefined when it was never synced. */
  async head(connection: string): Promise<CatalogHeadView | undefined> {
    try {
      return await this.query(() => this.temporal.workflow.getHandle(catalogStoreWorkflowId(connection)).query(catalogHeadQuery));
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * The latest snapshot, or undefined when the connection was never synced. Its entries are read
   * from the content store, unless `known` already holds the same catalog (same digest): then only
   * the sync's time and sequence are new.
   */
  async snapshot(connection: string, known?: CatalogSnapshot): Promise<CatalogSnapshot | undefined> {
    const view = await this.head(connection);
    if (view?.legacySnapshot) return view.legacySnapshot;
    const h = view?.head;
    if (!h) return undefined;
    const entries = known?.digest === h.digest ? known.entries : (await this.contents.getCatalog(connection, h.digest)).entries;
    return { connection, provider: h.provider, pollMs: h.pollMs, seq: h.seq, syncedAt: h.syncedAt, entries, issues: h.issues, digest: h.digest, bytes: h.bytes };
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
    return (await this.changesDetailed(connection, opts)).changes;
  }

  /**
   * Changes at or after `sinceMs`, oldest first, at most `limit` (the newest). A sync with more
   * changes than the entity keeps inline (a first sync of a large catalog) is read in full from the
   * content store; when that fails, its inline ones are shown and the sync is named in `incomplete`.
   */
  async changesDetailed(connection: string, opts: { sinceMs?: number; limit?: number } = {}): Promise<{ changes: CatalogChange[]; incomplete: IncompleteChanges[] }> {
    let inline: CatalogChange[];
    let view: CatalogHeadView | undefined;
    try {
      const handle = this.temporal.workflow.getHandle(catalogStoreWorkflowId(connection));
      [inline, view] = await this.query(() => Promise.all([handle.query(catalogChangesQuery, { ...(opts.sinceMs !== undefined ? { sinceMs: opts.sinceMs } : {}) }), handle.query(catalogHeadQuery)]));
    } catch (e) {
      if (notFound(e)) return { changes: [], incomplete: [] };
      throw e;
    }
    const since = opts.sinceMs ?? 0;
    const big = new Map((view?.syncs ?? []).filter((s) => s.changesDigest && Date.parse(s.at) >= since).map((s) => [s.seq, s]));
    const inlineBySeq = new Map<number, CatalogChange[]>();
    for (const c of inline) {
      const list = inlineBySeq.get(c.seq);
      if (list) list.push(c);
      else inlineBySeq.set(c.seq, [c]);
    }
    // Newest sync first, until `limit` records: a large sync's full list is read only when needed,
    // and replaces its inline records (which may have been pruned).
    const seqs = [...new Set([...inlineBySeq.keys(), ...big.keys()])].sort((a, b) => b - a);
    const incomplete: IncompleteChanges[] = [];
    const picked: CatalogChange[][] = [];
    let need = opts.limit ?? Number.POSITIVE_INFINITY;
    for (const seq of seqs) {
      if (need <= 0) break;
      let list = inlineBySeq.get(seq) ?? [];
      const s = big.get(seq);
      if (s) {
        try {
          list = await this.contents.getChanges(connection, s.changesDigest!);
        } catch (e) {
          incomplete.push({ seq, at: s.at, total: s.added + s.removed + s.changed, shown: list.length, error: (e as Error).message });
        }
      }
      picked.push(list.slice(Math.max(0, list.length - need)));
      need -= list.length;
    }
    return { changes: picked.reverse().flat(), incomplete };
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
