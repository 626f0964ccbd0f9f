/**
 * How long each activity of the workload workflow may take, how fast a dead worker is noticed, and
 * how each is retried, and the proxies the workload's steps call: the one place to tune them
 * (workflow code; activities are imported as types only).
 *
 * Recovery bound. Every activity heartbeats at least every 2 s while it runs (the worker's
 * keep-alive, src/activities/keepAlive.ts, and maxHeartbeatThrottleInterval), and every one has
 * HEARTBEAT_TIMEOUT, so an attempt on a worker that died (kill -9, OOM, host lost) is declared lost
 * at most HEARTBEAT_TIMEOUT after the death and retried on another worker after the first retry
 * interval (1 s). Workflow tasks: one pending on the dead worker's sticky queue moves to the shared
 * queue after the worker's stickyQueueScheduleToStartTimeout (5 s), one the worker had taken is
 * retried after the workflow task timeout (the server's default, 10 s). So from a worker's death
 * to the workload moving again on a live worker: at most RECOVERY_BOUND_MS (`npm run bench:crash`
 * measures it per stage), plus the new worker's own start-up.
 *
 * Start-to-close timeouts bound a call on a live worker that hangs; they are sized to each call
 * (its provider requests time out at 30 s; in-place rate-limit waits add up to 2 × 15 s).
 */
import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

/** A heartbeating activity silent this long is lost (its worker died): it is retried elsewhere. */
export const HEARTBEAT_TIMEOUT_MS = 10_000;
/** The documented bound from a worker's death to the workload's next step on a live worker. */
export const RECOVERY_BOUND_MS = 30_000;

/** Errors that mean "this placement will not work": fail over instead of retrying. */
export const PLACEMENT_ERRORS = ['InsufficientCapacityError', 'OutOfQuotaError', 'AuthenticationError', 'InvalidRequestError', 'ImageNotFoundError'];
export const PERMANENT_ERRORS = [...PLACEMENT_ERRORS, 'InstanceNotFoundError', 'NotImplementedError', 'SecretNotFound', 'JobLost', 'ServiceStartFailed'];

/**
 * Provider calls: 5xx, 429 and timeouts retry with capped backoff for the 6-hour retry budget;
 * a provider's Retry-After (nextRetryDelay) overrides the backoff, however long, within it.
 */
const PROVIDER_RETRY: ActivityOptions['retry'] = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: PERMANENT_ERRORS };
const PROVIDER_RETRY_BUDGET = '6h';

/** One instance read (getInstance): one provider request. The default of the provider-call proxy. */
export const PROVIDER_CALL: ActivityOptions = {
  startToCloseTimeout: '1m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  scheduleToCloseTimeout: PROVIDER_RETRY_BUDGET,
  retry: PROVIDER_RETRY,
};
/** Ranking offers (planCandidates): every connection's catalog read in parallel. */
export const PLAN: ActivityOptions = { ...PROVIDER_CALL, startToCloseTimeout: '2m' };
/** A create: a list (refId lookup) and the create, each possibly after in-place rate-limit waits. */
export const CREATE: ActivityOptions = { ...PROVIDER_CALL, startToCloseTimeout: '3m' };

// Terminate never gives up: an instance must not be left billing.
const CLEANUP_RETRY: ActivityOptions['retry'] = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['AuthenticationError'] };
/** terminateInstance: the terminate and one read of the final state. */
export const CLEANUP: ActivityOptions = { startToCloseTimeout: '1m', heartbeatTimeout: HEARTBEAT_TIMEOUT_MS, retry: CLEANUP_RETRY };
/** terminateByRefId: a list, then a terminate per instance found. */
export const CLEANUP_SWEEP: ActivityOptions = { ...CLEANUP, startToCloseTimeout: '2m' };

/** Bootstrap and the watchdog install: waiting for SSH may take the contract's 10 minutes. */
export const BOOTSTRAP: ActivityOptions = {
  startToCloseTimeout: '15m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT_ERRORS },
};
/**
 * Syncing workdir and files: long for a big workdir on a slow link, heartbeating per chunk; a
 * retry resumes from what the node's record says it has.
 */
export const SYNC: ActivityOptions = {
  startToCloseTimeout: '6h',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: [...PERMANENT_ERRORS, 'BlobNotFound'] },
};
/** Long node-side work (the job, the service); a stop waits for the job's graceful shutdown. */
export const ON_NODE: ActivityOptions = {
  startToCloseTimeout: '30 days',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: PERMANENT_ERRORS },
};
/** Watchers (instance loss, watchdog lease): long, abandoned at once when the workload moves on. */
export const WATCHER: ActivityOptions = {
  startToCloseTimeout: '30 days',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: ['AuthenticationError'] },
};
/** One SSH probe (GPU sample, session count, log tail): cheap to skip when it fails. */
export const PROBE: ActivityOptions = {
  startToCloseTimeout: '45s',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '1s', maximumAttempts: 2 },
};

/** A reservation or top-up in the budget entity (one update round trip). */
export const BUDGET_CALL: ActivityOptions = {
  startToCloseTimeout: '10s',
  heartbeatTimeout: '5s',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s' },
};
/** Committing the workload's costs to its budgets: retried until it lands. */
export const BUDGET_SETTLE: ActivityOptions = {
  startToCloseTimeout: '30s',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['BudgetInvalid'] },
};

// Workloads from release 0.1 abandon their watchers when they move on (WATCHER, TRY_CANCEL); newer
// ones await their cancellation, bounded, so nothing is left pending. Cancellation reaches an
// activity only with a heartbeat, hence the heartbeat timeout on every long activity.
export const AWAITED_WATCHER: ActivityOptions = { ...WATCHER, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
/** How long the end of a workload waits for its long activities to confirm their cancellation. */
export const LONG_ACTIVITY_CANCEL_WAIT_MS = 30_000;

/** Every option set above, by name (for tests that check the recovery bound holds for each). */
export const WORKLOAD_ACTIVITY_OPTIONS = { PROVIDER_CALL, PLAN, CREATE, CLEANUP, CLEANUP_SWEEP, BOOTSTRAP, SYNC, ON_NODE, WATCHER, PROBE, BUDGET_CALL, BUDGET_SETTLE };

export const providerCalls = proxyActivities<Activities>(PROVIDER_CALL);
export const cleanup = proxyActivities<Activities>(CLEANUP);
export const onNode = proxyActivities<Activities>(ON_NODE);
export const syncCalls = proxyActivities<Activities>(SYNC);
export const watchers = proxyActivities<Activities>(WATCHER);
export const probes = proxyActivities<Activities>(PROBE);
/** Probes a workload awaits when their watcher is cancelled. */
export const awaitedProbes = proxyActivities<Activities>({ ...PROBE, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });
export const budgetCalls = proxyActivities<Activities>(BUDGET_CALL);
export const settleCalls = proxyActivities<Activities>(BUDGET_SETTLE);
