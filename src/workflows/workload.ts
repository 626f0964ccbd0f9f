/**
 * workloadWorkflow: one GPU workload's whole life, durably.
 *
 *   select offers → create (idempotent by refId, failing over on capacity/quota) → await running
 *   → SSH bootstrap → run the job (re-attaching after worker restarts) while sampling GPU
 *   utilization → terminate, on every exit path, in a non-cancellable scope.
 *
 * Budgets (workloadBudget.ts): every candidate is reserved against its project, tenant and
 * connection budgets before it is created; a live instance is checked against its holds and
 * stopped when a capped budget (policy "stop") cannot cover it; actual costs are committed once
 * every instance has terminated.
 *
 * Deterministic orchestration only: every side effect is an activity.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { InstanceRef, InstanceView } from '../activities/types.js';
import { formatExact, ledgerSum } from '../money/billing.js';
import { toDecimalString, toJSON } from '../money/money.js';
import type { Instance } from '../providers/sdk/types.js';
import type { BlockedScope } from '../routing/constraints.js';
import type { Offer } from '../routing/offer.js';
import type { AutoShutdown, WorkloadSpec } from '../workload/spec.js';
import { budgetCapReachedSignal } from './budgetMessages.js';
import {
  logsUpdate,
  SA_GPU,
  SA_PROVIDER,
  SA_REGION,
  SA_SPOT,
  SA_STATE,
  setAutoShutdownUpdate,
  statusQuery,
  stopUpdate,
  type AttemptRecord,
  type ChosenOffer,
  type WorkloadOutcome,
  type WorkloadResult,
  type WorkloadState,
  type WorkloadStatus,
} from './messages.js';
import { instanceBilledMs, instanceCost, WorkloadBudget, type BilledInstance } from './workloadBudget.js';

export interface WorkloadInput {
  /** Already validated by parseWorkloadSpec at the boundary. */
  spec: WorkloadSpec;
  /** Bound on placement passes before giving up when nothing has capacity. */
  maxPlacementPasses?: number;
}

/** Errors that mean "this placement will not work": fail over instead of retrying. */
const PLACEMENT_ERRORS = ['InsufficientCapacityError', 'OutOfQuotaError', 'AuthenticationError', 'InvalidRequestError', 'ImageNotFoundError'];
const PERMANENT_ERRORS = [...PLACEMENT_ERRORS, 'InstanceNotFoundError', 'NotImplementedError', 'SecretNotFound', 'JobLost'];

// Provider calls: 5xx, 429 and timeouts retry with capped backoff for hours.
const providerCalls = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '6h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: PERMANENT_ERRORS },
});
// Terminate never gives up: an instance must not be left billing.
const cleanup = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['AuthenticationError'] },
});
const bootstrap = proxyActivities<Activities>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT_ERRORS },
});
const job = proxyActivities<Activities>({
  startToCloseTimeout: '30 days',
  heartbeatTimeout: '20s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: PERMANENT_ERRORS },
});
const probes = proxyActivities<Activities>({
  startToCloseTimeout: '45s',
  retry: { initialInterval: '1s', maximumAttempts: 2 },
});

const CANDIDATES_PER_PASS = 25;
const STOP_GRACE_MS = 10_000;
const SSH_TIMEOUT_MS = 10 * 60_000;

export async function workloadWorkflow(input: WorkloadInput): Promise<WorkloadResult> {
  const { spec } = input;
  const workloadId = workflowInfo().workflowId;
  const startedAt = Date.now();
  const maxPasses = input.maxPlacementPasses ?? 5;

  let state: WorkloadState = 'pending';
  let outcome: WorkloadOutcome | undefined;
  let autoShutdown: AutoShutdown = spec.autoShutdown;
  let offer: ChosenOffer | undefined;
  let ref: InstanceRef | undefined;
  /** Whether `ref` is an instance we still have to terminate. */
  let live = false;
  let view: InstanceView | undefined;
  let exitCode: number | undefined;
  let error: string | undefined;
  let gpuUtilization: number[] | undefined;
  let idleSinceMs: number | undefined;
  let stopReason: WorkloadOutcome | undefined;
  let jobScope: CancellationScope | undefined;
  let bootstrapScope: CancellationScope | undefined;
  const attempts: AttemptRecord[] = [];
  const billed: BilledInstance[] = [];
  const budget = new WorkloadBudget(workloadId, spec, billed);
  /** Set once the workload is past its last instance: the budget guard exits. */
  let finished = false;

  function setState(s: WorkloadState): void {
    state = s;
    upsertSearchAttributes([{ key: SA_STATE, value: s }]);
  }

  /** Cost from the instances' provider lifetimes, rounded to each provider's billing unit. */
  function accrued(now: number) {
    return {
      cost: toJSON(ledgerSum(billed.map((b) => instanceCost(b, now)))),
      billedMs: billed.reduce((n, b) => n + instanceBilledMs(b, now), 0),
    };
  }

  function requestStop(reason: WorkloadOutcome): void {
    if (stopReason) return;
    stopReason = reason;
    if (state !== 'terminating' && state !== 'terminated') state = 'stopping';
    jobScope?.cancel();
    bootstrapScope?.cancel(); // a stop must not wait out an SSH timeout while the instance bills
  }

  setHandler(statusQuery, (): WorkloadStatus => ({
    workloadId,
    name: spec.name,
    project: spec.project,
    tenant: spec.tenant,
    state,
    ...(outcome ? { outcome } : {}),
    ...(offer ? { offer } : {}),
    ...(ref
      ? {
          instance: {
            connection: ref.connection,
            cloudId: ref.cloudId,
            ...(view?.instance.publicIp ? { sshHost: view.instance.publicIp, sshPort: view.instance.sshPort, sshUser: view.instance.sshUser } : {}),
            createdAt: view?.instance.createdAt,
          },
        }
      : {}),
    startedAt: new Date(startedAt).toISOString(),
    elapsedMs: Date.now() - startedAt,
    costSoFar: accrued(Date.now()).cost,
    ...(budget.holds().length ? { budgets: budget.holds() } : {}),
    attempts,
    autoShutdown,
    ...(gpuUtilization ? { gpuUtilization } : {}),
    ...(idleSinceMs !== undefined ? { idleSince: new Date(idleSinceMs).toISOString() } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(error ? { error } : {}),
  }));

  setHandler(
    stopUpdate,
    ({ reason }) => {
      log.info('stop requested', { reason });
      requestStop('stopped');
      return state;
    },
    {
      validator: (_args) => {
        if (state === 'terminated' || state === 'terminating') throw new Error(`workload is already ${state}`);
      },
    },
  );

  setHandler(
    setAutoShutdownUpdate,
    (next) => {
      autoShutdown = next;
      idleSinceMs = undefined;
      return autoShutdown;
    },
    {
      validator: (next) => {
        if (next === 'off') return;
        if (!(next.utilizationBelowPercent >= 0 && next.utilizationBelowPercent <= 100)) throw new Error('utilizationBelowPercent must be 0-100');
        if (!(next.idleWindow > 0) || !(next.sampleInterval > 0)) throw new Error('idleWindow and sampleInterval must be positive durations');
      },
    },
  );

  setHandler(
    logsUpdate,
    async ({ lines }) => {
      if (!ref || !live) return '';
      return probes.tailJobLogs({ ref, workloadId, lines: lines ?? 100 });
    },
    {
      validator: (_args) => {
        if (!ref || !live) throw new Error(`no instance to read logs from (state: ${state})`);
      },
    },
  );

  // A budget whose actual spend reached its cap (policy "stop") tells its running workloads.
  setHandler(budgetCapReachedSignal, ({ key, message }) => {
    if (!budget.counts(key) || finished || stopReason) return;
    log.warn('budget cap reached: stopping', { key, message });
    error = message;
    requestStop('budget-exceeded');
  });

  /** While an instance lives: keep its holds ahead of its spend, stop when a capped budget cannot. */
  async function guardBudget(): Promise<void> {
    for (;;) {
      await condition(() => finished || (live && !stopReason));
      if (finished) return;
      if (await condition(() => finished || !live || !!stopReason, budget.guardIntervalMs)) continue;
      const refusal = await budget.check(Date.now());
      if (refusal && !stopReason) {
        log.warn('budget cap reached: stopping', { key: refusal.key, message: refusal.message });
        error = refusal.message;
        requestStop('budget-exceeded');
      }
    }
  }

  async function terminate(target: InstanceRef, record: BilledInstance | undefined): Promise<void> {
    live = false;
    await CancellationScope.nonCancellable(async () => {
      const final: Instance | null = await cleanup.terminateInstance(target);
      if (record) record.terminatedAt = final?.terminatedAt ?? new Date(Date.now()).toISOString();
    });
  }

  /** Polls until running; false if the instance failed or did not come up in time (caller fails over). */
  async function awaitRunning(current: InstanceView): Promise<boolean> {
    const deadline = Date.now() + current.provisioningTimeoutMs;
    let v = current;
    for (;;) {
      const s = v.instance.status.lifecycleStatus;
      if (s === 'running') {
        view = v;
        return true;
      }
      if (s === 'failed' || s === 'terminated' || s === 'terminating') return false;
      if (Date.now() >= deadline) return false;
      await sleep(Math.max(500, v.pollMs));
      v = await providerCalls.getInstance(ref!);
      view = v;
    }
  }

  function blockFor(failed: Offer, failureType: string, scope: string | undefined): BlockedScope {
    const base = { connection: failed.connection, reason: failureType };
    switch (scope) {
      case 'provider':
        return { ...base, scope: 'provider' };
      case 'region':
        return { ...base, scope: 'region', location: failed.location };
      case 'zone':
        return { ...base, scope: 'zone', location: failed.location, subLocation: failed.subLocation, type: failed.type, spot: failed.spot };
      default:
        return { ...base, scope: 'offer', instanceTypeId: failed.instanceTypeId, spot: failed.spot };
    }
  }

  async function place(): Promise<boolean> {
    const blocked: BlockedScope[] = [];
    for (let pass = 0; pass < maxPasses; pass++) {
      /** Spending-cap refusals this pass, by connection; if nothing else failed, waiting will not help. */
      const capRefused = new Map<string, string>();
      let otherFailures = 0;
      setState('selecting');
      const plan = await providerCalls.planCandidates({ spec, blocked, limit: CANDIDATES_PER_PASS });
      if (plan.candidates.length === 0) {
        const why = plan.rejectedReasons.map((r) => `${r.count}× ${r.reason}`).join('; ') || 'no offers at all';
        const unreachable = plan.unreachable.map((u) => `${u.connection}: ${u.error}`).join('; ');
        if (pass === 0 && blocked.length === 0) {
          throw ApplicationFailure.nonRetryable(
            `no offer satisfies the spec (${plan.offersConsidered} considered: ${why})${unreachable ? `; unreachable: ${unreachable}` : ''}`,
            'NoMatchingOffer',
          );
        }
      }
      for (const [rank, candidate] of plan.candidates.entries()) {
        if (stopReason) return false;
        if (capRefused.has(candidate.connection)) continue;
        // Reserve before creating: a refused reservation never provisions anything.
        const reservation = await budget.reserveFor(candidate);
        if (!reservation.ok) {
          const fatal = reservation.refusals.find((r) => !r.key.startsWith('connection:'));
          if (fatal) throw ApplicationFailure.nonRetryable(fatal.message, fatal.kind === 'exceeded' ? 'BudgetExceeded' : 'BudgetInvalid', fatal);
          // A connection's spending cap: fail over to other connections.
          const why = reservation.refusals[0]!;
          capRefused.set(candidate.connection, why.message);
          blocked.push({ connection: candidate.connection, reason: 'SpendingCapReached', scope: 'provider' });
          attempts.push({
            refId: `${workloadId}-${attempts.length + 1}`,
            connection: candidate.connection,
            instanceTypeId: candidate.instanceTypeId,
            location: candidate.location,
            spot: candidate.spot,
            outcome: 'failed-over',
            reason: `SpendingCapReached: ${why.message}`,
          });
          log.warn('spending cap refused the reservation, failing over', { connection: candidate.connection, message: why.message });
          continue;
        }
        if (stopReason) return false;
        const refId = `${workloadId}-${attempts.length + 1}`;
        const record: AttemptRecord = {
          refId,
          connection: candidate.connection,
          instanceTypeId: candidate.instanceTypeId,
          location: candidate.location,
          spot: candidate.spot,
          outcome: 'created',
        };
        attempts.push(record);
        setState('provisioning');
        let created: InstanceView;
        try {
          // Non-cancellable: a create that succeeds must be recorded, or a cancel would orphan it.
          created = await CancellationScope.nonCancellable(() => providerCalls.createInstance.executeWithOptions(
            {
              startToCloseTimeout: '2m',
              scheduleToCloseTimeout: '6h',
              retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: PERMANENT_ERRORS },
              summary: `create ${candidate.type} on ${candidate.connection}/${candidate.location}${candidate.spot ? ' (spot)' : ''} at ${toDecimalString(candidate.pricePerHour)}/h`,
            },
            [{ offer: candidate, refId, name: `${spec.name}-${attempts.length}`, tags: { 'gpuflow-workload': workloadId, 'gpuflow-project': spec.project, 'gpuflow-tenant': spec.tenant } }],
          ));
        } catch (e) {
          // Whatever the error, no instance may survive a failed create.
          await CancellationScope.nonCancellable(() =>
            cleanup.terminateByRefId({ connection: candidate.connection, location: candidate.location, refId }),
          );
          const cause = e instanceof ActivityFailure ? e.cause : undefined;
          if (cause instanceof ApplicationFailure && cause.type && PLACEMENT_ERRORS.includes(cause.type)) {
            const details = cause.details?.[0] as { scope?: string } | undefined;
            blocked.push(blockFor(candidate, cause.type, details?.scope));
            otherFailures++;
            record.outcome = 'failed-over';
            record.reason = `${cause.type}: ${cause.message}`;
            log.warn('create failed, failing over', { connection: candidate.connection, type: candidate.type, location: candidate.location, error: cause.type });
            continue;
          }
          throw e;
        }
        ref = { connection: candidate.connection, cloudId: created.instance.cloudId, location: created.instance.location };
        live = true;
        record.cloudId = created.instance.cloudId;
        const bill: BilledInstance = {
          connection: candidate.connection,
          pricePerHour: candidate.pricePerHour,
          billing: reservation.billing,
          createdAt: created.instance.createdAt,
        };
        billed.push(bill);
        view = created;
        offer = {
          connection: candidate.connection,
          provider: candidate.provider,
          instanceTypeId: candidate.instanceTypeId,
          type: candidate.type,
          location: candidate.location,
          country: candidate.country,
          spot: candidate.spot,
          gpu: candidate.gpu ? `${candidate.gpu.count}x ${candidate.gpu.type}` : 'none',
          pricePerHour: candidate.pricePerHour,
          why:
            rank === 0 && pass === 0
              ? `cheapest of ${plan.candidates.length} matching offers (${plan.offersConsidered} considered)`
              : `rank ${rank + 1} in pass ${pass + 1} after ${attempts.length - 1} failed attempt(s)`,
        };
        upsertSearchAttributes([
          { key: SA_PROVIDER, value: candidate.connection },
          { key: SA_GPU, value: offer.gpu },
          { key: SA_REGION, value: candidate.location },
          { key: SA_SPOT, value: candidate.spot },
        ]);
        setState('waiting-for-instance');
        if (await awaitRunning(created)) return true;
        // It never came up: abandon it (terminated, billed for what it ran) and try the next offer.
        record.outcome = 'abandoned';
        record.reason = `instance ${view?.instance.status.lifecycleStatus ?? 'unknown'} before running`;
        await terminate(ref, bill);
        blocked.push(blockFor(candidate, 'ProvisioningFailed', 'offer'));
        otherFailures++;
      }
      if (capRefused.size > 0 && otherFailures === 0) {
        throw ApplicationFailure.nonRetryable(
          `every matching offer is on a connection whose spending cap is reached: ${[...capRefused.values()].join('; ')}`,
          'BudgetExceeded',
        );
      }
      // Every candidate of this pass failed: back off, then re-plan with the blocks learned.
      await sleep(Math.min(300_000, 15_000 * 2 ** pass));
    }
    throw ApplicationFailure.nonRetryable(
      `no capacity after ${maxPasses} placement passes (${attempts.length} attempts): ${attempts.map((a) => a.reason).filter(Boolean).join('; ')}`,
      'NoCapacity',
    );
  }

  async function watchUtilization(target: InstanceRef, isDone: () => boolean): Promise<void> {
    while (!isDone()) {
      const cfg = autoShutdown;
      if (cfg === 'off') {
        await condition(() => isDone() || autoShutdown !== cfg);
        continue;
      }
      const changed = await condition(() => isDone() || autoShutdown !== cfg, cfg.sampleInterval);
      if (isDone()) return;
      if (changed) continue;
      try {
        gpuUtilization = await probes.sampleGpuUtilization(target);
      } catch (e) {
        if (isCancellation(e)) throw e;
        log.warn('GPU sample failed; not counted as idle', { error: (e as Error).message });
        continue;
      }
      const idle = gpuUtilization.length > 0 && gpuUtilization.every((u) => u < cfg.utilizationBelowPercent);
      if (!idle) {
        idleSinceMs = undefined;
        continue;
      }
      idleSinceMs ??= Date.now();
      if (Date.now() - idleSinceMs >= cfg.idleWindow) {
        log.info('GPU idle for the whole window: shutting down', { idleWindowMs: cfg.idleWindow });
        requestStop('idle-shutdown');
        return;
      }
    }
  }

  async function runToCompletion(target: InstanceRef): Promise<void> {
    setState('bootstrapping');
    bootstrapScope = new CancellationScope();
    try {
      await bootstrapScope.run(() =>
        bootstrap.bootstrapInstance({
          ref: target,
          workloadId,
          command: spec.command ?? '',
          ...(spec.image ? { image: spec.image } : {}),
          env: spec.env,
          secretEnv: spec.secretEnv,
          ports: spec.ports,
          sshTimeoutMs: SSH_TIMEOUT_MS,
        }),
      );
    } catch (e) {
      if (isCancellation(e) && stopReason) return;
      throw e;
    } finally {
      bootstrapScope = undefined;
    }
    if (stopReason) return;
    setState('running');
    let done = false;
    jobScope = new CancellationScope();
    const watchers = new CancellationScope();
    const jobPromise = jobScope.run(() => job.runJob({ ref: target, workloadId, pollMs: 2_000, stopGraceMs: STOP_GRACE_MS }));
    const watching = watchers.run(async () => {
      const tasks = [watchUtilization(target, () => done)];
      if (spec.lifecycle.maxDuration) {
        const max = spec.lifecycle.maxDuration;
        tasks.push(sleep(max).then(() => requestStop('max-duration')));
      }
      await Promise.all(tasks);
    });
    watching.catch(() => undefined); // cancelled when the job ends
    try {
      const r = await jobPromise;
      exitCode = r.exitCode;
    } catch (e) {
      if (!(isCancellation(e) && stopReason)) throw e;
    } finally {
      done = true;
      watchers.cancel();
    }
  }

  const guardScope = new CancellationScope();
  guardScope.run(guardBudget).catch(() => undefined); // cancelled at the end
  try {
    if (await place()) {
      if (stopReason) return await finish();
      await runToCompletion(ref!);
    }
    return await finish();
  } catch (e) {
    error = e instanceof ActivityFailure && e.cause ? e.cause.message : (e as Error).message;
    outcome = isCancellation(e) ? 'cancelled' : 'failed';
    throw e;
  } finally {
    if (ref && live) {
      setState('terminating');
      await terminate(ref, billed[billed.length - 1]);
    }
    finished = true;
    guardScope.cancel();
    // Every instance has terminated: commit the actual costs, release the holds.
    await CancellationScope.nonCancellable(async () => {
      try {
        await budget.settle(outcome, Date.now());
      } catch (e) {
        log.error('could not commit the workload cost to its budgets', { error: (e as Error).message });
      }
    });
    setState('terminated');
    log.info('workload terminated', { outcome, cost: formatExact(accrued(Date.now()).cost) });
  }

  async function finish(): Promise<WorkloadResult> {
    outcome = stopReason ?? (exitCode === 0 ? 'succeeded' : 'failed');
    if (outcome === 'failed') {
      error = `job exited with code ${exitCode}`;
      throw ApplicationFailure.nonRetryable(error, 'JobFailed', { exitCode });
    }
    // Terminate before reporting cost so the result has the provider's final lifetime.
    if (ref && live) {
      setState('terminating');
      await terminate(ref, billed[billed.length - 1]);
    }
    const { cost, billedMs } = accrued(Date.now());
    return {
      workloadId,
      outcome,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(offer ? { offer } : {}),
      cost,
      billedMs,
      attempts,
      ...(outcome === 'budget-exceeded' && error ? { error } : {}),
    };
  }
}
