/**
 * 50 concurrent launches against a project cap that fits 10 reservations: exactly 10 provision,
 * 40 fail with "budget … exceeded … left", spend never exceeds the cap, and the ledger equals the
 * workloads' own results to the last 10^-8.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exactDecimal, ledgerSum } from '../../../src/money/billing.js';
import { fromJSON, lessThanOrEqual, toJSON } from '../../../src/money/money.js';
import type { WorkloadResult } from '../../../src/workflows/messages.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;
before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

it('50 concurrent launches against a cap that fits 10: at most 10 provision and spend never exceeds the cap', async () => {
  // L4 at 0.80/h, billed per second, reserved for its 12 min maxDuration: 0.16 each; 10 fit in 1.60.
  await env.client.budgets.set({ project: 'fifty' }, { cap: '1.60', period: 'month', alerts: [] });
  const release = join(env.dir, 'release-jobs');
  const createsBefore = (await env.admin.stats()).createsAccepted;
  const handles = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      env.client.launch({
        name: `fifty-${i}`,
        // Jobs hold until every launch is decided, so no early commit frees budget for a late one.
        command: `while [ ! -e '${release}' ]; do sleep 0.2; done; echo done`,
        gpu: { classes: ['L4'] },
        project: 'fifty',
        lifecycle: { maxDuration: '12m' },
      }),
    ),
  );
  const results = handles.map((h) => h.result().then((r): WorkloadResult | Error => r, (e: Error) => e));
  const settled: (WorkloadResult | Error | undefined)[] = Array(50).fill(undefined);
  results.forEach((p, i) => void p.then((r) => (settled[i] = r)));

  const refused = await waitFor('40 launches refused', async () => {
    const errs = settled.filter((r): r is Error => r instanceof Error);
    return errs.length >= 40 ? errs : undefined;
  }, 90_000, 250);
  assert.equal(refused.length, 40);
  for (const e of refused) {
    const msg = (e as { cause?: Error }).cause?.message ?? e.message;
    assert.match(msg, /^budget project:fifty exceeded: reserving 0\.16 USD \(0\.80 USD\/h for 12m on local\) would bring this month's spend to 1\.76 USD, over its 1\.60 USD cap \(committed 0\.00 USD, reserved by other workloads 1\.60 USD\); left: 0\.00 USD$/);
  }
  const during = (await env.client.budgets.status({ project: 'fifty' }))!;
  assert.equal(during.holds.length, 10);
  assert.equal(exactDecimal(during.reserved), '1.60');
  assert.equal(exactDecimal(during.left!), '0.00');
  assert.equal((await env.admin.stats()).createsAccepted - createsBefore, 10, 'exactly 10 instances were created');
  const runningOne = handles[settled.findIndex((r) => r === undefined)]!;
  const st = await runningOne.status();
  assert.deepEqual(st.budgets?.find((b) => b.key === 'project:fifty')?.reserved, { amount: 16_000_000, currency: 'USD', scale: 8 });

  writeFileSync(release, '');
  const all = await Promise.all(results);
  const ok = all.filter((r): r is WorkloadResult => !(r instanceof Error));
  assert.equal(ok.length, 10);
  assert.ok(ok.every((r) => r.outcome === 'succeeded'));

  const final = (await env.client.budgets.status({ project: 'fifty' }))!;
  const spent = ledgerSum(ok.map((r) => r.cost));
  assert.equal(exactDecimal(final.committed), exactDecimal(spent), 'the ledger is exactly the sum of the workloads’ costs');
  assert.ok(lessThanOrEqual(fromJSON(final.committed), fromJSON(final.config!.cap)), `spend ${exactDecimal(final.committed)} <= cap`);
  assert.equal(final.holds.length, 0, 'every hold was released');
  assert.equal(final.workloadsThisPeriod, 10);
  const ledger = (await env.client.budgets.ledger({ project: 'fifty' }, { entries: true }))!;
  assert.deepEqual(ledger.entries!.map((e) => e.workloadId).sort(), ok.map((r) => r.workloadId).sort());
  for (const r of ok) assert.deepEqual(ledger.entries!.find((e) => e.workloadId === r.workloadId)!.cost, toJSON(fromJSON(r.cost)));
  const tenant = (await env.client.budgets.status({ tenant: 'default' }))!;
  assert.equal(exactDecimal(tenant.committed), exactDecimal(spent), 'the tenant ledger agrees');
  assert.equal(tenant.holds.length, 0, 'refused workloads released their other holds');
  assert.equal((await env.admin.stats()).running, 0);
});
