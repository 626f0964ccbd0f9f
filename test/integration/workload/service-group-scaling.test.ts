/**
 * Service group scaling on the real dev server and the local cloud: by load (requests in flight
 * per replica from the group's proxy, with cool-down) under a time-bounded HTTP load generator,
 * and by schedule (a Temporal Schedule from service.scale, triggered now), with no failed request.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { freePort, freeRange, groupSpec, healthyActive, loadGenerator, waitForMembers } from '../../helpers/serviceGroup.js';
import { startTestEnv, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

it('scales by load: requests in flight per replica up to 4, and back to 1 after the cool-down', { timeout: 240_000 }, async (t) => {
  const port = await freeRange(8);
  const endpointPort = await freePort();
  const group = await env.client.launchServiceGroup(groupSpec('svc-load', port, endpointPort, { autoscale: { targetInFlight: 3, window: '2s', cooldown: '6s' } }));
  await waitForMembers(group, 'one healthy replica', (s) => healthyActive(s) === 1 && !!s.endpoint);
  // 12 requests in flight, 400 ms each: 12 / 3 = 4 replicas wanted.
  const load = loadGenerator(`http://127.0.0.1:${endpointPort}/?ms=400`, 12, 120_000);
  let startedAt = Date.now();
  const up = await waitForMembers(group, 'scaled up by load to four healthy replicas', (s) => healthyActive(s) === 4, 90_000);
  t.diagnostic(`load 12 in flight: 4 replicas healthy ${Date.now() - startedAt} ms after the load began`);
  assert.equal(up.scaleEvents.filter((e) => e.by === 'load').at(-1)?.to, 4);
  const stats = await load.stop();
  assert.equal(stats.failed, 0, `failed requests: ${stats.errors.slice(0, 5).join('; ')}`);
  startedAt = Date.now();
  const down = await waitForMembers(group, 'back to one replica once idle', (s) => s.members.length === 1, 90_000);
  t.diagnostic(`idle: back to 1 replica in ${Date.now() - startedAt} ms (cool-down 6 s)`);
  t.diagnostic(`scale events: ${down.scaleEvents.map((e) => `${e.by} ${e.from}→${e.to}`).join(', ')}`);
  const last = down.scaleEvents.at(-1)!;
  assert.deepEqual([last.by, last.to], ['load', 1]);
  await group.stop('test');
  await group.result();
});

it('scales by schedule: a Temporal Schedule bursts the group to 3 for its duration, then it drains back to 1', { timeout: 180_000 }, async (t) => {
  const port = await freeRange(8);
  const endpointPort = await freePort();
  // A cron time far away: the test triggers the schedule now, as the Schedule would at its time.
  const group = await env.client.launchServiceGroup(groupSpec('svc-sched', port, endpointPort, { scale: [{ at: '0 0 1 1 *', replicas: 3, for: '40s' }] }));
  await waitForMembers(group, 'one healthy replica', (s) => healthyActive(s) === 1);
  const schedule = env.client.temporal.schedule.getHandle(`${group.groupId}-scale-0`);
  const described = await schedule.describe();
  assert.deepEqual(described.spec.calendars?.length, 1, 'the cron entry is the schedule\'s calendar');
  const load = loadGenerator(`http://127.0.0.1:${endpointPort}/?ms=20`, 4, 120_000);
  let startedAt = Date.now();
  await schedule.trigger();
  const three = await waitForMembers(group, 'three healthy replicas during the burst', (s) => healthyActive(s) === 3, 60_000);
  assert.ok(three.burst, 'still within the burst');
  t.diagnostic(`schedule burst: 3 replicas healthy in ${Date.now() - startedAt} ms`);
  assert.equal(three.burst!.replicas, 3);
  startedAt = Date.now();
  const back = await waitForMembers(group, 'back to one replica after the burst', (s) => s.members.length === 1 && !s.burst, 90_000);
  t.diagnostic(`burst over: back to 1 replica ${Date.now() - startedAt} ms after it peaked`);
  assert.deepEqual(back.scaleEvents.map((e) => [e.by, e.to]), [['start', 1], ['schedule', 3], ['schedule-end', 1]]);
  const stats = await load.stop();
  assert.equal(stats.failed, 0, `failed requests: ${stats.errors.slice(0, 5).join('; ')}`);
  await group.stop('test');
  await group.result();
  await assert.rejects(schedule.describe(), 'the schedule is deleted with the group');
});
