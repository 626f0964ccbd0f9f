/**
 * Running workloads and hard caps. A workload that outruns its reservation must top it up; when the
 * budget cannot cover it, the budget's policy decides: "stop" stops it gracefully before the cap is
 * passed, "finish" lets it finish and refuses new work.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { exactDecimal } from '../../../src/money/billing.js';
import { fromJSON, greaterThan, lessThanOrEqual } from '../../../src/money/money.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { TEST_CATALOG } from '../../helpers/testCatalog.js';

let env: TestEnv;
before(async () => {
  // 360.00/h = 0.10 per second: seconds of runtime are visible money.
  env = await startTestEnv({
    catalog: {
      ...TEST_CATALOG,
      instanceTypes: [
        ...TEST_CATALOG.instanceTypes,
        { type: 'gpu_1x_a100_pricey', gpuDescription: '1x A100 (80 GB SXM4)', vcpu: 16, memoryGiB: 120, diskGiB: 500, pricePerHour: '360.00', capacity: { 'us-east': 20 } },
      ],
    },
  });
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

const pricey = (name: string, project: string, command: string) => ({
  name,
  command,
  gpu: { classes: ['A100'] },
  project,
  // Reserves 5 s (0.50); running longer needs top-ups.
  budget: { estimate: '5s' },
});

it('policy "stop": a running workload the budget cannot cover is stopped gracefully, within the cap', async () => {
  await env.client.budgets.set({ project: 'stopper' }, { cap: '1.00', onCap: 'stop', alerts: [] });
  const wl = await env.client.launch(pricey('stopper', 'stopper', 'sleep 300'));
  const r = await wl.result();
  assert.equal(r.outcome, 'budget-exceeded');
  assert.match(r.error ?? '', /^budget project:stopper exceeded: reserving .* over its 1\.00 USD cap .*; left: /);
  const cap = fromJSON({ amount: 100_000_000, currency: 'USD', scale: 8 });
  assert.ok(lessThanOrEqual(fromJSON(r.cost), cap), `cost ${exactDecimal(r.cost)} <= cap`);
  const st = (await env.client.budgets.status({ project: 'stopper' }))!;
  assert.equal(exactDecimal(st.committed), exactDecimal(r.cost));
  assert.ok(lessThanOrEqual(fromJSON(st.committed), cap), 'spend never exceeds the cap');
  assert.equal(st.holds.length, 0);
  assert.equal((await wl.status()).outcome, 'budget-exceeded');
  assert.equal((await env.admin.stats()).running, 0, 'the instance was terminated');
});

it('policy "finish": a running workload finishes past the cap, and new work is refused', async () => {
  await env.client.budgets.set({ project: 'finisher' }, { cap: '1.00', onCap: 'finish', alerts: [] });
  const wl = await env.client.launch(pricey('finisher', 'finisher', 'sleep 15; echo done'));
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded', 'the policy lets it finish');
  const st = (await env.client.budgets.status({ project: 'finisher' }))!;
  assert.equal(exactDecimal(st.committed), exactDecimal(r.cost));
  assert.ok(greaterThan(fromJSON(st.committed), fromJSON(st.config!.cap)), `it ran past the cap (${exactDecimal(st.committed)})`);
  assert.ok(st.left && exactDecimal(st.left).startsWith('-'));
  const next = await env.client.launch(pricey('after-cap', 'finisher', 'true'));
  await assert.rejects(next.result(), (e: Error) => /budget project:finisher exceeded: .*left: 0\.00 USD$/.test((e as { cause?: Error }).cause?.message ?? ''));
});

it('a cap lowered below what was already spent stops the budget’s running workloads (policy "stop", signalled by the budget)', async () => {
  await env.client.budgets.set({ project: 'lowered' }, { cap: '10.00', onCap: 'stop', alerts: [] });
  // A finished workload's 0.50 is already committed.
  await env.client.budgets.client.commit('project:lowered', { workloadId: 'earlier', seq: 1, cost: { amount: 50_000_000, currency: 'USD', scale: 8 } });
  const wl = await env.client.launch({ name: 'lowered', command: 'sleep 300', gpu: { classes: ['L4'] }, project: 'lowered', lifecycle: { maxDuration: '1h' } });
  await waitFor('job running', async () => (await wl.status()).state === 'running', 90_000, 250);
  await env.client.budgets.set({ project: 'lowered' }, { cap: '0.40', onCap: 'stop', alerts: [] });
  const r = await wl.result();
  assert.equal(r.outcome, 'budget-exceeded');
  assert.match(r.error ?? '', /^budget project:lowered reached its 0\.40 USD cap for \d{4}-\d{2} \(spent 0\.50 USD\): stopping \(policy: stop\)$/);
  assert.equal((await env.client.budgets.status({ project: 'lowered' }))!.holds.length, 0);
});
