/**
 * The budget entity workflow on a real Temporal dev server: concurrent reservations against a cap,
 * idempotent updates, soft alerts (once per period and threshold, POSTed to a webhook), invalid
 * amounts and currencies, orphaned holds, and the `gpuflow budget` / `gpuflow cost` CLI.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { BudgetClient } from '../../../src/budget/client.js';
import { InvalidBudgetError } from '../../../src/budget/config.js';
import { nodeEntryArgs } from '../../../src/cli/nodeEntry.js';
import { exactDecimal, ledgerJSON, parseAmount } from '../../../src/money/billing.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;
let budgets: BudgetClient;
let hooks: Server;
let hookUrl: string;
const posted: Record<string, unknown>[] = [];

const usd = (d: string) => ledgerJSON(parseAmount('amount', d, 'USD', { allowZero: true }));

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
  budgets = new BudgetClient(env.client.temporal, env.temporal.taskQueue);
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posted.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  hooks.listen(0, '127.0.0.1');
  await once(hooks, 'listening');
  hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/budget-alerts`;
});
after(async () => {
  hooks?.close();
  await env?.teardown();
});

describe('budget entity', () => {
  it('admits exactly what fits when 200 reservations race for a cap that fits 37', async () => {
    await env.client.budgets.set({ project: 'race' }, { cap: '37.00', alerts: [] });
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => budgets.reserve('project:race', { workloadId: `race-${i}`, seq: 1, amount: usd('1.00'), declared: true })),
    );
    const granted = outcomes.filter((o) => o.ok);
    const refused = outcomes.filter((o) => !o.ok);
    assert.equal(granted.length, 37);
    assert.equal(refused.length, 163);
    for (const r of refused) {
      assert.ok(!r.ok);
      assert.match(r.refusal.message, /^budget project:race exceeded: reserving 1\.00 USD would bring this month's spend to .* over its 37\.00 USD cap .*; left: 0\.00 USD$/);
    }
    const st = (await env.client.budgets.status({ project: 'race' }))!;
    assert.equal(exactDecimal(st.reserved), '37.00');
    assert.equal(exactDecimal(st.left!), '0.00');
    // Finished workloads commit what they actually spent, releasing their holds.
    const grantedIds = outcomes.flatMap((o, i) => (o.ok ? [`race-${i}`] : []));
    await Promise.all(
      grantedIds.map((id) =>
        budgets.commit('project:race', { workloadId: id, seq: 2, cost: usd('0.50'), entry: { workloadId: id, project: 'race', tenant: 'default', connections: ['local'], billedMs: 1000 } }),
      ),
    );
    const after = (await env.client.budgets.status({ project: 'race' }))!;
    assert.equal(exactDecimal(after.committed), '18.50');
    assert.equal(exactDecimal(after.reserved), '0.00');
    assert.equal(exactDecimal(after.left!), '18.50');
    assert.equal(after.workloadsThisPeriod, 37);
  });

  it('is idempotent: the same (workload, seq) under new update IDs, and a repeated commit, count once', async () => {
    const key = 'project:idem';
    const a = await budgets.reserve(key, { workloadId: 'w1', seq: 1, amount: usd('2.00'), declared: true }, 'first-try');
    const b = await budgets.reserve(key, { workloadId: 'w1', seq: 1, amount: usd('2.00'), declared: true }, 'retry-after-crash');
    assert.ok(a.ok && b.ok);
    assert.equal(b.result.duplicate, true);
    await budgets.commit(key, { workloadId: 'w1', seq: 2, cost: usd('1.25') }, 'c1');
    await budgets.commit(key, { workloadId: 'w1', seq: 2, cost: usd('1.25') }, 'c2');
    const late = await budgets.reserve(key, { workloadId: 'w1', seq: 1, amount: usd('2.00'), declared: true }, 'zombie-attempt');
    assert.ok(late.ok && late.result.duplicate);
    const st = (await budgets.status(key))!;
    assert.equal(exactDecimal(st.committed), '1.25');
    assert.equal(st.holds.length, 0);
    assert.deepEqual(st.counters, { reserves: 1, commits: 1 });
  });

  it('fires each soft alert once per period and threshold, logged, in status, and POSTed to the webhook', async () => {
    await env.client.budgets.set({ tenant: 'alerted' }, { cap: '10.00', alerts: [50, 80], webhookUrl: hookUrl, onCap: 'finish' });
    const key = 'tenant:alerted';
    const commit = (id: string, cost: string) => budgets.commit(key, { workloadId: id, seq: 1, cost: usd(cost) });
    assert.deepEqual((await commit('a', '4.00')).alerts, []);
    assert.deepEqual((await commit('b', '1.00')).alerts.map((x) => x.threshold), [50]);
    assert.deepEqual((await commit('c', '0.50')).alerts, []);
    assert.deepEqual((await commit('d', '3.00')).alerts.map((x) => x.threshold), [80]);
    assert.deepEqual((await commit('e', '5.00')).alerts, [], 'over the cap: nothing fires twice');
    await waitFor('both webhooks delivered', async () => {
      const st = await budgets.status(key);
      return st?.alerts.every((a) => a.webhook === 'sent') && st.alerts.length === 2;
    }, 30_000);
    const mine = posted.filter((p) => p.budget === key);
    assert.deepEqual(mine.map((p) => p.threshold), [50, 80]);
    assert.equal(mine[0]!.spend, '5.00');
    assert.equal(mine[0]!.cap, '10.00');
    assert.match(String(mine[1]!.message), /budget tenant:alerted reached 80% of its 10\.00 USD cap for \d{4}-\d{2} \(spent 8\.50 USD\)/);
    const st = (await budgets.status(key))!;
    assert.equal(st.usedPercent, 135);
    assert.equal(exactDecimal(st.left!), '-3.50', 'policy "finish" lets running work overrun; new work is refused');
  });

  it('refuses invalid amounts and currencies with clear errors', async () => {
    await assert.rejects(env.client.budgets.set({ project: 'bad' }, { cap: '-5' }), (e: Error) => e instanceof InvalidBudgetError && /cap must not be negative/.test(e.message));
    await assert.rejects(env.client.budgets.set({ project: 'bad' }, { cap: 12.75 }), /floating-point numbers are not accepted/);
    await assert.rejects(env.client.budgets.set({ project: 'bad' }, { cap: '10', currency: 'JPY' }), /unsupported currency "JPY": use one of USD, EUR, GBP/);
    await assert.rejects(env.client.budgets.set({ connection: 'local' }, { cap: '5.00' }), /set in connections\.yaml/);
    await env.client.budgets.set({ project: 'usd-only' }, { cap: '10.00' });
    const eur = await budgets.reserve('project:usd-only', { workloadId: 'x', seq: 1, amount: ledgerJSON(parseAmount('a', '1.00', 'EUR')), declared: true });
    assert.ok(!eur.ok);
    assert.equal(eur.refusal.kind, 'invalid');
    assert.match(eur.refusal.message, /^no exchange rate EUR→USD: budget project:usd-only is kept in USD and has no rate table; add \{ from: EUR, to: USD, .*--rates <file>\); gpuflow never converts currencies silently$/);
    await budgets.commit('project:usd-only', { workloadId: 'y', seq: 1, cost: usd('1.00') });
    await assert.rejects(env.client.budgets.set({ project: 'usd-only' }, { cap: '10.00', currency: 'EUR' }), /has spend recorded in USD; a cap in EUR cannot be compared/);
    const bad = await budgets.reserve('project:usd-only', { workloadId: 'z', seq: 1, amount: { amount: -100, currency: 'USD', scale: 2 }, declared: true });
    assert.ok(!bad.ok);
    assert.match(bad.refusal.message, /amount must not be negative/);
  });

  it('accepts EUR spend in a USD budget only through its dated rate table, recording each conversion', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const eur = (d: string) => ledgerJSON(parseAmount('amount', d, 'EUR'));
    await env.client.budgets.set({ project: 'fx' }, { cap: '10.00', rates: { source: 'ECB euro reference rates', rates: [{ from: 'EUR', to: 'USD', rate: '1.0832', date: today }] } });
    const held = await budgets.reserve('project:fx', { workloadId: 'fx-1', seq: 1, amount: eur('5.00'), declared: true, what: '5.00 EUR/h for 1h on eu' });
    assert.ok(held.ok);
    assert.equal(exactDecimal(held.result.granted), '5.416');
    assert.deepEqual(held.result.grantedAs, eur('5.00'));
    const st = (await env.client.budgets.status({ project: 'fx' }))!;
    assert.equal(exactDecimal(st.reserved), '5.416');
    const gbp = await budgets.reserve('project:fx', { workloadId: 'fx-2', seq: 1, amount: ledgerJSON(parseAmount('a', '1.00', 'GBP')), declared: true });
    assert.ok(!gbp.ok);
    assert.match(gbp.refusal.message, new RegExp(`^no exchange rate GBP→USD dated on or before ${today} in the rate table of budget project:fx; add \\{ from: GBP, to: USD`));
    await budgets.commit('project:fx', { workloadId: 'fx-1', seq: 2, cost: eur('2.00'), entry: { workloadId: 'fx-1', project: 'fx', tenant: 't', connections: ['eu'], billedMs: 3_600_000 } });
    await assert.rejects(budgets.commit('project:fx', { workloadId: 'fx-3', seq: 1, cost: ledgerJSON(parseAmount('a', '1.00', 'GBP')) }), (e: Error & { cause?: Error }) =>
      /^no exchange rate GBP→USD dated on or before/.test(String(e.cause?.message)),
    );
    const view = (await budgets.ledger('project:fx', { entries: true }))!;
    const entry = view.entries!.find((e) => e.workloadId === 'fx-1')!;
    assert.equal(exactDecimal(entry.cost), '2.1664');
    assert.deepEqual(entry.conversion, { from: 'EUR', to: 'USD', rate: '1.0832', date: today, source: 'ECB euro reference rates', original: eur('2.00') });
    assert.equal(exactDecimal((await env.client.budgets.status({ project: 'fx' }))!.committed), '2.1664');
  });

  it('releases holds of workloads that ended without settling', async () => {
    await budgets.reserve('project:orphans', { workloadId: 'never-existed', seq: 1, amount: usd('3.00'), declared: true });
    const r = await env.client.budgets.reconcile({ project: 'orphans' });
    assert.deepEqual(r.released, ['never-existed']);
    const st = (await env.client.budgets.status({ project: 'orphans' }))!;
    assert.equal(st.holds.length, 0);
    assert.equal(st.orphansReleased, 1);
  });
});

describe('gpuflow budget / gpuflow cost', () => {
  const run = promisify(execFile);
  const cli = (...args: string[]) => run(process.execPath, [...nodeEntryArgs('cli/main'), ...args], { env: env.childEnv, timeout: 60_000 });

  it('sets, shows and lists budgets, and reports costs as a table, JSON and CSV', async () => {
    const set = await cli('budget', 'set', '--project', 'cli', '--cap', '25.00', '--period', 'week', '--alerts', '50,90', '--on-cap', 'finish');
    assert.match(set.stdout, /cap\s+25\.00 USD per week \(running workloads finish; new work is refused\)/);
    await budgets.commit('project:cli', { workloadId: 'cli-1', seq: 1, cost: usd('1.23456789'), entry: { workloadId: 'cli-1', project: 'cli', tenant: 't1', connections: ['local'], billedMs: 60_000 } });
    await budgets.commit('project:cli', { workloadId: 'cli-2', seq: 1, cost: usd('0.5'), entry: { workloadId: 'cli-2', project: 'cli', tenant: 't2', connections: ['local'], billedMs: 60_000 } });
    const status = await cli('budget', 'status', '--project', 'cli');
    assert.match(status.stdout, /committed\s+1\.73456789 USD \(2 workload\(s\) this period\)/);
    assert.match(status.stdout, /left\s+23\.26543211 USD/);
    const json = JSON.parse((await cli('cost', '--project', 'cli', '--by', 'month', '--json')).stdout) as { rows: { cost: { amount: number; scale: number }; workloads: number }[] };
    assert.equal(json.rows.length, 1);
    assert.deepEqual(json.rows[0]!.cost, { amount: 173456789, currency: 'USD', scale: 8 });
    assert.equal(json.rows[0]!.workloads, 2);
    const csv = (await cli('cost', '--project', 'cli', '--tenant', 't1', '--csv')).stdout.trim().split('\n');
    assert.equal(csv[0], 'scope,period,start,cost,currency,workloads');
    assert.match(csv[1]!, /^project:cli\/tenant:t1,\d{4}-\d{2}-\d{2},\d{4}-\d{2}-\d{2},1\.23456789,USD,1$/);
    const table = (await cli('cost', '--by', 'week')).stdout;
    assert.match(table, /project:cli\s+\d{4}-W\d{2}\s+1\.73456789 USD\s+2/);
    await waitFor('budget list shows the budget', async () => (await cli('budget', 'list')).stdout.includes('project:cli'), 20_000, 500);
    const list = (await cli('budget', 'list')).stdout;
    assert.match(list, /project:cli\s+\d{4}-W\d{2}\s+25\.00 USD\s+1\.73456789 USD\s+0\.00 USD\s+23\.26543211 USD\s+6%\s+finish/);
    const bad = await cli('budget', 'set', '--project', 'cli', '--cap', 'lots').catch((e: { code: number; stderr: string }) => e);
    assert.equal((bad as { code: number }).code, 1);
    assert.match((bad as { stderr: string }).stderr, /invalid budget:\n {2}- cap: cap must be a decimal amount such as "100\.00" \(got "lots"\)/);
  });
});
