/**
 * A budget's state and every mutation of it, as pure functions over plain JSON.
 *
 * The budget entity workflow (./workflow.ts) owns one BudgetState and applies these
 * functions from its Update handlers, synchronously, so check-and-set is atomic: two reservations
 * can never both see the same headroom. Everything here is deterministic (time comes in as `now`).
 *
 * Money model (all amounts exact, at LEDGER_SCALE):
 *   committed  actual costs of finished workloads, bucketed by the UTC day they were committed;
 *              a period's committed spend is the sum of its days.
 *   holds      per running workload: the most it may spend (absolute, not a delta, so replays and
 *              retries are idempotent), plus what it last reported as accrued.
 *   left       cap − committed(period) − Σ holds.
 * A workload's cost counts in the period in which it is committed (ends); holds always count
 * against the current period, so a period never admits more than its cap.
 */
import { exactDecimal, formatExact, ledgerJSON, ledgerSum, ledgerZero, toLedger } from '../money/billing.js';
import {
  add,
  fromJSON,
  greaterThan,
  isPositive,
  lessThan,
  maximum,
  minimum,
  multiply,
  subtract,
  toJSON,
  toSnapshot,
  type Money,
  type MoneyJSON,
} from '../money/money.js';
import { conversionRecord, convertAt, findRate, type Conversion } from '../money/exchangeRates.js';
import { parseBudgetKey, sameConfig, type BudgetConfig, type BudgetPeriod, type OnCapPolicy } from './config.js';

export const MAX_ENTRIES = 500;
export const MAX_ALERTS = 100;
/**
 * Settled workload IDs kept to ignore late retries (which come from activity attempts still in
 * flight: minutes at most). Bounded so the state carried across continue-as-new stays small; a
 * retry older than this would at worst re-create a hold that the orphan check then releases.
 */
export const MAX_SETTLED = 2_000;
export const SETTLED_TTL_MS = 6 * 3_600_000;
/** Daily buckets kept: about three years. */
export const MAX_DAYS = 1_100;

export interface Hold {
  workloadId: string;
  /** The workload's budget mutation sequence number this hold was set by (idempotency). */
  seq: number;
  amount: MoneyJSON;
  /** Spend the workload last reported while running (for alerts). */
  accrued?: MoneyJSON;
  since: string;
  updatedAt: string;
  declared: boolean;
  what?: string;
  meta?: HoldMeta;
  /** The hold was asked for in another currency: the rate it was converted at, and the grant in that currency. */
  conversion?: Conversion;
  grantedAs?: MoneyJSON;
}

export interface HoldMeta {
  name?: string;
  project?: string;
  tenant?: string;
  connection?: string;
}

export interface LedgerEntry {
  workloadId: string;
  name?: string;
  project: string;
  tenant: string;
  connections: string[];
  cost: MoneyJSON;
  billedMs: number;
  /** First instance created (provider time). */
  startedAt?: string;
  /** Last instance terminated (provider time). */
  endedAt?: string;
  committedAt: string;
  outcome?: string;
  seq: number;
  /** The cost was reported in another currency: converted at this dated rate (the original amount included). */
  conversion?: Conversion;
}

export interface AlertEvent {
  key: string;
  /** "2026-09", "2026-W38" or "2026-09-14". */
  period: string;
  periodStart: string;
  threshold: number;
  spend: MoneyJSON;
  cap: MoneyJSON;
  at: string;
  webhook: 'none' | 'pending' | 'sent' | 'failed';
  webhookError?: string;
}

export interface DayBucket {
  cost: MoneyJSON;
  /** Workloads committed that day. */
  count: number;
}

export interface BudgetState {
  version: 1;
  key: string;
  currency: string;
  config?: BudgetConfig;
  /** Start (ISO, UTC) of the current period of `config.period` (month when there is no config). */
  periodStart: string;
  holds: Record<string, Hold>;
  /** Workloads whose costs are committed (or whose holds were released): late retries are no-ops. */
  settled: Record<string, { seq: number; at: string; orphaned?: boolean }>;
  /** Most recent committed workloads (bounded: MAX_ENTRIES). */
  entries: LedgerEntry[];
  /** Committed cost per UTC day "YYYY-MM-DD" (kept for years: day/week/month aggregates). */
  daily: Record<string, DayBucket>;
  alerts: AlertEvent[];
  /** "periodStart@threshold" of alerts fired in the current period. */
  fired: string[];
  orphansReleased: number;
  counters: { reserves: number; commits: number };
}

// ---------------------------------------------------------------- periods (UTC)

const DAY_MS = 86_400_000;

export function periodStartOf(kind: BudgetPeriod, t: number): number {
  const d = new Date(t);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (kind === 'day') return day;
  if (kind === 'week') return day - ((d.getUTCDay() + 6) % 7) * DAY_MS; // ISO weeks start on Monday
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function periodEndOf(kind: BudgetPeriod, start: number): number {
  if (kind === 'day') return start + DAY_MS;
  if (kind === 'week') return start + 7 * DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

export function utcDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** ISO-8601 week label, e.g. 2026-W38 (the week's Thursday decides its year). */
export function isoWeekLabel(weekStart: number): string {
  const thursday = new Date(weekStart + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const jan4 = Date.UTC(year, 0, 4);
  const week1Monday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS;
  const week = Math.floor((weekStart - week1Monday) / (7 * DAY_MS)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export function periodLabel(kind: BudgetPeriod, start: number): string {
  if (kind === 'day') return utcDay(start);
  if (kind === 'week') return isoWeekLabel(start);
  return utcDay(start).slice(0, 7);
}

export function periodKindOf(state: BudgetState): BudgetPeriod {
  return state.config?.period ?? 'month';
}

// ---------------------------------------------------------------- state

export function newBudgetState(key: string, now: number): BudgetState {
  parseBudgetKey(key);
  return {
    version: 1,
    key,
    currency: 'USD',
    periodStart: new Date(periodStartOf('month', now)).toISOString(),
    holds: {},
    settled: {},
    entries: [],
    daily: {},
    alerts: [],
    fired: [],
    orphansReleased: 0,
    counters: { reserves: 0, commits: 0 },
  };
}

/** Moves to the period containing `now` when the current one has ended. Returns whether it did. */
export function rollover(state: BudgetState, now: number): boolean {
  const start = periodStartOf(periodKindOf(state), now);
  const iso = new Date(start).toISOString();
  if (iso === state.periodStart) return false;
  state.periodStart = iso;
  state.fired = state.fired.filter((f) => f.startsWith(`${iso}@`));
  return true;
}

/** The period containing `now`, whether or not the state has rolled over yet. */
export function currentPeriod(state: BudgetState, now: number): { kind: BudgetPeriod; start: number; end: number; label: string } {
  const kind = periodKindOf(state);
  const start = periodStartOf(kind, now);
  return { kind, start, end: periodEndOf(kind, start), label: periodLabel(kind, start) };
}

export function committedBetween(state: BudgetState, from: number, to: number): Money {
  const fromDay = utcDay(from);
  const toDay = utcDay(to - 1);
  return ledgerSum(
    Object.entries(state.daily)
      .filter(([day]) => day >= fromDay && day <= toDay)
      .map(([, b]) => b.cost),
    state.currency,
  );
}

export function committedThisPeriod(state: BudgetState, now: number): Money {
  const p = currentPeriod(state, now);
  return committedBetween(state, p.start, p.end);
}

export function reservedTotal(state: BudgetState, exceptWorkloadId?: string): Money {
  return ledgerSum(
    Object.values(state.holds)
      .filter((h) => h.workloadId !== exceptWorkloadId)
      .map((h) => h.amount),
    state.currency,
  );
}

export function accruedTotal(state: BudgetState): Money {
  return ledgerSum(
    Object.values(state.holds).flatMap((h) => (h.accrued ? [h.accrued] : [])),
    state.currency,
  );
}

// ---------------------------------------------------------------- validation helpers

function checkMoney(field: string, m: unknown, currency: string, key: string): string | undefined {
  if (!m || typeof m !== 'object') return `${field} is missing`;
  const j = m as MoneyJSON;
  if (!Number.isSafeInteger(j.amount) || !Number.isInteger(j.scale) || j.scale < 0 || j.scale > 14) return `${field} is not an exact amount`;
  if (j.amount < 0) return `${field} must not be negative (got ${exactDecimal(j)})`;
  if (j.currency !== currency) {
    return `currency mismatch: budget ${key} is kept in ${currency} but ${field} is in ${j.currency}; gpuflow does not convert currencies`;
  }
  return undefined;
}

// ---------------------------------------------------------------- reserve

export interface ReserveRequest {
  workloadId: string;
  /** The workload's budget mutation counter: higher wins, equal is a retry, lower is stale. */
  seq: number;
  /** The hold to set: the most the workload may spend in this budget (spent so far + ahead). */
  amount: MoneyJSON;
  /** Accept a partial grant down to this (top-ups); absent: all or nothing. */
  atLeast?: MoneyJSON;
  /** What the workload has spent so far (reported with top-ups, for alerts). */
  accrued?: MoneyJSON;
  /** Whether the amount comes from a declared maxDuration/estimate (else the 1 h default). */
  declared: boolean;
  /** Human description for messages, e.g. "0.80 USD/h for 1h on local". */
  what?: string;
  meta?: HoldMeta;
  /** Connection budgets: the cap declared in connections.yaml (null: none); synced before the check. */
  syncConfig?: BudgetConfig | null;
}

export interface ReserveResult {
  key: string;
  /** In the budget's currency. */
  granted: MoneyJSON;
  /** In the request's currency, when it differs (at most what was asked; the floor for a partial grant). */
  grantedAs?: MoneyJSON;
  conversion?: Conversion;
  /** True when this request was already applied (a retry) or is stale. */
  duplicate: boolean;
  cap?: MoneyJSON;
  left?: MoneyJSON;
  onCap?: OnCapPolicy;
  period: string;
}

export type RefusalKind = 'exceeded' | 'invalid';

export interface Refusal {
  kind: RefusalKind;
  key: string;
  message: string;
  left?: MoneyJSON;
  cap?: MoneyJSON;
  onCap?: OnCapPolicy;
}

export type ReserveDecision = { ok: true; result: ReserveResult } | { ok: false; refusal: Refusal };

/** Whether a configuration may replace the current one (currency must match recorded money). */
export function checkConfig(state: BudgetState, config: BudgetConfig | null): string | undefined {
  if (!config) return undefined;
  const hasMoney = Object.keys(state.daily).length > 0 || Object.keys(state.holds).length > 0;
  if (hasMoney && config.cap.currency !== state.currency) {
    return `currency mismatch: budget ${state.key} has spend recorded in ${state.currency}; a cap in ${config.cap.currency} cannot be compared with it (gpuflow does not convert currencies)`;
  }
  if (!Number.isSafeInteger(config.cap.amount) || config.cap.amount < 0) return 'cap must be a non-negative exact amount';
  return undefined;
}

function effectiveState(state: BudgetState, req: { syncConfig?: BudgetConfig | null }): BudgetState {
  if (req.syncConfig === undefined || sameConfig(state.config, req.syncConfig ?? undefined)) return state;
  const next: BudgetState = { ...state };
  if (req.syncConfig) {
    next.config = req.syncConfig;
    next.currency = req.syncConfig.cap.currency;
  } else delete next.config;
  return next;
}

/** Decides a reservation without changing anything (the Update validator; the handler re-checks). */
export function checkReserve(state0: BudgetState, req: ReserveRequest, now: number): ReserveDecision {
  const key = state0.key;
  const p = currentPeriod(state0, now);
  if (req.syncConfig !== undefined) {
    const bad = checkConfig(state0, req.syncConfig);
    if (bad) return { ok: false, refusal: { kind: 'invalid', key, message: bad } };
  }
  const state = effectiveState(state0, req);
  if (!req.workloadId || !Number.isSafeInteger(req.seq) || req.seq < 0) {
    return { ok: false, refusal: { kind: 'invalid', key, message: 'a reservation needs a workloadId and a non-negative integer seq' } };
  }
  const settled = state.settled[req.workloadId];
  const hold = state.holds[req.workloadId];
  if (settled || (hold && hold.seq >= req.seq)) {
    // A retried or stale request: already applied (or superseded); answer with what stands.
    return {
      ok: true,
      result: { key, granted: hold?.amount ?? ledgerJSON(ledgerZero(state.currency)), ...(hold?.grantedAs ? { grantedAs: hold.grantedAs } : {}), duplicate: true, period: p.label },
    };
  }
  if (req.amount && req.amount.currency !== state.currency) return reserveConverted(state, req, now);
  for (const [field, m] of [['amount', req.amount], ['atLeast', req.atLeast], ['accrued', req.accrued]] as const) {
    if (m === undefined && field !== 'amount') continue;
    const bad = checkMoney(field, m, state.currency, key);
    if (bad) return { ok: false, refusal: { kind: 'invalid', key, message: bad } };
  }
  const amount = toLedger(fromJSON(req.amount));
  const atLeast = req.atLeast ? minimum([toLedger(fromJSON(req.atLeast)), amount]) : amount;
  const cfg = state.config;
  if (!cfg) return { ok: true, result: { key, granted: toJSON(amount), duplicate: false, period: p.label } };

  const cap = toLedger(fromJSON(cfg.cap));
  const committed = committedThisPeriod(state, now);
  const others = reservedTotal(state, req.workloadId);
  const available = maximum([subtract(subtract(cap, committed), others), ledgerZero(state.currency)]);
  const current = hold ? toLedger(fromJSON(hold.amount)) : undefined;
  const base = { cap: toJSON(cap), onCap: cfg.onCap, period: p.label };
  // Lowering (or keeping) a hold is always allowed, even over a cap that was lowered since.
  if (current && !greaterThan(amount, current)) {
    return { ok: true, result: { key, granted: toJSON(amount), duplicate: false, left: toJSON(available), ...base } };
  }
  const granted = minimum([amount, available]);
  if (lessThan(granted, atLeast)) {
    const total = add(add(committed, others), atLeast);
    return {
      ok: false,
      refusal: {
        kind: 'exceeded',
        key,
        message:
          `budget ${key} exceeded: reserving ${formatExact(atLeast)}${req.what ? ` (${req.what})` : ''} would bring this ${cfg.period}'s spend to ` +
          `${formatExact(total)}, over its ${formatExact(cap)} cap (committed ${formatExact(committed)}, reserved by other workloads ${formatExact(others)}); left: ${formatExact(available)}`,
        left: toJSON(available),
        cap: toJSON(cap),
        onCap: cfg.onCap,
      },
    };
  }
  return { ok: true, result: { key, granted: toJSON(granted), duplicate: false, left: toJSON(subtract(available, granted)), ...base } };
}

function convertedWhat(what: string, c: Conversion): string {
  return `${what}, at ${c.rate} ${c.to}/${c.from} of ${c.date} (${c.source})`;
}

/**
 * A reservation asked for in another currency: converted at the budget's dated rate (refused,
 * naming the pair and the fix, without one), decided in the budget's currency, the conversion kept.
 */
function reserveConverted(state: BudgetState, req: ReserveRequest, now: number): ReserveDecision {
  const from = req.amount.currency;
  const found = findRate(state.config?.rates, from, state.currency, now, `budget ${state.key}`);
  if (!found.ok) return { ok: false, refusal: { kind: 'invalid', key: state.key, message: found.message } };
  for (const [field, m] of [['amount', req.amount], ['atLeast', req.atLeast], ['accrued', req.accrued]] as const) {
    if (m === undefined) continue;
    const bad = checkMoney(field, m, from, state.key);
    if (bad) return { ok: false, refusal: { kind: 'invalid', key: state.key, message: bad } };
  }
  const conv = (m: MoneyJSON) => ledgerJSON(convertAt(fromJSON(m), found.rate));
  const inBudget: ReserveRequest = {
    ...req,
    amount: conv(req.amount),
    ...(req.atLeast ? { atLeast: conv(req.atLeast) } : {}),
    ...(req.accrued ? { accrued: conv(req.accrued) } : {}),
    ...(req.what ? { what: convertedWhat(req.what, conversionRecord(fromJSON(req.amount), found.rate)) } : {}),
  };
  const d = checkReserve(state, inBudget, now);
  if (!d.ok) return d;
  const whole = !greaterThan(toLedger(fromJSON(inBudget.amount)), toLedger(fromJSON(d.result.granted)));
  return {
    ok: true,
    result: { ...d.result, grantedAs: ledgerJSON(whole ? req.amount : (req.atLeast ?? req.amount)), conversion: conversionRecord(toLedger(fromJSON(req.amount)), found.rate) },
  };
}

/** Applies a reservation (re-checking it), mutating `state`. */
export function applyReserve(state: BudgetState, req: ReserveRequest, now: number): ReserveDecision {
  rollover(state, now);
  const decision = checkReserve(state, req, now);
  if (!decision.ok || decision.result.duplicate) return decision;
  if (req.syncConfig !== undefined) applyConfig(state, req.syncConfig, now);
  const prev = state.holds[req.workloadId];
  const { conversion, grantedAs } = decision.result;
  // Kept in the budget's currency; the workload's own report of its spend is converted like its hold.
  const accrued = req.accrued && conversion ? ledgerJSON(convertAt(fromJSON(req.accrued), conversion)) : req.accrued;
  const at = new Date(now).toISOString();
  state.holds[req.workloadId] = {
    workloadId: req.workloadId,
    seq: req.seq,
    amount: ledgerJSON(decision.result.granted),
    ...(accrued ? { accrued: ledgerJSON(accrued) } : prev?.accrued ? { accrued: prev.accrued } : {}),
    since: prev?.since ?? at,
    updatedAt: at,
    declared: req.declared || (prev?.declared ?? false),
    ...(req.what ? { what: conversion ? convertedWhat(req.what, conversion) : req.what } : {}),
    ...(req.meta ? { meta: req.meta } : prev?.meta ? { meta: prev.meta } : {}),
    ...(conversion ? { conversion } : {}),
    ...(grantedAs ? { grantedAs } : {}),
  };
  state.counters.reserves++;
  return decision;
}

// ---------------------------------------------------------------- commit

export interface CommitRequest {
  workloadId: string;
  seq: number;
  /** The workload's actual cost in this budget (0 when it never ran an instance here). */
  cost: MoneyJSON;
  /** The ledger entry; absent when nothing was spent here (the hold is just released). */
  entry?: Omit<LedgerEntry, 'committedAt' | 'seq' | 'cost'>;
}

export interface CommitResult {
  key: string;
  duplicate: boolean;
  committed: MoneyJSON;
  period: string;
  alerts: AlertEvent[];
}

export function checkCommit(state: BudgetState, req: CommitRequest, now?: number): string | undefined {
  if (!req.workloadId || !Number.isSafeInteger(req.seq)) return 'a commit needs a workloadId and an integer seq';
  if (state.settled[req.workloadId]) return undefined; // a retry: accepted as a no-op
  if (req.cost && req.cost.currency !== state.currency) {
    const bad = checkMoney('cost', req.cost, req.cost.currency, state.key);
    if (bad) return bad;
    const found = findRate(state.config?.rates, req.cost.currency, state.currency, now ?? Date.parse(state.periodStart), `budget ${state.key}`);
    return found.ok ? undefined : found.message;
  }
  return checkMoney('cost', req.cost, state.currency, state.key);
}

/** A cost in another currency, converted at the budget's dated rate; throws (naming the pair and the fix) without one. */
export function costInBudgetCurrency(state: BudgetState, cost: MoneyJSON, now: number): { cost: Money; conversion?: Conversion } {
  if (cost.currency === state.currency) return { cost: toLedger(fromJSON(cost)) };
  const found = findRate(state.config?.rates, cost.currency, state.currency, now, `budget ${state.key}`);
  if (!found.ok) throw new RangeError(found.message);
  return { cost: convertAt(fromJSON(cost), found.rate), conversion: conversionRecord(toLedger(fromJSON(cost)), found.rate) };
}

export function applyCommit(state: BudgetState, req: CommitRequest, now: number): CommitResult {
  rollover(state, now);
  const p = currentPeriod(state, now);
  if (state.settled[req.workloadId]) {
    return { key: state.key, duplicate: true, committed: toJSON(committedThisPeriod(state, now)), period: p.label, alerts: [] };
  }
  const bad = checkCommit(state, req, now);
  if (bad) throw new RangeError(bad);
  delete state.holds[req.workloadId];
  const at = new Date(now).toISOString();
  const { cost, conversion } = costInBudgetCurrency(state, req.cost, now);
  if (isPositive(cost) || req.entry) {
    const day = utcDay(now);
    const b = state.daily[day];
    state.daily[day] = {
      cost: toJSON(b ? add(toLedger(fromJSON(b.cost)), cost) : cost),
      count: (b?.count ?? 0) + (req.entry ? 1 : 0),
    };
  }
  if (req.entry) {
    state.entries.push({ ...req.entry, cost: toJSON(cost), committedAt: at, seq: req.seq, ...(conversion ? { conversion } : {}) });
    if (state.entries.length > MAX_ENTRIES) state.entries.splice(0, state.entries.length - MAX_ENTRIES);
  }
  state.settled[req.workloadId] = { seq: req.seq, at };
  state.counters.commits++;
  prune(state, now);
  const alerts = evaluateAlerts(state, now);
  return { key: state.key, duplicate: false, committed: toJSON(committedThisPeriod(state, now)), period: p.label, alerts };
}

// ---------------------------------------------------------------- configuration

export function applyConfig(state: BudgetState, config: BudgetConfig | null, now: number): void {
  const bad = checkConfig(state, config);
  if (bad) throw new RangeError(bad);
  if (config) {
    state.config = config;
    state.currency = config.cap.currency;
  } else delete state.config;
  rollover(state, now);
}

// ---------------------------------------------------------------- alerts

/** Fires every threshold the period's spend has reached and that has not fired this period. */
export function evaluateAlerts(state: BudgetState, now: number): AlertEvent[] {
  const cfg = state.config;
  if (!cfg || cfg.alerts.length === 0) return [];
  rollover(state, now);
  const p = currentPeriod(state, now);
  const startIso = new Date(p.start).toISOString();
  const cap = toLedger(fromJSON(cfg.cap));
  const spend = add(committedThisPeriod(state, now), accruedTotal(state));
  const fired: AlertEvent[] = [];
  for (const threshold of cfg.alerts) {
    const id = `${startIso}@${threshold}`;
    if (state.fired.includes(id)) continue;
    // spend ≥ cap × threshold / 100, in integers: spend × 100 ≥ cap × threshold.
    if (lessThan(multiply(spend, 100), multiply(cap, threshold))) continue;
    state.fired.push(id);
    const ev: AlertEvent = {
      key: state.key,
      period: p.label,
      periodStart: startIso,
      threshold,
      spend: toJSON(spend),
      cap: toJSON(cap),
      at: new Date(now).toISOString(),
      webhook: cfg.webhookUrl ? 'pending' : 'none',
    };
    state.alerts.push(ev);
    fired.push(ev);
  }
  if (state.alerts.length > MAX_ALERTS) {
    // Drop the oldest delivered ones first; pending webhooks are kept.
    const excess = state.alerts.length - MAX_ALERTS;
    let dropped = 0;
    state.alerts = state.alerts.filter((a) => !(dropped < excess && a.webhook !== 'pending' && ++dropped));
  }
  return fired;
}

// ---------------------------------------------------------------- orphans and pruning

/** Holds not updated for `minAgeMs`: candidates for the orphan check. */
export function staleHolds(state: BudgetState, now: number, minAgeMs: number): string[] {
  return Object.values(state.holds)
    .filter((h) => now - Date.parse(h.updatedAt) >= minAgeMs)
    .map((h) => h.workloadId);
}

/** Releases holds of workloads that ended without settling (e.g. terminated). */
export function releaseOrphans(state: BudgetState, workloadIds: string[], now: number): string[] {
  const released: string[] = [];
  for (const id of workloadIds) {
    const h = state.holds[id];
    if (!h) continue;
    delete state.holds[id];
    state.settled[id] = { seq: h.seq, at: new Date(now).toISOString(), orphaned: true };
    state.orphansReleased++;
    released.push(id);
  }
  return released;
}

export function prune(state: BudgetState, now: number): void {
  // Settled IDs are inserted in time order (object key order), so the oldest come first.
  const ids = Object.keys(state.settled);
  const oldest = ids.length ? state.settled[ids[0]!]! : undefined;
  if (ids.length > MAX_SETTLED * 1.25 || (oldest && now - Date.parse(oldest.at) > SETTLED_TTL_MS)) {
    const keep = ids.filter((id) => now - Date.parse(state.settled[id]!.at) <= SETTLED_TTL_MS).slice(-MAX_SETTLED);
    const next: BudgetState['settled'] = {};
    for (const id of keep) next[id] = state.settled[id]!;
    state.settled = next;
  }
  const days = Object.keys(state.daily);
  if (days.length > MAX_DAYS) {
    for (const d of days.sort().slice(0, days.length - MAX_DAYS)) delete state.daily[d];
  }
}

// ---------------------------------------------------------------- status and ledger views

export interface BudgetStatus {
  key: string;
  scope: string;
  name: string;
  currency: string;
  config?: BudgetConfig;
  period: { kind: BudgetPeriod; start: string; end: string; label: string };
  /** Actual costs committed this period. */
  committed: MoneyJSON;
  /** Held by running workloads (the most they may spend). */
  reserved: MoneyJSON;
  /** What running workloads last reported as spent. */
  accrued: MoneyJSON;
  /** cap − committed − reserved (may be negative after a cap was lowered). */
  left?: MoneyJSON;
  /** Whole percent of the cap: committed + accrued. */
  usedPercent?: number;
  holds: Pick<Hold, 'workloadId' | 'amount' | 'accrued' | 'since' | 'what' | 'meta'>[];
  alerts: AlertEvent[];
  orphansReleased: number;
  workloadsThisPeriod: number;
  counters: BudgetState['counters'];
}

export function budgetStatus(state: BudgetState, now: number): BudgetStatus {
  const p = currentPeriod(state, now);
  const { scope, name } = parseBudgetKey(state.key);
  const committed = committedThisPeriod(state, now);
  const reserved = reservedTotal(state);
  const accrued = accruedTotal(state);
  const cfg = state.config;
  const startDay = utcDay(p.start);
  const endDay = utcDay(p.end - 1);
  let usedPercent: number | undefined;
  let left: Money | undefined;
  if (cfg) {
    const cap = toLedger(fromJSON(cfg.cap));
    left = subtract(subtract(cap, committed), reserved);
    const used = BigInt(toSnapshot(add(committed, accrued)).amount) * 100n;
    const capUnits = BigInt(toSnapshot(cap).amount);
    usedPercent = capUnits === 0n ? (used === 0n ? 0 : 100) : Number(used / capUnits);
  }
  return {
    key: state.key,
    scope,
    name,
    currency: state.currency,
    ...(cfg ? { config: cfg } : {}),
    period: { kind: p.kind, start: new Date(p.start).toISOString(), end: new Date(p.end).toISOString(), label: p.label },
    committed: toJSON(committed),
    reserved: toJSON(reserved),
    accrued: toJSON(accrued),
    ...(left ? { left: toJSON(left) } : {}),
    ...(usedPercent !== undefined ? { usedPercent } : {}),
    holds: Object.values(state.holds).map((h) => ({
      workloadId: h.workloadId,
      amount: h.amount,
      ...(h.accrued ? { accrued: h.accrued } : {}),
      since: h.since,
      ...(h.what ? { what: h.what } : {}),
      ...(h.meta ? { meta: h.meta } : {}),
    })),
    alerts: state.alerts.slice(-20),
    orphansReleased: state.orphansReleased,
    workloadsThisPeriod: Object.entries(state.daily)
      .filter(([d]) => d >= startDay && d <= endDay)
      .reduce((n, [, b]) => n + b.count, 0),
    counters: state.counters,
  };
}

export interface LedgerView {
  key: string;
  currency: string;
  daily: ({ day: string } & DayBucket)[];
  entries?: LedgerEntry[];
}

export function ledgerView(state: BudgetState, opts: { since?: string; entries?: boolean } = {}): LedgerView {
  const since = opts.since ?? '0000-00-00';
  return {
    key: state.key,
    currency: state.currency,
    daily: Object.entries(state.daily)
      .filter(([d]) => d >= since.slice(0, 10))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([day, b]) => ({ day, ...b })),
    ...(opts.entries ? { entries: state.entries.filter((e) => e.committedAt >= since) } : {}),
  };
}

