/**
 * One candidate's attempt: reserve its budget, create it (idempotent by refId, swept on any
 * failure), await running. Returns what happened so placement can fail over.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, log, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { InstanceView } from '../../activities/types.js';
import { toDecimalString } from '../../money/money.js';
import type { Offer } from '../../routing/offer.js';
import { blockFor } from '../../workflows/recoveryPolicy.js';
import { CLEANUP_SWEEP, cleanup, CREATE, PLACEMENT_ERRORS, providerCalls } from '../activityOptions.js';
import { now, setState, type WorkloadContext } from '../context.js';
import { SA_GPU, SA_PROVIDER, SA_REGION, SA_SPOT } from '../messages.js';
import { planAttempt, recordCapRefusal, recordCreated } from '../state.js';
import { terminate } from './teardown.js';

export type CandidateResult = { kind: 'running' } | { kind: 'stopped' } | { kind: 'cap-refused'; message: string } | { kind: 'failed' };

export async function provisionCandidate(ctx: WorkloadContext, candidate: Offer, why: () => string): Promise<CandidateResult> {
  const { run } = ctx;
  const { spec, workloadId } = run;
  // Reserve before creating: a refused reservation never provisions anything.
  const reservation = await ctx.budget.reserveFor(candidate);
  if (!reservation.ok) {
    const fatal = reservation.refusals.find((r) => !r.key.startsWith('connection:'));
    if (fatal) throw ApplicationFailure.nonRetryable(fatal.message, fatal.kind === 'exceeded' ? 'BudgetExceeded' : 'BudgetInvalid', fatal);
    // A connection's spending cap: fail over to other connections.
    const refusal = reservation.refusals[0]!;
    recordCapRefusal(run, candidate, refusal.message);
    log.warn('spending cap refused the reservation, failing over', { connection: candidate.connection, message: refusal.message });
    return { kind: 'cap-refused', message: refusal.message };
  }
  if (run.stopReason) return { kind: 'stopped' };
  const record = planAttempt(run, candidate, Date.now());
  const { refId } = record;
  const what = `${candidate.type} on ${candidate.connection}/${candidate.location}${candidate.spot ? ' (spot)' : ''} at ${toDecimalString(candidate.pricePerHour)}/h`;
  setState(ctx, 'provisioning', `creating ${what}`);
  let created: InstanceView;
  try {
    // Non-cancellable: a create that succeeds must be recorded, or a cancel would orphan it.
    created = await CancellationScope.nonCancellable(() =>
      providerCalls.createInstance.executeWithOptions({ ...CREATE, summary: `create ${what}` }, [
        { offer: candidate, refId, name: `${spec.name}-${run.attempts.length}`, tags: { 'gpuflow-workload': workloadId, 'gpuflow-project': spec.project, 'gpuflow-tenant': spec.tenant } },
      ]),
    );
  } catch (e) {
    // Whatever the error, no instance may survive a failed create.
    await CancellationScope.nonCancellable(() =>
      cleanup.terminateByRefId.executeWithOptions({ ...CLEANUP_SWEEP, summary: `sweep instances of failed create ${refId}` }, [
        { connection: candidate.connection, location: candidate.location, refId },
      ]),
    );
    const cause = e instanceof ActivityFailure ? e.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type && PLACEMENT_ERRORS.includes(cause.type)) {
      const details = cause.details?.[0] as { scope?: string } | undefined;
      run.blocked.push(blockFor(candidate, cause.type, details?.scope));
      record.outcome = 'failed-over';
      record.reason = `${cause.type}: ${cause.message}`;
      log.warn('create failed, failing over', { connection: candidate.connection, type: candidate.type, location: candidate.location, error: cause.type });
      return { kind: 'failed' };
    }
    throw e;
  }
  const bill = recordCreated(run, record, candidate, created, reservation.billing, why(), Date.now());
  upsertSearchAttributes([
    { key: SA_PROVIDER, value: candidate.connection },
    { key: SA_GPU, value: run.offer!.gpu },
    { key: SA_REGION, value: candidate.location },
    { key: SA_SPOT, value: candidate.spot },
  ]);
  setState(ctx, 'waiting-for-instance', `waiting for ${created.instance.cloudId} (${what}) to run`);
  if (await awaitRunning(ctx, created)) {
    record.runningAt = now();
    return { kind: 'running' };
  }
  // It never came up: abandon it (terminated, billed for what it ran) and try the next offer.
  record.outcome = 'abandoned';
  record.reason = `instance ${run.view?.instance.status.lifecycleStatus ?? 'unknown'} before running`;
  await terminate(ctx, run.ref!, bill, 'never came up');
  run.blocked.push(blockFor(candidate, 'ProvisioningFailed', 'offer'));
  return { kind: 'failed' };
}

/** Polls until running; false if the instance failed or did not come up in time (the caller fails over). */
async function awaitRunning(ctx: WorkloadContext, current: InstanceView): Promise<boolean> {
  const deadline = Date.now() + current.provisioningTimeoutMs;
  let v = current;
  for (;;) {
    const s = v.instance.status.lifecycleStatus;
    if (s === 'running') {
      ctx.run.view = v;
      return true;
    }
    if (s === 'failed' || s === 'terminated' || s === 'terminating') return false;
    if (Date.now() >= deadline) return false;
    await sleep(Math.max(500, v.pollMs));
    v = await providerCalls.getInstance(ctx.run.ref!);
    ctx.run.view = v;
  }
}
