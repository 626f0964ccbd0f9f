/**
 * Live migration of a running job, make-before-break (placement.rebalance, residency, by hand).
 *
 *   watchForMove   beside the job: every rebalance interval (or at once, for a placement update
 *                  or a request by hand) rank the catalog (planCandidates: rankOffers on the
 *                  catalog the workflow already reads) and ask decideMove. When it says move:
 *                  reserve the budget, create the replacement, await it running, bootstrap it.
 *                  Only then does it return, and the attempt stops the job on the old instance
 *                  (SIGTERM, grace: the job checkpoints) and the workflow cuts over.
 *   cutOver        the old instance is terminated beside the new job's start; the replacement
 *                  becomes the workload's instance (its attempt says why it was made).
 *
 * A replacement that is abandoned (its create fails, it never runs, the job ends or the instance
 * is lost meanwhile) is terminated, never cancelled, and its cost stays in the workload's bill.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, condition, isCancellation, log, patched, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { InstanceRef, InstanceView } from '../../activities/types.js';
import { toDecimalString } from '../../money/money.js';
import { decideMove, DEFAULT_REBALANCE, DEFAULT_RESIDENCY_DEADLINE_MS, parseMoveTarget, type MoveDecision, type MoveReason } from '../../workflows/migrationPolicy.js';
import { blockFor } from '../../workflows/recoveryPolicy.js';
import { CLEANUP, CLEANUP_SWEEP, cleanup, CREATE, PLAN, providerCalls } from '../activityOptions.js';
import { now, setState, stop, type WorkloadContext } from '../context.js';
import type { AttemptRecord } from '../messages.js';
import { SA_GPU, SA_PROVIDER, SA_REGION, SA_SPOT } from '../messages.js';
import { migrationOf, recordCutover, recordMoveCheck, recordReplacementCreated, type Replacement } from '../migrationState.js';
import { planAttempt } from '../state.js';
import { bootstrap } from './bootstrap.js';
import { terminate } from './teardown.js';

/** Workloads started on this code may move; the gate sits before a move's first command. */
export const MIGRATION_PATCH = 'workload-migration-v1';
/** Between tries to leave a placement an update excluded, while its deadline runs. */
const RESIDENCY_RETRY_MS = 15_000;
const CANDIDATES = 25;

export { DEFAULT_RESIDENCY_DEADLINE_MS };

/** Returns a running, bootstrapped replacement when the job should move; undefined once `isDone`. */
export async function watchForMove(ctx: WorkloadContext, target: InstanceRef, isDone: () => boolean): Promise<Replacement | undefined> {
  const { run } = ctx;
  if (run.spec.lifecycle.kind !== 'job') return undefined;
  for (;;) {
    if (isDone() || run.stopReason) return undefined;
    const m = run.migration;
    const settings = run.spec.placement.rebalance;
    const residency = m?.residency;
    let trigger: MoveReason | undefined = m?.request ? 'manual' : residency && Date.now() >= residency.nextTryAt ? 'residency' : undefined;
    if (!trigger) {
      const wake = () => isDone() || !!run.stopReason || !!run.migration?.request || run.migration?.residency !== residency;
      const at = residency ? residency.nextTryAt : settings ? (m?.lastRebalanceAt ?? Date.now()) + settings.interval : undefined;
      if (at === undefined) {
        await condition(wake);
        continue;
      }
      if (!patched(MIGRATION_PATCH)) return undefined;
      if (await condition(wake, Math.max(1, at - Date.now()))) continue;
      trigger = residency ? 'residency' : 'rebalance';
    }
    if (!patched(MIGRATION_PATCH)) return undefined;
    ctx.busy++;
    try {
      const rep = await checkOnce(ctx, target, trigger, isDone);
      if (rep) return rep;
    } finally {
      ctx.busy--;
      ctx.progress++;
    }
  }
}

/** One check: plan, decide, and when moving prepare the replacement. */
async function checkOnce(ctx: WorkloadContext, target: InstanceRef, trigger: MoveReason, isDone: () => boolean): Promise<Replacement | undefined> {
  const { run } = ctx;
  const m = migrationOf(run);
  const request = trigger === 'manual' ? m.request : undefined;
  if (trigger === 'manual') m.request = undefined;
  const residency = m.residency;
  if (trigger === 'residency' && residency && Date.now() >= residency.deadline) {
    const why = `${residency.violation}, and the job could not move within placement.residencyDeadline: stopped`;
    recordMoveCheck(run, 'residency', { move: false, why }, Date.now());
    log.warn('residency deadline passed: stopping', { violation: residency.violation });
    run.error = why;
    stop(ctx, 'stopped');
    return undefined;
  }
  const plan = await providerCalls.planCandidates.executeWithOptions(
    { ...PLAN, summary: `rank offers for a move (${trigger})` },
    [{ spec: run.spec, blocked: [...run.blocked], limit: CANDIDATES }],
  );
  const record = run.attempts.find((a) => a.cloudId === target.cloudId && a.connection === target.connection);
  const startedOn = Date.parse(record?.jobStartedAt ?? record?.runningAt ?? new Date(Date.now()).toISOString());
  const max = run.spec.lifecycle.maxDuration;
  let decision: MoveDecision;
  try {
    decision = decideMove({
      trigger,
      current: run.offer!,
      candidates: plan.candidates,
      settings: run.spec.placement.rebalance ?? DEFAULT_REBALANCE,
      runningForMs: Math.max(0, Date.now() - startedOn),
      ...(max !== undefined ? { remainingMs: run.startedAt + max - Date.now() } : {}),
      ...(request?.to ? { to: parseMoveTarget(request.to) } : {}),
    });
  } catch (e) {
    decision = { move: false, why: (e as Error).message };
  }
  recordMoveCheck(run, trigger, decision, Date.now(), request?.seq);
  if (!decision.move) {
    if (trigger !== 'rebalance') log.info('not moving', { trigger, why: decision.why });
    if (residency && trigger !== 'manual') residency.nextTryAt = Math.min(residency.deadline, Date.now() + RESIDENCY_RETRY_MS);
    return undefined;
  }
  log.info('moving the job', { reason: decision.reason, why: decision.why });
  const rep = await prepareReplacement(ctx, decision, isDone);
  if (!rep && residency && m.residency === residency) residency.nextTryAt = Math.min(residency.deadline, Date.now() + RESIDENCY_RETRY_MS);
  return rep;
}

/** Make: reserve, create, await running, bootstrap. Undefined (the replacement terminated) when it does not work out. */
async function prepareReplacement(ctx: WorkloadContext, d: Extract<MoveDecision, { move: true }>, isDone: () => boolean): Promise<Replacement | undefined> {
  const { run } = ctx;
  const c = d.target;
  const reservation = await ctx.budget.reserveFor(c);
  if (!reservation.ok) {
    const why = `the budget refused the move: ${reservation.refusals.map((r) => r.message).join('; ')}`;
    recordMoveCheck(run, d.reason, { move: false, why }, Date.now());
    log.warn('not moving: budget refused', { why });
    return undefined;
  }
  if (isDone() || run.stopReason) return undefined;
  const record = planAttempt(run, c, Date.now());
  record.move = d.reason;
  record.reason = `${d.reason}: ${d.why}`;
  const what = `${c.type} on ${c.connection}/${c.location}${c.spot ? ' (spot)' : ''} at ${toDecimalString(c.pricePerHour)}/h`;
  setState(ctx, 'running', `job running on ${run.ref?.cloudId}; moving it (${d.reason}): creating ${what}`);
  let created: InstanceView;
  try {
    created = await CancellationScope.nonCancellable(() =>
      providerCalls.createInstance.executeWithOptions({ ...CREATE, summary: `create ${what} to move the job (${d.reason})` }, [
        { offer: c, refId: record.refId, name: `${run.spec.name}-${run.attempts.length}`, tags: { 'gpuflow-workload': run.workloadId, 'gpuflow-project': run.spec.project, 'gpuflow-tenant': run.spec.tenant } },
      ]),
    );
  } catch (e) {
    await CancellationScope.nonCancellable(() =>
      cleanup.terminateByRefId.executeWithOptions({ ...CLEANUP_SWEEP, summary: `sweep instances of failed create ${record.refId}` }, [
        { connection: c.connection, location: c.location, refId: record.refId },
      ]),
    );
    const cause = e instanceof ActivityFailure ? e.cause : undefined;
    record.outcome = 'failed-over';
    record.reason = `${d.reason}: ${cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ` : ''}${cause?.message ?? (e as Error).message}`;
    if (cause instanceof ApplicationFailure && cause.type) run.blocked.push(blockFor(c, cause.type, (cause.details?.[0] as { scope?: string } | undefined)?.scope));
    log.warn('move: create failed; staying', { error: record.reason });
    if (isCancellation(e)) throw e;
    return undefined;
  }
  const bill = recordReplacementCreated(run, record, c, created, reservation.billing, Date.now());
  const ref: InstanceRef = { connection: c.connection, cloudId: created.instance.cloudId, location: created.instance.location };
  try {
    const view = await awaitRunning(ref, created);
    if (!view) throw ApplicationFailure.nonRetryable(`replacement ${ref.cloudId} ${created.instance.status.lifecycleStatus} before running`, 'ProvisioningFailed');
    record.runningAt = now();
    setState(ctx, 'running', `job running on ${run.ref?.cloudId}; moving it (${d.reason}): bootstrapping ${ref.cloudId}`);
    await bootstrap(ctx, ref, { ahead: true });
    if (isDone() || run.stopReason) throw ApplicationFailure.nonRetryable('the job ended before the move', 'MoveAbandoned');
    return { reason: d.reason, why: d.why, candidate: c, record, ref, view, bill };
  } catch (e) {
    record.outcome = 'abandoned';
    record.reason = `${d.reason}: ${e instanceof ActivityFailure && e.cause ? e.cause.message : (e as Error).message}`;
    const done = abandon(ref, bill, record);
    ctx.pendingTerminations.push(done);
    await done;
    if (isCancellation(e)) throw e;
    log.warn('move abandoned; staying', { why: record.reason });
    return undefined;
  }
}

async function awaitRunning(ref: InstanceRef, created: InstanceView): Promise<InstanceView | undefined> {
  const deadline = Date.now() + created.provisioningTimeoutMs;
  let v = created;
  for (;;) {
    const s = v.instance.status.lifecycleStatus;
    if (s === 'running') return v;
    if (s === 'failed' || s === 'terminated' || s === 'terminating' || Date.now() >= deadline) return undefined;
    await sleep(Math.max(500, v.pollMs));
    v = await providerCalls.getInstance(ref);
  }
}

/** Terminates a replacement that will not be used (never cancelled): the workload's own instance is untouched. */
function abandon(ref: InstanceRef, bill: Replacement['bill'], record: AttemptRecord): Promise<void> {
  return CancellationScope.nonCancellable(async () => {
    const final = await cleanup.terminateInstance.executeWithOptions({ ...CLEANUP, summary: `terminate ${ref.cloudId} (move abandoned)` }, [ref]);
    const at = final?.terminatedAt ?? now();
    bill.terminatedAt = at;
    record.terminatedAt = at;
  });
}

/** The job stopped on the old instance (checkpointed in its grace): terminate it, make the replacement current. */
export function cutOver(ctx: WorkloadContext, old: AttemptRecord, oldRef: InstanceRef, rep: Replacement): void {
  const { run } = ctx;
  const oldBill = run.billed[run.billed.length - 1];
  // Beside the new job's start (awaited before the workload ends): the job has already stopped there.
  ctx.pendingTerminations.push(terminate(ctx, oldRef, oldBill, `moved (${rep.reason})`));
  recordCutover(run, old, rep, Date.now());
  ctx.prepared = rep.ref.cloudId;
  upsertSearchAttributes([
    { key: SA_PROVIDER, value: rep.candidate.connection },
    { key: SA_GPU, value: run.offer!.gpu },
    { key: SA_REGION, value: rep.candidate.location },
    { key: SA_SPOT, value: rep.candidate.spot },
  ]);
  log.info('moved', { reason: rep.reason, from: oldRef.cloudId, to: rep.ref.cloudId });
}

/** The job ended (or a stop came) while the replacement was ready: it is not needed. */
export async function dropReplacement(ctx: WorkloadContext, rep: Replacement): Promise<void> {
  rep.record.outcome = 'abandoned';
  rep.record.reason = `${rep.reason}: the job ended before the cutover`;
  const done = abandon(rep.ref, rep.bill, rep.record);
  ctx.pendingTerminations.push(done);
  await done;
}
