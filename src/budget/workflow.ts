/**
 * budgetWorkflow: one entity per budget key ("project:ml", "tenant:acme", "connection:lambda"),
 * started on first use with update-with-start, holding the budget's state durably.
 *
 *   reserve / commit / setBudget / reconcile are Updates. Handlers are synchronous up to their
 *   mutation, so each check-and-set is atomic; validators reject over-cap reservations before they
 *   are written to history. Every mutation is idempotent by (workloadId, seq) in the state itself,
 *   so it stays idempotent across continue-as-new (Temporal's updateId dedupe covers one run).
 *
 *   The main loop rolls periods over, POSTs alert webhooks (activity, retried), signals workloads
 *   when a lowered cap is already spent, releases holds of workloads that ended without settling,
 *   and continues-as-new, carrying the state, when history grows.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { BudgetActivities } from './activities.js';
import type { BudgetConfig } from './config.js';
import {
  accruedTotal,
  applyCommit,
  applyConfig,
  applyReserve,
  budgetStatus,
  checkCommit,
  checkConfig,
  checkReserve,
  committedThisPeriod,
  currentPeriod,
  evaluateAlerts,
  ledgerView,
  newBudgetState,
  releaseOrphans,
  rollover,
  staleHolds,
  type AlertEvent,
  type BudgetState,
  type Refusal,
} from './ledger.js';
import { formatExact, toLedger } from '../money/billing.js';
import { add, fromJSON, greaterThanOrEqual } from '../money/money.js';
import {
  budgetCapReachedSignal,
  budgetLedgerQuery,
  budgetStatusQuery,
  commitUpdate,
  reconcileUpdate,
  reserveUpdate,
  setBudgetUpdate,
  type BudgetWorkflowInput,
} from './messages.js';

export type { BudgetWorkflowInput };

/** Continue-as-new well before Temporal's limits: replays stay cheap, state is carried. */
const HISTORY_EVENTS_LIMIT = 4_000;
const RECONCILE_EVERY_MS = 5 * 60_000;
/** A hold untouched this long is checked against its workload's execution status. */
const ORPHAN_MIN_AGE_MS = 10 * 60_000;

const webhooks = proxyActivities<BudgetActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
});
const lookups = proxyActivities<BudgetActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
});

function refusalFailure(r: Refusal): ApplicationFailure {
  return ApplicationFailure.create({
    type: r.kind === 'exceeded' ? 'BudgetExceeded' : 'BudgetInvalid',
    message: r.message,
    nonRetryable: true,
    details: [r],
  });
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'BudgetInvalid', message, nonRetryable: true });
}

export async function budgetWorkflow(input: BudgetWorkflowInput): Promise<void> {
  const state: BudgetState = input.state ?? newBudgetState(input.key, Date.now());
  const pendingSignals = [...(input.pendingSignals ?? [])];
  let reconcileRequested = false;
  let reconcileMinAgeMs = ORPHAN_MIN_AGE_MS;
  let reconcileTicket = 0;
  let reconcileDone = 0;
  let lastReleased: string[] = [];
  let nextReconcileAt = Date.now() + RECONCILE_EVERY_MS;

  const logAlerts = (alerts: AlertEvent[]) => {
    for (const a of alerts) {
      log.warn('budget alert', { key: a.key, period: a.period, threshold: a.threshold, spend: formatExact(a.spend), cap: formatExact(a.cap) });
    }
  };

  /** Policy "stop": when the period's actual spend has reached the cap, running holders stop. */
  const enforceCap = () => {
    const cfg = state.config;
    if (!cfg || cfg.onCap !== 'stop') return;
    const now = Date.now();
    const spend = add(committedThisPeriod(state, now), accruedTotal(state));
    if (!greaterThanOrEqual(spend, toLedger(fromJSON(cfg.cap)))) return;
    const message = `budget ${state.key} reached its ${formatExact(cfg.cap)} cap for ${currentPeriod(state, now).label} (spent ${formatExact(spend)}): stopping (policy: stop)`;
    for (const id of Object.keys(state.holds)) {
      if (!pendingSignals.some((s) => s.workloadId === id)) pendingSignals.push({ workloadId: id, key: state.key, message });
    }
  };

  setHandler(
    reserveUpdate,
    (req) => {
      const d = applyReserve(state, req, Date.now());
      // The validator refuses first; this re-check keeps the cap exact even if two were validated together.
      if (!d.ok) throw refusalFailure(d.refusal);
      if (req.accrued && !d.result.duplicate) {
        logAlerts(evaluateAlerts(state, Date.now()));
        enforceCap();
      }
      return d.result;
    },
    {
      validator: (req) => {
        const d = checkReserve(state, req, Date.now());
        if (!d.ok) throw refusalFailure(d.refusal);
      },
    },
  );

  setHandler(
    commitUpdate,
    (req) => {
      const r = applyCommit(state, req, Date.now());
      logAlerts(r.alerts);
      enforceCap();
      return r;
    },
    {
      validator: (req) => {
        const bad = checkCommit(state, req, Date.now());
        if (bad) throw invalid(bad);
      },
    },
  );

  setHandler(
    setBudgetUpdate,
    ({ config }) => {
      applyConfig(state, config, Date.now());
      logAlerts(evaluateAlerts(state, Date.now()));
      enforceCap();
      log.info('budget configured', { key: state.key, cap: config ? formatExact(config.cap) : 'none', period: config?.period });
      return budgetStatus(state, Date.now());
    },
    {
      validator: ({ config }: { config: BudgetConfig | null }) => {
        if (state.key.startsWith('connection:') && config && config.source !== 'connections') {
          throw invalid(`the spending cap of ${state.key} is set in connections.yaml (spendingCap), not with budget set`);
        }
        const bad = checkConfig(state, config);
        if (bad) throw invalid(bad);
      },
    },
  );

  setHandler(reconcileUpdate, async ({ minAgeMs }) => {
    const ticket = ++reconcileTicket;
    reconcileMinAgeMs = Math.max(0, minAgeMs ?? ORPHAN_MIN_AGE_MS);
    reconcileRequested = true;
    await condition(() => reconcileDone >= ticket);
    return { released: lastReleased };
  });

  setHandler(budgetStatusQuery, () => budgetStatus(state, Date.now()));
  setHandler(budgetLedgerQuery, (opts) => ledgerView(state, opts ?? {}));

  const pendingWebhook = () => state.alerts.some((a) => a.webhook === 'pending');

  for (;;) {
    const now = Date.now();
    const periodEnd = currentPeriod(state, now).end;
    const wakeIn = Math.max(1, Math.min(periodEnd, nextReconcileAt) - now);
    await condition(
      () => pendingWebhook() || pendingSignals.length > 0 || reconcileRequested || workflowInfo().historyLength > HISTORY_EVENTS_LIMIT,
      wakeIn,
    );
    if (rollover(state, Date.now())) {
      log.info('budget period rolled over', { key: state.key, period: currentPeriod(state, Date.now()).label });
    }

    while (pendingSignals.length > 0) {
      const s = pendingSignals.shift()!;
      try {
        await getExternalWorkflowHandle(s.workloadId).signal(budgetCapReachedSignal, { key: s.key, message: s.message });
      } catch (e) {
        log.info('could not signal workload (ended?)', { workloadId: s.workloadId, error: (e as Error).message });
      }
    }

    for (const alert of state.alerts.filter((a) => a.webhook === 'pending')) {
      const url = state.config?.webhookUrl;
      if (!url) {
        alert.webhook = 'none';
        continue;
      }
      try {
        await webhooks.postBudgetAlert({ url, alert });
        alert.webhook = 'sent';
      } catch (e) {
        alert.webhook = 'failed';
        alert.webhookError = (e as Error).message.slice(0, 300);
        log.warn('budget alert webhook failed', { key: state.key, threshold: alert.threshold, error: alert.webhookError });
      }
    }

    if (reconcileRequested || Date.now() >= nextReconcileAt) {
      const ticket = reconcileTicket;
      const minAge = reconcileRequested ? reconcileMinAgeMs : ORPHAN_MIN_AGE_MS;
      reconcileRequested = false;
      reconcileMinAgeMs = ORPHAN_MIN_AGE_MS;
      nextReconcileAt = Date.now() + RECONCILE_EVERY_MS;
      const candidates = staleHolds(state, Date.now(), minAge);
      let released: string[] = [];
      if (candidates.length > 0) {
        try {
          const ended = await lookups.endedWorkloads({ workloadIds: candidates });
          released = releaseOrphans(state, ended, Date.now());
          if (released.length) log.warn('released holds of workloads that ended without settling', { key: state.key, workloads: released });
        } catch (e) {
          log.warn('orphan check failed; will retry', { key: state.key, error: (e as Error).message });
        }
      }
      lastReleased = released;
      reconcileDone = Math.max(reconcileDone, ticket);
    }

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > HISTORY_EVENTS_LIMIT) {
      await condition(allHandlersFinished);
      // Updates that arrive now are retried by their callers against the new run.
      await continueAsNew<typeof budgetWorkflow>({ key: state.key, state, pendingSignals });
    }
  }
}
