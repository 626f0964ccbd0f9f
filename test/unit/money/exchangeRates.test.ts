import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBudgetConfig } from '../../../src/budget/config.js';
import { applyCommit, applyReserve, budgetStatus, checkCommit, newBudgetState, type BudgetState } from '../../../src/budget/ledger.js';
import { exactDecimal, ledgerJSON, parseAmount } from '../../../src/money/billing.js';
import { convertAt, findRate, RateTableSchema } from '../../../src/money/exchangeRates.js';
import { moneyFromDecimal } from '../../../src/money/money.js';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const money = (d: string, c: string) => ledgerJSON(parseAmount('x', d, c, { allowZero: true }));
const table = RateTableSchema.parse({
  source: 'ECB euro reference rates',
  rates: [
    { from: 'EUR', to: 'USD', rate: '1.0500', date: '2026-11-01' },
    { from: 'EUR', to: 'USD', rate: '1.0832', date: '2026-12-01' },
    { from: 'EUR', to: 'USD', rate: '1.2000', date: '2026-12-24' },
    { from: 'GBP', to: 'USD', rate: '1.27', date: '2026-09-01', source: 'finance team' },
  ],
});

describe('exchange-rate table', () => {
  it('picks the newest rate dated on or before the conversion, never a future one', () => {
    const r = findRate(table, 'EUR', 'USD', T0, 'budget project:ml');
    assert.ok(r.ok);
    assert.deepEqual(r.rate, { from: 'EUR', to: 'USD', rate: '1.0832', date: '2026-12-01', source: 'ECB euro reference rates' });
  });

  it('converts exactly, rounding up at the ledger scale', () => {
    assert.equal(exactDecimal(convertAt(moneyFromDecimal('2.49', 'EUR'), { to: 'USD', rate: '1.0832' })), '2.697168');
    assert.equal(exactDecimal(convertAt(moneyFromDecimal('0.00000001', 'EUR'), { to: 'USD', rate: '1.0832' })), '0.00000002');
  });

  it('refuses a missing pair, a stale rate and a budget without a table, naming the pair and the fix', () => {
    const none = findRate(table, 'USD', 'EUR', T0, 'budget project:ml');
    assert.ok(!none.ok);
    assert.match(none.message, /^no exchange rate USD→EUR dated on or before 2026-12-03 in the rate table of budget project:ml; add \{ from: USD, to: EUR, rate: "<EUR per USD>", date: <YYYY-MM-DD> \} to the rates of budget project:ml \(gpuflow budget set \.\.\. --rates <file>\)$/);
    const stale = findRate(table, 'GBP', 'USD', T0, 'budget project:ml');
    assert.ok(!stale.ok);
    assert.match(stale.message, /GBP→USD .* is dated 2026-09-01, 93 days old \(maxAgeDays 31\)/);
    const noTable = findRate(undefined, 'EUR', 'USD', T0, 'budget project:ml');
    assert.ok(!noTable.ok);
    assert.match(noTable.message, /^no exchange rate EUR→USD: budget project:ml is kept in USD and has no rate table; add .*gpuflow never converts currencies silently$/);
  });

  it('validates the table with zod, naming the field', () => {
    const bad = RateTableSchema.safeParse({ rates: [{ from: 'EUR', to: 'USD', rate: 1.08 }, { from: 'EUR', to: 'EUR', rate: '0', date: '2026-12-01' }] });
    assert.ok(!bad.success);
    const msgs = bad.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.ok(msgs.some((m) => m.startsWith('rates.0.date')), msgs.join('\n'));
    assert.ok(msgs.some((m) => /rate must be greater than 0/.test(m)), msgs.join('\n'));
    assert.throws(() => RateTableSchema.parse({ rates: [{ from: 'JPY', to: 'USD', rate: '0.0067', date: '2026-12-01' }] }), /unsupported currency .*JPY/);
    assert.throws(
      () => parseBudgetConfig({ cap: '100', currency: 'USD', rates: { rates: [{ from: 'USD', to: 'EUR', rate: '0.92', date: '2026-12-01' }] } }),
      /rates\.rates\.0\.to: rates convert into the budget's currency USD, not EUR/,
    );
  });
});

describe('a USD budget with EUR spend', () => {
  function budget(withRates: boolean): BudgetState {
    const s = newBudgetState('project:ml', T0);
    const cfg = parseBudgetConfig({ cap: '10.00', currency: 'USD', ...(withRates ? { rates: { source: 'ECB euro reference rates', rates: [{ from: 'EUR', to: 'USD', rate: '1.0832', date: '2026-12-01' }] } } : {}) });
    s.config = cfg;
    return s;
  }

  it('holds and commits through the dated rate, recording it with the hold and the ledger entry', () => {
    const s = budget(true);
    const d = applyReserve(s, { workloadId: 'w', seq: 1, amount: money('5.00', 'EUR'), declared: true, what: '5.00 EUR/h for 1h on eu' }, T0);
    assert.ok(d.ok);
    assert.equal(exactDecimal(d.result.granted), '5.416');
    assert.equal(d.result.granted.currency, 'USD');
    assert.deepEqual(d.result.grantedAs, money('5.00', 'EUR'), 'the workload gets its grant in its own currency');
    const hold = s.holds.w!;
    assert.deepEqual(hold.conversion, { from: 'EUR', to: 'USD', rate: '1.0832', date: '2026-12-01', source: 'ECB euro reference rates', original: money('5.00', 'EUR') });
    assert.match(hold.what ?? '', /at 1\.0832 USD\/EUR of 2026-12-01 \(ECB euro reference rates\)/);
    // 10.00 USD cap: 5.416 held; a second 5.00 EUR (5.416 USD) does not fit.
    const over = applyReserve(s, { workloadId: 'v', seq: 1, amount: money('5.00', 'EUR'), declared: true }, T0);
    assert.ok(!over.ok);
    assert.equal(over.refusal.kind, 'exceeded');
    const c = applyCommit(s, { workloadId: 'w', seq: 2, cost: money('2.00', 'EUR'), entry: { workloadId: 'w', project: 'ml', tenant: 't', connections: ['eu'], billedMs: 3_600_000 } }, T0 + 1000);
    assert.equal(exactDecimal(c.committed), '2.1664');
    const entry = s.entries.at(-1)!;
    assert.equal(exactDecimal(entry.cost), '2.1664');
    assert.equal(entry.cost.currency, 'USD');
    assert.deepEqual(entry.conversion, { from: 'EUR', to: 'USD', rate: '1.0832', date: '2026-12-01', source: 'ECB euro reference rates', original: money('2.00', 'EUR') });
    assert.equal(exactDecimal(budgetStatus(s, T0 + 1000).left!), '7.8336');
  });

  it('refuses EUR spend without a rate: a hold, and a commit, naming the pair and the fix', () => {
    const s = budget(false);
    const d = applyReserve(s, { workloadId: 'w', seq: 1, amount: money('1.00', 'EUR'), declared: true }, T0);
    assert.ok(!d.ok);
    assert.equal(d.refusal.kind, 'invalid');
    assert.match(d.refusal.message, /^no exchange rate EUR→USD: budget project:ml is kept in USD and has no rate table/);
    assert.match(checkCommit(s, { workloadId: 'w', seq: 1, cost: money('1.00', 'EUR') }, T0) ?? '', /no exchange rate EUR→USD/);
    assert.throws(() => applyCommit(s, { workloadId: 'w', seq: 1, cost: money('1.00', 'EUR') }, T0), /no exchange rate EUR→USD/);
    assert.deepEqual(s.daily, {}, 'nothing was recorded');
  });
});
