/**
 * A provider connection's spending cap (connections.yaml `spendingCap`): a hard ceiling that makes
 * placement fail over to other connections, or fails the workload when no connection can take it;
 * and the connection's billing granularity (`billing`) applied to what the workload is charged.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { exactDecimal } from '../../../src/money/billing.js';
import { startTestEnv, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;
before(async () => {
  env = await startTestEnv({
    // A second connection to the same local cloud, with a 0.50/day ceiling and per-minute billing
    // with a one-minute minimum.
    extraConnections: ({ dir, cloud }) => [
      {
        kind: 'local',
        name: 'capped',
        url: cloud.url,
        tokenFile: join(dir, 'token'),
        spendingCap: { amount: '0.50', currency: 'USD', period: 'day', alerts: [] },
        billing: { granularity: 'minute', minimumSeconds: 60 },
      },
    ],
  });
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

const L4 = { classes: ['L4'] };

it('bills by the connection’s granularity and counts against its spending cap', async () => {
  // 0.80/h for 30 min = 0.40 fits the 0.50 ceiling; the job's seconds are billed as one minute.
  const wl = await env.client.launch({ name: 'per-minute', command: 'sleep 1', gpu: L4, placement: { providers: { allow: ['capped'] } }, lifecycle: { maxDuration: '30m' } });
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.offer?.connection, 'capped');
  assert.equal(r.billedMs, 60_000, 'a few seconds are billed as the one-minute minimum');
  assert.equal(exactDecimal(r.cost), '0.01333334', '0.80/h × 1 min, rounded up to 10^-8');
  const st = (await env.client.budgets.status({ connection: 'capped' }))!;
  assert.equal(st.config?.source, 'connections');
  assert.equal(st.config?.period, 'day');
  assert.equal(exactDecimal(st.committed), '0.01333334');
  assert.equal(exactDecimal(st.left!), '0.48666666');
});

it('fails over to another connection when a connection’s spending cap refuses the reservation', async () => {
  // 0.80/h for 1 h = 0.80 does not fit what is left of capped's 0.50/day; equal prices, capped preferred.
  const wl = await env.client.launch({ name: 'failover', command: 'true', gpu: L4, placement: { providers: { prefer: ['capped'] } }, lifecycle: { maxDuration: '1h' } });
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.attempts[0]!.connection, 'capped');
  assert.equal(r.attempts[0]!.outcome, 'failed-over');
  assert.match(r.attempts[0]!.reason ?? '', /^SpendingCapReached: budget connection:capped exceeded: reserving 0\.80 USD .* over its 0\.50 USD cap .*; left: 0\.48666666 USD$/);
  assert.equal(r.offer?.connection, 'local');
  const st = (await env.client.budgets.status({ connection: 'capped' }))!;
  assert.equal(st.holds.length, 0, 'the refused reservation holds nothing');
});

it('fails clearly, without provisioning, when every matching offer is on a capped-out connection', async () => {
  const before = (await env.admin.stats()).createRequests;
  const wl = await env.client.launch({ name: 'nowhere', command: 'true', gpu: L4, placement: { providers: { allow: ['capped'] } }, lifecycle: { maxDuration: '1h' } });
  await assert.rejects(wl.result(), (e: Error) => {
    const msg = (e as { cause?: Error }).cause?.message ?? '';
    assert.match(msg, /^every matching offer is on a connection whose spending cap is reached: budget connection:capped exceeded: .*left: 0\.48666666 USD$/);
    return true;
  });
  assert.equal((await env.admin.stats()).createRequests, before, 'nothing was created');
  const st = await wl.status();
  assert.equal(st.outcome, 'failed');
});
