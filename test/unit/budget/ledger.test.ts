/** The budget state machine: caps, idempotency, alerts, periods, currencies. Pure, no server. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseBudgetConfig, spendingCapConfig, SpendingCapSchema, type BudgetConfig } from '../../../src/budget/config.js';
import {
  applyCommit,
  applyConfig,
  applyReserve,
  budgetStatus,
  checkReserve,
  committedThisPeriod,
  evaluateAlerts,
  isoWeekLabel,
  ledgerView,
  newBudgetState,
  periodEndOf,
  periodLabel,
  periodStartOf,
  releaseOrphans,
  reservedTotal,
  rollover,
  type BudgetState,
  type ReserveRequest,
} from '../../../src/budget/ledger.js';
import { exactDecimal, ledgerJSON, parseAmount } from '../../../src/money/billing.js';
import { add, fromJSON, lessThanOrEqual, toJSON } from '../../../src/money/money.js';

const T0 = Date.parse('2026-09-14T10:00:00Z'); // a Monday
const usd = (d: string) => ledgerJSON(parseAmount('x', d, 'USD', { allowZero: true }));
const cfg = (over: Partial<Parameters<typeof parseBudgetConfig>[0]> = {}): BudgetConfig => parseBudgetConfig({ cap: '10.00', ...over });

function capped(config = cfg()): BudgetState {
  const s = newBudgetState('project:ml', T0);
  applyConfig(s, config, T0);
  return s;
}

function reserve(s: BudgetState, workloadId: string, seq: number, amount: string, extra: Partial<ReserveRequest> = {}, now = T0) {
  return applyReserve(s, { workloadId, seq, amount: usd(amount), declared: true, ...extra }, now);
}

describe('periods (UTC)', () => {
  it('day, ISO week (Monday) and calendar month boundaries and labels', () => {
    const t = Date.parse('2026-09-16T23:59:59Z'); // Wednesday
    assert.equal(new Date(periodStartOf('day', t)).toISOString(), '2026-09-16T00:00:00.000Z');
    assert.equal(new Date(periodStartOf('week', t)).toISOString(), '2026-09-14T00:00:00.000Z');
    assert.equal(new Date(periodStartOf('month', t)).toISOString(), '2026-09-01T00:00:00.000Z');
    assert.equal(new Date(periodEndOf('month', periodStartOf('month', Date.parse('2026-12-31T12:00:00Z')))).toISOString(), '2027-01-01T00:00:00.000Z');
    assert.equal(new Date(periodStartOf('week', Date.parse('2026-09-20T12:00:00Z'))).toISOString(), '2026-09-14T00:00:00.000Z', 'Sunday belongs to the week that began Monday');
    assert.equal(periodLabel('month', periodStartOf('month', t)), '2026-09');
    assert.equal(periodLabel('day', periodStartOf('day', t)), '2026-09-16');
    assert.equal(isoWeekLabel(periodStartOf('week', t)), '2026-W38');
    assert.equal(isoWeekLabel(periodStartOf('week', Date.parse('2027-01-01T00:00:00Z'))), '2026-W53');
    assert.equal(isoWeekLabel(periodStartOf('week', Date.parse('2025-12-29T00:00:00Z'))), '2026-W01');
  });
});

describe('reserve', () => {
  it('grants within the cap and refuses what would exceed it, saying how much is left', () => {
    const s = capped();
    assert.ok(reserve(s, 'a', 1, '6.00').ok);
    const r = reserve(s, 'b', 1, '4.50');
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.equal(r.refusal.kind, 'exceeded');
    assert.equal(
      r.refusal.message,
      "budget project:ml exceeded: reserving 4.50 USD would bring this month's spend to 10.50 USD, over its 10.00 USD cap (committed 0.00 USD, reserved by other workloads 6.00 USD); left: 4.00 USD",
    );
    assert.equal(exactDecimal(r.refusal.left!), '4.00');
    assert.equal(r.refusal.onCap, 'stop');
    assert.ok(reserve(s, 'b', 1, '4.00').ok, 'exactly what is left fits');
    assert.equal(exactDecimal(reservedTotal(s)), '10.00');
  });

  it('grants partially down to atLeast (top-ups)', () => {
    const s = capped();
    reserve(s, 'a', 1, '7.00');
    const r = reserve(s, 'b', 1, '5.00', { atLeast: usd('2.50') });
    assert.ok(r.ok);
    assert.equal(exactDecimal(r.result.granted), '3.00');
    assert.equal(exactDecimal(r.result.left!), '0.00');
    assert.equal(reserve(s, 'c', 1, '1.00', { atLeast: usd('0.01') }).ok, false);
  });

  it('is idempotent by (workloadId, seq): a retry changes nothing, a stale request is ignored', () => {
    const s = capped();
    const first = reserve(s, 'a', 1, '3.00');
    const again = reserve(s, 'a', 1, '3.00');
    assert.ok(first.ok && again.ok);
    assert.equal(again.result.duplicate, true);
    assert.ok(reserve(s, 'a', 3, '5.00').ok);
    const stale = reserve(s, 'a', 2, '9.00');
    assert.ok(stale.ok && stale.result.duplicate);
    assert.equal(exactDecimal(reservedTotal(s)), '5.00', 'holds are absolute: never 3 + 5');
    assert.equal(s.counters.reserves, 2);
  });

  it('always allows lowering a hold, even over a cap lowered since', () => {
    const s = capped();
    reserve(s, 'a', 1, '8.00');
    applyConfig(s, cfg({ cap: '2.00' }), T0);
    assert.ok(reserve(s, 'a', 2, '5.00').ok);
    assert.equal(reserve(s, 'a', 3, '6.00').ok, false);
  });

  it('refuses other currencies and malformed amounts with clear errors', () => {
    const s = capped();
    const eur = applyReserve(s, { workloadId: 'x', seq: 1, amount: ledgerJSON(parseAmount('a', '1.00', 'EUR')), declared: true }, T0);
    assert.ok(!eur.ok);
    assert.equal(eur.refusal.kind, 'invalid');
    assert.match(eur.refusal.message, /^no exchange rate EUR→USD: budget project:ml is kept in USD and has no rate table; add \{ from: EUR, to: USD, .*gpuflow never converts currencies silently$/);
    const neg = applyReserve(s, { workloadId: 'y', seq: 1, amount: { amount: -5, currency: 'USD', scale: 2 }, declared: true }, T0);
    assert.ok(!neg.ok);
    assert.match(neg.refusal.message, /amount must not be negative/);
    const frac = applyReserve(s, { workloadId: 'z', seq: 1, amount: { amount: 1.5, currency: 'USD', scale: 2 }, declared: true }, T0);
    assert.ok(!frac.ok);
    assert.match(frac.refusal.message, /not an exact amount/);
  });

  it('without a cap it only records holds (a ledger)', () => {
    const s = newBudgetState('tenant:acme', T0);
    const r = reserve(s, 'a', 1, '1000000.00');
    assert.ok(r.ok);
    assert.equal(r.result.cap, undefined);
  });

  it('syncs a connection cap from connections.yaml before checking', () => {
    const s = newBudgetState('connection:lambda', T0);
    const cap = spendingCapConfig(SpendingCapSchema.parse({ amount: '5.00', period: 'day' }));
    const r = reserve(s, 'a', 1, '6.00', { syncConfig: cap });
    assert.ok(!r.ok);
    assert.match(r.refusal.message, /budget connection:lambda exceeded: .* over its 5\.00 USD cap .*left: 5\.00 USD/);
    assert.ok(reserve(s, 'a', 2, '5.00', { syncConfig: cap }).ok);
    assert.equal(s.config?.period, 'day');
    assert.ok(reserve(s, 'b', 1, '50.00', { syncConfig: null }).ok, 'a cap removed from the file is removed here');
  });
});

describe('commit', () => {
  it('records the actual cost, releases the hold, and is idempotent', () => {
    const s = capped();
    reserve(s, 'a', 1, '6.00');
    const entry = { workloadId: 'a', project: 'ml', tenant: 't', connections: ['local'], billedMs: 1000 };
    const r = applyCommit(s, { workloadId: 'a', seq: 2, cost: usd('1.25'), entry }, T0 + 1000);
    assert.equal(exactDecimal(r.committed), '1.25');
    assert.equal(Object.keys(s.holds).length, 0);
    const again = applyCommit(s, { workloadId: 'a', seq: 2, cost: usd('1.25'), entry }, T0 + 2000);
    assert.equal(again.duplicate, true);
    assert.equal(exactDecimal(committedThisPeriod(s, T0)), '1.25');
    assert.equal(s.entries.length, 1);
    const late = reserve(s, 'a', 1, '6.00');
    assert.ok(late.ok && late.result.duplicate, 'a late retry of an earlier reservation does not resurrect the hold');
    assert.equal(Object.keys(s.holds).length, 0);
    const st = budgetStatus(s, T0);
    assert.equal(exactDecimal(st.left!), '8.75');
    assert.equal(st.workloadsThisPeriod, 1);
    assert.deepEqual(ledgerView(s).daily, [{ day: '2026-09-14', cost: usd('1.25'), count: 1 }]);
  });

  it('a release without spend records no entry', () => {
    const s = capped();
    reserve(s, 'a', 1, '6.00');
    applyCommit(s, { workloadId: 'a', seq: 2, cost: usd('0') }, T0);
    assert.equal(s.entries.length, 0);
    assert.deepEqual(s.daily, {});
    assert.equal(exactDecimal(reservedTotal(s)), '0.00');
  });
});

describe('alerts', () => {
  it('fire once per period and threshold, on committed plus reported accruals', () => {
    const s = capped(cfg({ alerts: [50, 80], webhookUrl: 'https://hooks.example/x' }));
    applyCommit(s, { workloadId: 'a', seq: 1, cost: usd('4.99') }, T0);
    assert.equal(s.alerts.length, 0);
    const r = applyCommit(s, { workloadId: 'b', seq: 1, cost: usd('0.01') }, T0);
    assert.deepEqual(r.alerts.map((a) => a.threshold), [50], '50% exactly fires');
    assert.equal(r.alerts[0]!.webhook, 'pending');
    assert.equal(applyCommit(s, { workloadId: 'c', seq: 1, cost: usd('1.00') }, T0).alerts.length, 0, 'no second 50% alert');
    reserve(s, 'd', 1, '3.00', { accrued: usd('2.00') });
    assert.deepEqual(evaluateAlerts(s, T0).map((a) => a.threshold), [80], 'a running workload’s reported spend counts');
    assert.equal(applyCommit(s, { workloadId: 'd', seq: 2, cost: usd('3.00') }, T0).alerts.length, 0);
    assert.equal(s.alerts.length, 2);
    // Next month: fresh spend, fresh alerts.
    const next = Date.parse('2026-10-02T00:00:00Z');
    assert.ok(rollover(s, next));
    assert.equal(exactDecimal(committedThisPeriod(s, next)), '0.00');
    assert.deepEqual(applyCommit(s, { workloadId: 'e', seq: 1, cost: usd('9.00') }, next).alerts.map((a) => `${a.period}:${a.threshold}`), ['2026-10:50', '2026-10:80']);
  });

  it('fire in one step when a single commit crosses several thresholds', () => {
    const s = capped(cfg({ alerts: [80, 50, 50] }));
    assert.deepEqual(s.config!.alerts, [50, 80], 'sorted and de-duplicated');
    assert.deepEqual(applyCommit(s, { workloadId: 'a', seq: 1, cost: usd('20.00') }, T0).alerts.map((a) => a.threshold), [50, 80]);
  });
});

describe('configuration', () => {
  it('refuses a cap in another currency once money is recorded', () => {
    const s = capped();
    applyCommit(s, { workloadId: 'a', seq: 1, cost: usd('1.00') }, T0);
    assert.throws(() => applyConfig(s, cfg({ currency: 'EUR' }), T0), /currency mismatch: budget project:ml has spend recorded in USD; a cap in EUR cannot be compared/);
  });

  it('switching the period recomputes the period’s committed spend from daily buckets', () => {
    const s = capped();
    applyCommit(s, { workloadId: 'a', seq: 1, cost: usd('2.00') }, Date.parse('2026-09-02T10:00:00Z'));
    applyCommit(s, { workloadId: 'b', seq: 1, cost: usd('3.00') }, T0);
    assert.equal(exactDecimal(committedThisPeriod(s, T0)), '5.00');
    applyConfig(s, cfg({ period: 'week' }), T0);
    assert.equal(exactDecimal(committedThisPeriod(s, T0)), '3.00');
    applyConfig(s, cfg({ period: 'day' }), T0 + 86_400_000);
    assert.equal(exactDecimal(committedThisPeriod(s, T0 + 86_400_000)), '0.00');
  });

  it('releases orphaned holds and ignores their late retries', () => {
    const s = capped();
    reserve(s, 'gone', 1, '9.00');
    assert.deepEqual(releaseOrphans(s, ['gone', 'unknown'], T0), ['gone']);
    assert.ok(reserve(s, 'gone', 1, '9.00').ok);
    assert.equal(Object.keys(s.holds).length, 0);
    assert.equal(s.orphansReleased, 1);
  });
});

describe('the cap cannot be overshot', () => {
  it('under any interleaving of reservations, top-ups and commits (each commit ≤ its hold)', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('reserve' as const), w: fc.integer({ min: 0, max: 7 }), cents: fc.integer({ min: 0, max: 600 }), partial: fc.boolean() }),
      fc.record({ t: fc.constant('commit' as const), w: fc.integer({ min: 0, max: 7 }), pct: fc.integer({ min: 0, max: 100 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 0, max: 2000 }), (ops, capCents) => {
        const s = capped(cfg({ cap: (capCents / 100).toFixed(2), alerts: [] }));
        const seq = new Map<number, number>();
        for (const o of ops) {
          const id = `w${o.w}`;
          const n = (seq.get(o.w) ?? 0) + 1;
          seq.set(o.w, n);
          if (o.t === 'reserve') {
            const amount = usd((o.cents / 100).toFixed(2));
            applyReserve(s, { workloadId: id, seq: n, amount, ...(o.partial ? { atLeast: usd('0.01') } : {}), declared: true }, T0);
          } else {
            const hold = s.holds[id];
            const units = hold ? Math.floor((hold.amount.amount * o.pct) / 100) : 0;
            applyCommit(s, { workloadId: id, seq: n, cost: { amount: units, currency: 'USD', scale: 8 } }, T0);
          }
          const total = add(committedThisPeriod(s, T0), reservedTotal(s));
          assert.ok(lessThanOrEqual(total, fromJSON(s.config!.cap)), `committed + reserved ${exactDecimal(total)} ≤ cap ${exactDecimal(s.config!.cap)}`);
        }
        // What the validator says is what the handler does.
        const probe: ReserveRequest = { workloadId: 'probe', seq: 1, amount: toJSON(fromJSON(usd('0.50'))), declared: true };
        assert.equal(checkReserve(s, probe, T0).ok, applyReserve(structuredClone(s), probe, T0).ok);
      }),
      { numRuns: 300 },
    );
  });
});
