/**
 * Provider 503 storms at the two stages provider-outage.test.ts does not cover: during terminate,
 * and on every route of the provider's API while the job runs (the instance watcher's reads, the
 * terminate). The workload must complete with one instance and none left running; a storm on
 * reads is not an instance lost. `npm run bench:storms` runs the same scenarios (and the create
 * storm) at the bar of 2 minutes each.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

const STORM_MS = 15_000;
let env: TestEnv;
before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

it('completes after a 503 storm on terminate: one instance, terminated after the storm', { timeout: 120_000 }, async () => {
  const before = (await env.admin.stats()).createsAccepted;
  const wl = await env.client.launch({ name: 'terminate-storm', command: 'sleep 3', gpu: { classes: ['L4'] } });
  await waitFor('running', async () => (await wl.status()).state === 'running', 60_000, 100);
  await env.admin.setFaults({ unavailable: { forMs: STORM_MS, methods: ['DELETE'], paths: ['/v1/instances'], retryAfterSeconds: 2 } });
  const stormEnds = Date.now() + STORM_MS;
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.ok(Date.now() >= stormEnds - 1_000, 'the terminate could only go through after the storm');
  const stats = await env.admin.stats();
  assert.equal(stats.createsAccepted - before, 1, 'exactly one instance');
  assert.equal(stats.running, 0, 'none left running');
});

it('completes after a 503 storm on every route while the job runs: not taken for a lost instance', { timeout: 120_000 }, async () => {
  const before = (await env.admin.stats()).createsAccepted;
  const wl = await env.client.launch({ name: 'all-routes-storm', command: `sleep ${STORM_MS / 1000 + 5}`, gpu: { classes: ['L4'] } });
  await waitFor('running', async () => (await wl.status()).state === 'running', 60_000, 100);
  await env.admin.setFaults({ unavailable: { forMs: STORM_MS, retryAfterSeconds: 2 } });
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.attempts.length, 1, 'no re-placement: the storm is not a lost instance');
  const stats = await env.admin.stats();
  assert.equal(stats.createsAccepted - before, 1, 'exactly one instance');
  assert.equal(stats.running, 0, 'none left running');
});
