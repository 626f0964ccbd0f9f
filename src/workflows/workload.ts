/**
 * workloadWorkflow: one GPU workload's whole life, durably.
 *
 *   select offers → create (idempotent by refId, failing over on capacity/quota) → await running
 *   → SSH bootstrap (+ node watchdog lease) → run the job, or keep a service healthy, while
 *   watching the instance (preemption), GPU utilization (idle shutdown) and the max duration
 *   → terminate, on every exit path, in a non-cancellable scope.
 *
 * Recovery: an instance the provider ends under the workload (spot preemption, host failure, a
 * watchdog that fired) is terminated, its region blocked (strategy eager-next-region) or tried
 * first (failover), and the workload is placed again and resumes from its checkpoint location
 * (GPUFLOW_TASK_ID / GPUFLOW_CHECKPOINT_DIR stay the same), up to recovery.maxRecoveries. A failed
 * job reruns on the same instance up to recovery.maxRestartsOnError; a service restarts after its
 * process dies or turns unhealthy, up to service.maxRestarts. Cost accrues across all attempts.
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
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { InstanceLoss, InstanceRef, InstanceView } from '../activities/types.js';
import { formatExact, ledgerSum } from '../money/billing.js';
import { toDecimalString, toJSON } from '../money/money.js';
import type { Instance } from '../providers/sdk/types.js';
import type { BlockedScope } from '../routing/constraints.js';
import { NO_CAPACITY_REASON } from '../routing/reasons.js';
import { describeLoss, instanceLost } from '../workload/instanceLoss.js';
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
  type ServiceStatus,
  type WorkloadOutcome,
  type WorkloadResult,
  type WorkloadState,
  type WorkloadStatus,
} from './messages.js';
import {
  blockAfterLoss,
  blockFor,
  checkpointEnv,
  dropTransientBlocks,
  LOST_REGION_REASON,
  sameRegionFirst,
  shouldRestartJob,
  watchdogLeaseMs,
  type LostPlacement,
} from './recoveryPolicy.js';
import { instanceBilledMs, instanceCost, WorkloadBudget, type BilledInstance } from './workloadBudget.js';

export interface WorkloadInput {
  /** Already validated by parseWorkloadSpec at the boundary. */
  spec: WorkloadSpec;
  /** Bound on placement passes when the spec sets no retryUntilUp deadline. */
  maxPlacementPasses?: number;
}

/** Errors that mean "this placement will not work": fail over instead of retrying. */
const PLACEMENT_ERRORS = ['InsufficientCapacityError', 'OutOfQuotaError', 'AuthenticationError', 'InvalidRequestError', 'ImageNotFoundError'];
const PERMANENT_ERRORS = [...PLACEMENT_ERRORS, 'InstanceNotFoundError', 'NotImplementedError', 'SecretNotFound', 'JobLost', 'ServiceStartFailed'];

// Provider calls: 5xx, 429 and timeouts retry with capped backoff for hours.
const PROVIDER_CALL: ActivityOptions = {
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '6h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: PERMANENT_ERRORS },
};
// Terminate never gives up: an instance must not be left billing.
const CLEANUP: ActivityOptions = {
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['AuthenticationError'] },
};
const BOOTSTRAP: ActivityOptions = {
  startToCloseTimeout: '15m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT_ERRORS },
};
// Long, heartbeating node-side work; a stop waits for the job's graceful shutdown.
const ON_NODE: ActivityOptions = {
  startToCloseTimeout: '30 days',
  heartbeatTimeout: '20s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: PERMANENT_ERRORS },
};
// Watchers: long, heartbeating, abandoned at once when the workload moves on.
const WATCHER: ActivityOptions = {
  startToCloseTimeout: '30 days',
  heartbeatTimeout: '30s',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: ['AuthenticationError'] },
};

const providerCalls = proxyActivities<Activities>(PROVIDER_CALL);
const cleanup = proxyActivities<Activities>(CLEANUP);
const onNode = proxyActivities<Activities>(ON_NODE);
const watchers = proxyActivities<Activities>(WATCHER);
const probes = proxyActivities<Activities>({
  startToCloseTimeout: '45s',
  retry: { initialInterval: '1s', maximumAttempts: 2 },
});

const CANDIDATES_PER_PASS = 25;
const STOP_GRACE_MS = 10_000;
const SSH_TIMEOUT_MS = 10 * 60_000;
const JOB_POLL_MS = 2_000;
const MAX_BACKOFF_MS = 300_000;

/** How one instance's attempt ended. */
type AttemptEnd = { kind: 'finished' } | { kind: 'lost'; loss: InstanceLoss };

export async function workloadWorkflow(input: WorkloadInput): Promise<WorkloadResult> {
  const { spec } = input;
  const workloadId = workflowInfo().workflowId;
  const startedAt = Date.now();
  const maxPasses = input.maxPlacementPasses ?? 5;
  const leaseMs = watchdogLeaseMs(spec);

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
  /** Interactive SSH sessions at the last idle sample (autoShutdown.requireNoSshSessions). */
  let sshSessions: number | undefined;
  let idleSinceMs: number | undefined;
  let stopReason: WorkloadOutcome | undefined;
  /** Bootstrap and the job/service of the current instance: a stop cancels it. */
  let nodeScope: CancellationScope | undefined;
  let recoveries = 0;
  let restarts = 0;
  let service: ServiceStatus | undefined;
  let watchdogRenewedAt: string | undefined;
  /** Blocks learned from failures; they persist across placements (transient ones expire). */
  const blocked: BlockedScope[] = [];
  const attempts: AttemptRecord[] = [];
  const billed: BilledInstance[] = [];
  const budget = new WorkloadBudget(workloadId, spec, billed);
  /** Set once the workload is past its last instance: the budget guard exits. */
  let finished = false;

  const now = () => new Date(Date.now()).toISOString();

  function setState(s: WorkloadState, details?: string): void {
    state = s;
    upsertSearchAttributes([{ key: SA_STATE, value: s }]);
    if (details) setCurrentDetails(details);
  }

  /** Cost from the instances' provider lifetimes, rounded to each provider's billing unit. */
  function accrued(at: number) {
    return {
      cost: toJSON(ledgerSum(billed.map((b) => instanceCost(b, at)))),
      billedMs: billed.reduce((n, b) => n + instanceBilledMs(b, at), 0),
    };
  }

  function requestStop(reason: WorkloadOutcome): void {
    if (stopReason) return;
    stopReason = reason;
    if (state !== 'terminating' && state !== 'terminated') state = 'stopping';
    // A stop must not wait out an SSH timeout while the instance bills.
    nodeScope?.cancel();
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
    ...(sshSessions !== undefined ? { sshSessions } : {}),
    ...(idleSinceMs !== undefined ? { idleSince: new Date(idleSinceMs).toISOString() } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(error ? { error } : {}),
    recoveries,
    restarts,
    ...(service ? { service } : {}),
    ...(watchdogRenewedAt ? { watchdogRenewedAt } : {}),
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

  /** The hard ceiling on the workload's whole life, across every attempt. */
  async function enforceMaxDuration(): Promise<void> {
    const max = spec.lifecycle.maxDuration;
    if (max === undefined) return;
    if (await condition(() => finished, max)) return;
    log.info('max duration reached: stopping', { maxDurationMs: max });
    requestStop('max-duration');
  }

  async function terminate(target: InstanceRef, record: BilledInstance | undefined, why: string): Promise<void> {
    live = false;
    await CancellationScope.nonCancellable(async () => {
      const final: Instance | null = await cleanup.terminateInstance.executeWithOptions(
        { ...CLEANUP, summary: `terminate ${target.cloudId} on ${target.connection}/${target.location} (${why})` },
        [target],
      );
      if (record) record.terminatedAt = final?.terminatedAt ?? now();
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

  /**
   * Finds and creates an instance, walking ranked candidates and failing over. Without capacity it
   * waits with capped backoff and re-plans, up to maxPlacementPasses or the spec's retryUntilUp
   * deadline. With spot "allow" and spotWait, spot only until that wait is over.
   */
  async function place(lost?: LostPlacement): Promise<boolean> {
    const placementStart = Date.now();
    const deadline = spec.retryUntilUp !== undefined ? startedAt + spec.retryUntilUp : undefined;
    const spotUntil = spec.spotWait !== undefined ? placementStart + spec.spotWait : undefined;
    let backoffs = 0;
    for (let pass = 0; ; pass++) {
      if (stopReason) return false;
      /** Spending-cap refusals this pass, by connection; if nothing else failed, waiting will not help. */
      const capRefused = new Map<string, string>();
      let otherFailures = 0;
      const waitingForSpot = spotUntil !== undefined && Date.now() < spotUntil;
      const planSpec: WorkloadSpec = waitingForSpot ? { ...spec, spot: 'only' } : spec;
      setState('selecting', `choosing an offer (pass ${pass + 1}${waitingForSpot ? ', spot only while waiting for spot' : ''})`);
      const plan = await providerCalls.planCandidates.executeWithOptions(
        { ...PROVIDER_CALL, summary: `rank offers, pass ${pass + 1}${waitingForSpot ? ' (spot only)' : ''}, ${blocked.length} scope(s) blocked` },
        [{ spec: planSpec, blocked: [...blocked], limit: CANDIDATES_PER_PASS }],
      );
      let candidates = plan.candidates;
      if (lost && spec.recovery.strategy === 'failover') candidates = sameRegionFirst(candidates, lost);
      if (candidates.length === 0) {
        const waitable = plan.rejectedReasons.some((r) => r.reason === NO_CAPACITY_REASON);
        if (pass === 0 && blocked.length === 0 && !waitingForSpot && !waitable) {
          const why = plan.rejectedReasons.map((r) => `${r.count}× ${r.reason}`).join('; ') || 'no offers at all';
          const unreachable = plan.unreachable.map((u) => `${u.connection}: ${u.error}`).join('; ');
          throw ApplicationFailure.nonRetryable(
            `no offer satisfies the spec (${plan.offersConsidered} considered: ${why})${unreachable ? `; unreachable: ${unreachable}` : ''}`,
            'NoMatchingOffer',
          );
        }
        // eager-next-region: nothing outside the lost region has capacity, so fall back to the full space now.
        const lostBlocks = blocked.filter((b) => b.reason === LOST_REGION_REASON).length;
        if (lostBlocks > 0) {
          blocked.splice(0, blocked.length, ...blocked.filter((b) => b.reason !== LOST_REGION_REASON));
          log.info('no capacity outside the lost region: falling back to every region');
          continue;
        }
      }
      for (const [rank, candidate] of candidates.entries()) {
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
          plannedAt: now(),
        };
        attempts.push(record);
        const what = `${candidate.type} on ${candidate.connection}/${candidate.location}${candidate.spot ? ' (spot)' : ''} at ${toDecimalString(candidate.pricePerHour)}/h`;
        setState('provisioning', `creating ${what}`);
        let created: InstanceView;
        try {
          // Non-cancellable: a create that succeeds must be recorded, or a cancel would orphan it.
          created = await CancellationScope.nonCancellable(() =>
            providerCalls.createInstance.executeWithOptions({ ...PROVIDER_CALL, summary: `create ${what}` }, [
              { offer: candidate, refId, name: `${spec.name}-${attempts.length}`, tags: { 'gpuflow-workload': workloadId, 'gpuflow-project': spec.project, 'gpuflow-tenant': spec.tenant } },
            ]),
          );
        } catch (e) {
          // Whatever the error, no instance may survive a failed create.
          await CancellationScope.nonCancellable(() =>
            cleanup.terminateByRefId.executeWithOptions({ ...CLEANUP, summary: `sweep instances of failed create ${refId}` }, [
              { connection: candidate.connection, location: candidate.location, refId },
            ]),
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
        record.createdAt = now();
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
            rank === 0 && pass === 0 && !lost
              ? `cheapest of ${candidates.length} matching offers (${plan.offersConsidered} considered)`
              : `rank ${rank + 1} in pass ${pass + 1}${lost ? ` of recovery ${recoveries}` : ''} after ${attempts.length - 1} earlier attempt(s)`,
        };
        upsertSearchAttributes([
          { key: SA_PROVIDER, value: candidate.connection },
          { key: SA_GPU, value: offer.gpu },
          { key: SA_REGION, value: candidate.location },
          { key: SA_SPOT, value: candidate.spot },
        ]);
        setState('waiting-for-instance', `waiting for ${created.instance.cloudId} (${what}) to run`);
        if (await awaitRunning(created)) {
          record.runningAt = now();
          return true;
        }
        // It never came up: abandon it (terminated, billed for what it ran) and try the next offer.
        record.outcome = 'abandoned';
        record.reason = `instance ${view?.instance.status.lifecycleStatus ?? 'unknown'} before running`;
        await terminate(ref, bill, 'never came up');
        blocked.push(blockFor(candidate, 'ProvisioningFailed', 'offer'));
        otherFailures++;
      }
      if (capRefused.size > 0 && otherFailures === 0) {
        throw ApplicationFailure.nonRetryable(
          `every matching offer is on a connection whose spending cap is reached: ${[...capRefused.values()].join('; ')}`,
          'BudgetExceeded',
        );
      }
      const outOfTime = deadline !== undefined ? Date.now() >= deadline : pass + 1 >= maxPasses;
      if (outOfTime && !waitingForSpot) {
        const tried = attempts.map((a) => a.reason).filter(Boolean).join('; ');
        throw ApplicationFailure.nonRetryable(
          deadline !== undefined
            ? `no capacity before the retryUntilUp deadline (${attempts.length} attempts)${tried ? `: ${tried}` : ''}`
            : `no capacity after ${maxPasses} placement passes (${attempts.length} attempts)${tried ? `: ${tried}` : ''}`,
          'NoCapacity',
        );
      }
      // Nothing placed this pass: capacity may come back, so capacity blocks expire; back off first.
      if (candidates.length === 0) dropTransientBlocks(blocked);
      let wait = Math.min(MAX_BACKOFF_MS, 15_000 * 2 ** backoffs++);
      if (deadline !== undefined) wait = Math.min(wait, Math.max(1_000, deadline - Date.now()));
      if (waitingForSpot) wait = Math.min(wait, Math.max(1_000, spotUntil - Date.now()));
      setState('selecting', `no capacity${waitingForSpot ? ' for spot' : ''}: re-planning in ${Math.round(wait / 1000)} s`);
      if (await condition(() => !!stopReason, wait)) return false;
    }
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
      let idle = gpuUtilization.length > 0 && gpuUtilization.every((u) => u < cfg.utilizationBelowPercent);
      if (idle && cfg.requireNoSshSessions) {
        try {
          sshSessions = await probes.countSshSessions(target);
        } catch (e) {
          if (isCancellation(e)) throw e;
          log.warn('SSH session count failed; not counted as idle', { error: (e as Error).message });
          continue;
        }
        idle = sshSessions === 0;
      }
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

  /** Installs the node's watchdog, then keeps its lease renewed while this instance is ours. */
  async function holdLease(target: InstanceRef, lease: number): Promise<void> {
    await onNode.installWatchdog.executeWithOptions(
      { ...BOOTSTRAP, summary: `install the node watchdog on ${target.cloudId} (lease ${Math.round(lease / 1000)} s)` },
      [{ ref: target, workloadId, leaseMs: lease, stopGraceMs: STOP_GRACE_MS }],
    );
    watchdogRenewedAt = now();
    await watchers.holdWatchdogLease.executeWithOptions(
      { ...WATCHER, summary: `renew the watchdog lease on ${target.cloudId} every ${Math.round(Math.min(lease / 3, 60_000) / 1000)} s` },
      [{ ref: target, workloadId, leaseMs: lease }],
    );
  }

  /** Bootstraps the instance, then runs the job (rerunning it on failure as the spec allows). */
  async function bootstrapAndRun(target: InstanceRef, record: AttemptRecord, startWatchers: () => void): Promise<void> {
    setState('bootstrapping', `bootstrapping ${target.cloudId} over SSH`);
    await onNode.bootstrapInstance.executeWithOptions(
      { ...BOOTSTRAP, summary: `bootstrap ${target.cloudId} on ${target.connection}/${target.location} over SSH (attempt ${recoveries + 1})` },
      [
        {
          ref: target,
          workloadId,
          command: spec.command ?? '',
          ...(spec.image ? { image: spec.image } : {}),
          env: { ...spec.env, ...checkpointEnv(spec, workloadId), GPUFLOW_ATTEMPT: String(recoveries + 1) },
          secretEnv: spec.secretEnv,
          ports: spec.ports,
          sshTimeoutMs: SSH_TIMEOUT_MS,
        },
      ],
    );
    if (stopReason) return;
    startWatchers();
    if (spec.lifecycle.kind === 'service') return superviseService(target, record);
    for (let run = 0; ; run++) {
      record.jobStartedAt ??= now();
      setState('running', `job running on ${target.cloudId}${run ? ` (rerun ${run})` : ''}`);
      const r = await onNode.runJob.executeWithOptions(
        { ...ON_NODE, summary: `run the job on ${target.cloudId}${run ? ` (rerun ${run} after exit code ${exitCode})` : ''}` },
        [{ ref: target, workloadId, pollMs: JOB_POLL_MS, stopGraceMs: STOP_GRACE_MS, run }],
      );
      exitCode = r.exitCode;
      if (stopReason || !shouldRestartJob(spec.recovery, exitCode, restarts)) return;
      restarts++;
      log.warn('job failed: rerunning it on the same instance', { exitCode, restart: restarts });
      setState('recovering', `job exited with code ${exitCode}: rerun ${restarts} of ${spec.recovery.maxRestartsOnError}`);
    }
  }

  /** Starts the service, keeps it healthy, restarts it when it dies or fails its health check. */
  async function superviseService(target: InstanceRef, record: AttemptRecord): Promise<void> {
    const hc = spec.service?.healthCheck;
    const maxRestarts = spec.service?.maxRestarts ?? 5;
    for (let run = 0; ; run++) {
      const runInput = {
        ref: target,
        workloadId,
        run,
        ports: spec.ports,
        ...(hc
          ? {
              healthCheck: {
                port: hc.port,
                ...(hc.path ? { path: hc.path } : {}),
                intervalMs: hc.interval,
                timeoutMs: hc.timeout,
                failureThreshold: hc.failureThreshold,
                startupTimeoutMs: hc.startupTimeout,
              },
            }
          : {}),
        pollMs: JOB_POLL_MS,
        stopGraceMs: STOP_GRACE_MS,
      };
      let why: string;
      try {
        setState('bootstrapping', `starting the service on ${target.cloudId}${run ? ` (restart ${run})` : ''}`);
        const started = await onNode.startService.executeWithOptions(
          {
            ...ON_NODE,
            startToCloseTimeout: (hc?.startupTimeout ?? 600_000) + 300_000,
            summary: `start the service on ${target.cloudId}${run ? ` (restart ${run})` : ''}${hc ? `, healthy when ${hc.path ? `GET :${hc.port}${hc.path}` : `:${hc.port} accepts`}` : ''}`,
          },
          [runInput],
        );
        record.jobStartedAt ??= now();
        service = { healthy: true, endpoints: started.endpoints, restarts, ...(service?.lastRestartReason ? { lastRestartReason: service.lastRestartReason } : {}) };
        setState('running', `service healthy on ${started.endpoints.map((e) => e.url ?? `${e.host}:${e.hostPort}`).join(', ') || target.cloudId}`);
        const end = await onNode.superviseService.executeWithOptions(
          { ...ON_NODE, summary: `supervise the service on ${target.cloudId}` },
          [runInput],
        );
        why = `${end.reason}${end.exitCode !== undefined ? ` (exit code ${end.exitCode})` : ''}: ${end.detail}`;
      } catch (e) {
        const cause = e instanceof ActivityFailure ? e.cause : undefined;
        if (!(cause instanceof ApplicationFailure && cause.type === 'ServiceStartFailed')) throw e;
        why = `did not become healthy: ${cause.message}`;
      }
      if (stopReason) return;
      service = { healthy: false, endpoints: service?.endpoints ?? [], restarts, lastRestartReason: why };
      if (restarts >= maxRestarts) {
        throw ApplicationFailure.nonRetryable(`the service failed ${restarts + 1} times (service.maxRestarts ${maxRestarts}); last: ${why}`, 'ServiceFailed');
      }
      restarts++;
      service.restarts = restarts;
      log.warn('service down: restarting it', { why, restart: restarts });
      setState('recovering', `service ${why}: restart ${restarts} of ${maxRestarts}`);
    }
  }

  /**
   * One instance's life after it runs: bootstrap, job or service, and the watchers beside them.
   * The instance watcher decides loss from the provider's own status; the work is abandoned then
   * (not awaited: a graceful stop over SSH to a dead node would only add minutes).
   */
  async function runOnInstance(target: InstanceRef, record: AttemptRecord): Promise<AttemptEnd> {
    let loss: InstanceLoss | undefined;
    let done = false;
    const watchScope = new CancellationScope();
    const scope = new CancellationScope();
    nodeScope = scope;
    const watchInstance = watchScope.run(async () => {
      loss = await watchers.watchInstance.executeWithOptions({ ...WATCHER, summary: `watch ${target.cloudId} for preemption or loss` }, [target]);
    });
    watchInstance.catch(() => undefined); // cancelled when the attempt ends
    const startWatchers = () => {
      const tasks = [watchUtilization(target, () => done)];
      if (leaseMs !== undefined) tasks.push(holdLease(target, leaseMs));
      watchScope.run(() => Promise.all(tasks)).catch((e: unknown) => {
        if (!isCancellation(e)) log.warn('a watcher failed', { error: (e as Error).message });
      });
    };
    const work = scope.run(() => bootstrapAndRun(target, record, startWatchers));
    work.catch(() => undefined); // abandoned when the instance is lost
    try {
      await Promise.race([work, condition(() => loss !== undefined)]);
      if (loss) {
        scope.cancel();
        return { kind: 'lost', loss };
      }
      await work;
      return { kind: 'finished' };
    } catch (e) {
      if (loss) return { kind: 'lost', loss };
      if (isCancellation(e) && stopReason) return { kind: 'finished' };
      // The job vanished or the node kept failing: lost only if the provider says so.
      if (!isCancellation(e)) {
        const v = await providerCalls.getInstance(target).catch(() => undefined);
        if (v && instanceLost(v.instance.status)) {
          return { kind: 'lost', loss: { status: v.instance.status.lifecycleStatus, reason: describeLoss(v.instance.status), detectedAt: now() } };
        }
      }
      throw e;
    } finally {
      done = true;
      nodeScope = undefined;
      watchScope.cancel();
    }
  }

  const pendingTerminations: Promise<void>[] = [];
  const guardScope = new CancellationScope();
  guardScope.run(() => Promise.all([guardBudget(), enforceMaxDuration()])).catch(() => undefined); // cancelled at the end
  try {
    let lost: LostPlacement | undefined;
    for (;;) {
      if (!(await place(lost))) break;
      if (stopReason) break;
      const record = attempts[attempts.length - 1]!;
      const end = await runOnInstance(ref!, record);
      if (end.kind === 'finished') break;
      // The provider ended the instance under the workload: recover elsewhere.
      record.outcome = 'interrupted';
      record.reason = end.loss.reason;
      record.interruptedAt = now();
      if (end.loss.providerEndedAt) record.providerEndedAt = end.loss.providerEndedAt;
      service = service ? { ...service, healthy: false } : undefined;
      log.warn('instance lost: recovering', { cloudId: ref!.cloudId, reason: end.loss.reason });
      setState('recovering', `instance ${ref!.cloudId} lost (${end.loss.reason}): recovering`);
      // What is left of it is terminated beside the re-placement (awaited before the workload
      // ends): the provider already ended it, and recovery should not wait on the call.
      pendingTerminations.push(terminate(ref!, billed[billed.length - 1], `lost: ${end.loss.reason}`));
      if (stopReason) break;
      if (recoveries >= spec.recovery.maxRecoveries) {
        throw ApplicationFailure.nonRetryable(
          `instance lost ${recoveries + 1} times (recovery.maxRecoveries ${spec.recovery.maxRecoveries}); last: ${end.loss.reason}`,
          'RecoveryLimitReached',
        );
      }
      recoveries++;
      lost = { connection: ref!.connection, location: ref!.location };
      const block = blockAfterLoss(spec.recovery.strategy, lost);
      if (block) blocked.push(block);
    }
    return await finish();
  } catch (e) {
    error = e instanceof ActivityFailure && e.cause ? e.cause.message : (e as Error).message;
    outcome = isCancellation(e) ? 'cancelled' : 'failed';
    throw e;
  } finally {
    if (ref && live) {
      setState('terminating');
      await terminate(ref, billed[billed.length - 1], outcome ?? 'workload ended');
    }
    await Promise.all(pendingTerminations);
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
    setState('terminated', `terminated: ${outcome ?? 'ended'}, cost ${formatExact(accrued(Date.now()).cost)}`);
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
      await terminate(ref, billed[billed.length - 1], exitCode !== undefined ? `job exit code ${exitCode}` : outcome);
    }
    await Promise.all(pendingTerminations);
    const { cost, billedMs } = accrued(Date.now());
    return {
      workloadId,
      outcome,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(offer ? { offer } : {}),
      cost,
      billedMs,
      attempts,
      recoveries,
      restarts,
      ...(outcome === 'budget-exceeded' && error ? { error } : {}),
    };
  }
}
