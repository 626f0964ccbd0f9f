/** Cost reports: daily buckets rolled up per ISO week and month (UTC), CSV, --since. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dailyFromEntries, rollUp, sinceDay, toCsv, totals } from '../../../src/budget/report.js';
import { exactDecimal, ledgerJSON, parseAmount } from '../../../src/money/billing.js';

const usd = (d: string) => ledgerJSON(parseAmount('x', d, 'USD', { allowZero: true }));
const daily = [
  { day: '2026-08-31', cost: usd('1.00'), count: 1 }, // Monday of ISO week 36
  { day: '2026-09-06', cost: usd('2.00'), count: 2 }, // Sunday, same week
  { day: '2026-09-07', cost: usd('0.00000001'), count: 1 }, // Monday, week 37
];

describe('cost reports', () => {
  it('rolls days up into ISO weeks and calendar months, exactly', () => {
    assert.deepEqual(
      rollUp('project:ml', daily, 'week').map((r) => [r.period, r.start, exactDecimal(r.cost), r.workloads]),
      [
        ['2026-W36', '2026-08-31', '3.00', 3],
        ['2026-W37', '2026-09-07', '0.00000001', 1],
      ],
    );
    assert.deepEqual(
      rollUp('project:ml', daily, 'month').map((r) => [r.period, exactDecimal(r.cost)]),
      [
        ['2026-08', '1.00'],
        ['2026-09', '2.00000001'],
      ],
    );
    const rows = rollUp('project:ml', daily, 'day');
    assert.equal(rows.length, 3);
    assert.deepEqual(totals(rows).map((t) => [t.currency, exactDecimal(t.cost), t.workloads]), [['USD', '3.00000001', 4]]);
  });

  it('builds daily buckets from entries and writes CSV with exact decimals', () => {
    const e = (id: string, at: string, cost: string) => ({ workloadId: id, project: 'p', tenant: 't', connections: ['local'], billedMs: 1, cost: usd(cost), committedAt: at, seq: 1 });
    const days = dailyFromEntries([e('a', '2026-09-01T23:59:59Z', '0.10'), e('b', '2026-09-01T00:00:00Z', '0.05'), e('c', '2026-09-02T00:00:00Z', '1')]);
    assert.deepEqual(days.map((d) => [d.day, exactDecimal(d.cost), d.count]), [['2026-09-01', '0.15', 2], ['2026-09-02', '1.00', 1]]);
    assert.equal(toCsv(rollUp('project:a,b', days, 'day')), 'scope,period,start,cost,currency,workloads\n"project:a,b",2026-09-01,2026-09-01,0.15,USD,2\n"project:a,b",2026-09-02,2026-09-02,1.00,USD,1\n');
  });

  it('parses --since as a date, an ISO time or a span back from now', () => {
    const now = Date.parse('2026-09-14T12:00:00Z');
    assert.equal(sinceDay('2026-09-01', now), '2026-09-01');
    assert.equal(sinceDay('2026-09-03T22:00:00Z', now), '2026-09-03');
    assert.equal(sinceDay('7d', now), '2026-09-07');
    assert.equal(sinceDay('36h', now), '2026-09-13');
    assert.throws(() => sinceDay('last tuesday', now), /--since must be a span such as 7d, 12h or 30m, or a date such as 2026-09-01 .*\(got "last tuesday"\)/);
  });
});
