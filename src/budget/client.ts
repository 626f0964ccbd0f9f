/**
 * Talks to budget entity workflows: every mutation is update-with-start (the entity is created on
 * first use, `USE_EXISTING` afterwards) with a caller-chosen updateId; reads are Queries.
 * Used by the worker's activities and by the embedding API / CLI.
 */
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError, type UpdateDefinition } from '@temporalio/common';
import type { BudgetConfig } from './config.js';
import { BUDGET_WORKFLOW_PREFIX, budgetWorkflowId, InvalidBudgetError } from './config.js';
import type { BudgetStatus, CommitRequest, CommitResult, LedgerView, Refusal, ReserveRequest, ReserveResult } from './ledger.js';
import {
  budgetLedgerQuery,
  budgetStatusQuery,
  commitUpdate,
  reconcileUpdate,
  reserveUpdate,
  setBudgetUpdate,
  type BudgetWorkflow,
} from './messages.js';

export type ReserveOutcome = { ok: true; result: ReserveResult } | { ok: false; refusal: Refusal };

/**
 * Temporal admits at most 10 in-flight Updates per workflow execution (history.maxInFlightUpdates)
 * and answers more with RESOURCE_EXHAUSTED; continue-as-new aborts in-flight Updates (UNAVAILABLE).
 * Both are safe to retry here: every mutation is idempotent (updateId, and (workloadId, seq) in the
 * entity's state). A per-process limiter keeps one process's callers under the server's limit.
 */
const MAX_IN_FLIGHT_PER_BUDGET = 8;
const RETRY_DEADLINE_MS = 60_000;

class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
const limiters = new Map<string, Limiter>();
/** Budget entities this process has seen running (a plain Update reaches them). */
const started = new Set<string>();

function limiterFor(id: string): Limiter {
  let l = limiters.get(id);
  if (!l) limiters.set(id, (l = new Limiter(MAX_IN_FLIGHT_PER_BUDGET)));
  return l;
}

/** RESOURCE_EXHAUSTED (too many in-flight Updates) or UNAVAILABLE (Update aborted by continue-as-new). */
export function isTransientUpdateError(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (code === 8 || code === 14) return true;
    const msg = String((c as { message?: unknown }).message ?? '');
    if (/in-flight updates|update was aborted|Update-with-Start could not be executed|workflow is closing/i.test(msg)) return true;
  }
  return false;
}

async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + RETRY_DEADLINE_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransientUpdateError(e) || Date.now() > deadline) throw e;
      const backoff = Math.min(1_000, 20 * 2 ** Math.min(attempt, 6));
      await new Promise((r) => setTimeout(r, backoff / 2 + Math.random() * (backoff / 2)));
    }
  }
}

/** A refusal carried by a rejected Update, if that is what `e` is. */
export function refusalOf(e: unknown): Refusal | undefined {
  const cause = e instanceof WorkflowUpdateFailedError ? e.cause : undefined;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  if (cause.type !== 'BudgetExceeded' && cause.type !== 'BudgetInvalid') return undefined;
  const details = cause.details?.[0] as Refusal | undefined;
  return details && typeof details.message === 'string'
    ? details
    : { kind: cause.type === 'BudgetExceeded' ? 'exceeded' : 'invalid', key: '', message: cause.message };
}

export class BudgetClient {
  constructor(
    readonly temporal: Client,
    readonly taskQueue: string,
  ) {}

  private startOp(key: string): WithStartWorkflowOperation<BudgetWorkflow> {
    const op = new WithStartWorkflowOperation<BudgetWorkflow>('budgetWorkflow', {
      workflowId: budgetWorkflowId(key),
      taskQueue: this.taskQueue,
      args: [{ key }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      memo: { budgetKey: key },
    });
    // When the Update fails this promise rejects too; unobserved, it would crash the process.
    op.workflowHandle().catch(() => undefined);
    return op;
  }

  /**
   * One Update under the per-budget limiter, retried while the server is busy: a plain Update on
   * the running entity (cheapest), Update-with-Start when it does not exist yet.
   */
  private update<Ret, Arg>(key: string, def: UpdateDefinition<Ret, [Arg]>, arg: Arg, updateId?: string): Promise<Ret> {
    const args: [Arg] = [arg];
    const id = budgetWorkflowId(key);
    const seen = `${this.temporal.options.namespace}/${id}`;
    return limiterFor(seen).run(() =>
      withRetries(async () => {
        if (started.has(seen)) {
          try {
            return await this.temporal.workflow.getHandle(id).executeUpdate(def, { args, ...(updateId ? { updateId } : {}) });
          } catch (e) {
            if (!(e instanceof WorkflowNotFoundError)) throw e;
            started.delete(seen);
          }
        }
        const r = await this.temporal.workflow.executeUpdateWithStart(def, { args, ...(updateId ? { updateId } : {}), startWorkflowOperation: this.startOp(key) });
        started.add(seen);
        return r;
      }),
    );
  }

  /** Sets the workload's hold; a refusal (over the cap, invalid) is returned, not thrown. */
  async reserve(key: string, req: ReserveRequest, updateId = `${req.workloadId}/${req.seq}/reserve`): Promise<ReserveOutcome> {
    try {
      const result = await this.update(key, reserveUpdate, req, updateId);
      return { ok: true, result };
    } catch (e) {
      const refusal = refusalOf(e);
      if (refusal) return { ok: false, refusal: { ...refusal, key: refusal.key || key } };
      throw e;
    }
  }

  async commit(key: string, req: CommitRequest, updateId = `${req.workloadId}/${req.seq}/commit`): Promise<CommitResult> {
    return this.update(key, commitUpdate, req, updateId);
  }

  /** Sets the budget (null: remove the cap, keep the ledger). Throws InvalidBudgetError when refused. */
  async set(key: string, config: BudgetConfig | null): Promise<BudgetStatus> {
    try {
      return await this.update(key, setBudgetUpdate, { config });
    } catch (e) {
      const cause = e instanceof WorkflowUpdateFailedError ? e.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === 'BudgetInvalid') throw new InvalidBudgetError([{ path: key, message: cause.message }]);
      throw e;
    }
  }

  async reconcile(key: string, minAgeMs = 0): Promise<{ released: string[] }> {
    return this.update(key, reconcileUpdate, { minAgeMs });
  }

  /** The budget's status, or undefined when nothing was ever recorded for the key. */
  async status(key: string): Promise<BudgetStatus | undefined> {
    try {
      return await this.temporal.workflow.getHandle(budgetWorkflowId(key)).query(budgetStatusQuery);
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return undefined;
      throw e;
    }
  }

  async ledger(key: string, opts: { since?: string; entries?: boolean } = {}): Promise<LedgerView | undefined> {
    try {
      return await this.temporal.workflow.getHandle(budgetWorkflowId(key)).query(budgetLedgerQuery, opts);
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return undefined;
      throw e;
    }
  }

  /** Keys of every budget entity (visibility: eventually consistent, a second or so behind). */
  async keys(): Promise<string[]> {
    const keys = new Set<string>();
    for await (const wf of this.temporal.workflow.list({ query: `WorkflowType = 'budgetWorkflow' AND ExecutionStatus = 'Running'` })) {
      if (wf.workflowId.startsWith(BUDGET_WORKFLOW_PREFIX)) keys.add(wf.workflowId.slice(BUDGET_WORKFLOW_PREFIX.length));
    }
    return [...keys].sort();
  }
}
