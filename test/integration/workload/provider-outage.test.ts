/** A 60 s HTTP 503 storm during provisioning: the workflow retries durably and completes after it. */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;
before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

it('completes after a 60 s provider 503 storm on create', { timeout: 240_000 }, async () => {
  const stormMs = 60_000;
  await env.admin.setFaults({ unavailable: { forMs: stormMs, methods: ['POST'], paths: ['/v1/instances'], retryAfterSeconds: 5 } });
  const t0 = Date.now();
  const wl = await env.client.launch({ name: 'storm', command: 'echo after-the-storm', gpu: { classes: ['L4'] } });
  await waitFor('provisioning under the storm', async () => (await wl.status()).state === 'provisioning', 30_000);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.ok(Date.now() - t0 >= stormMs - 1_000, 'it could only finish after the storm');
  const stats = await env.admin.stats();
  assert.equal(stats.createsAccepted, 1, 'retries made exactly one instance');
  const history = await env.client.temporal.workflow.getHandle(wl.workloadId).fetchHistory();
  const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
  assert.ok(Math.max(...attempts) > 3, `create was retried durably (max attempt ${Math.max(...attempts)})`);
  assert.equal(stats.running, 0);
});

it('waits out a rate limit whose Retry-After is an HTTP-date, even one that has just passed', { timeout: 120_000 }, async () => {
  // Two 429s naming the storm's end as a date: the second comes in its last second, so the wait it
  // names is zero. A rate limit must never fail the workload.
  const stormMs = 6_000;
  const createsBefore = (await env.admin.stats()).createsAccepted;
  await env.admin.setFaults({ unavailable: { forMs: stormMs, times: 2, methods: ['POST'], paths: ['/v1/instances'], status: 429, retryAfterForm: 'date' } });
  const t0 = Date.now();
  const wl = await env.client.launch({ name: 'rate-limited', command: 'echo after-the-rate-limit', gpu: { classes: ['L4'] } });
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.ok(Date.now() - t0 >= stormMs - 1_500, `it waited as long as the provider asked (${Date.now() - t0} ms)`);
  const stats = await env.admin.stats();
  assert.equal(stats.createsAccepted - createsBefore, 1, 'exactly one instance');
  assert.equal(stats.running, 0);
});
