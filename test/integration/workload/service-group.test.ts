/**
 * Service groups on the real dev server and the local cloud's real sshd instances: replicas as
 * child workload workflows behind one endpoint (the group's http-proxy-3 proxy on the worker),
 * scaled 1 → 4 → 1 by an update and by load from a time-bounded HTTP load generator (undici's
 * fetch), drained before each stop, and a preempted replica replaced, with every request counted.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { freePort, freeRange, groupSpec, healthyActive, loadGenerator, waitForMembers } from '../../helpers/serviceGroup.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

it('scales 1 → 4 → 1 by update under load, recovers a lost replica, replaces an ended one, and fails no request', { timeout: 240_000 }, async (t) => {
  const port = await freeRange(8);
  const endpointPort = await freePort();
  const group = await env.client.launchServiceGroup(groupSpec('svc-group', port, endpointPort));
  const one = await waitForMembers(group, 'one healthy replica', (s) => healthyActive(s) === 1 && !!s.endpoint);
  assert.equal(one.endpoint, `127.0.0.1:${endpointPort}`);
  assert.equal(one.members[0]!.onDemand, true, 'the first replica holds the on-demand floor');
  const url = `http://127.0.0.1:${endpointPort}/?ms=20`;
  assert.match(await (await fetch(url)).text(), /^hello from svc-group/);

  const load = loadGenerator(url, 6, 180_000);
  let startedAt = Date.now();
  assert.equal(await group.scale(4, 'test: burst'), 4);
  const four = await waitForMembers(group, 'four healthy replicas', (s) => healthyActive(s) === 4);
  t.diagnostic(`1 → 4 replicas healthy in ${Date.now() - startedAt} ms`);
  assert.deepEqual(four.members.map((m) => m.slot).sort(), [0, 1, 2, 3]);
  assert.equal(four.members.filter((m) => m.onDemand).length, 1, 'one on-demand replica (onDemandMin 1), the rest prefer spot');
  // Every replica takes traffic through the one endpoint.
  const seen = new Set(load.stats.byReplica.keys());
  await waitFor('traffic on all four replicas', async () => {
    for (const k of load.stats.byReplica.keys()) seen.add(k);
    return [...seen].filter((k) => four.members.some((m) => m.workloadId === k)).length === 4 || undefined;
  }, 20_000);

  // Lose one replica's instance (a host failure: the catalog's L4s are on-demand, so no spot
  // preemption here): its requests in flight are retried on others, its workload recovers.
  const victim = four.members.find((m) => !m.onDemand)!;
  const victimStatus = await env.client.handle(victim.workloadId).status();
  const failedBefore = load.stats.failed;
  await env.admin.failHost(victimStatus.instance!.cloudId, 'host failed');
  startedAt = Date.now();
  const recovered = await waitForMembers(group, 'the lost replica healthy again on a new instance', (s) => healthyActive(s) === 4 && s.members.every((m) => m.healthy), 90_000);
  const victimNow = await env.client.handle(victim.workloadId).status().catch(() => undefined);
  t.diagnostic(`lost replica back in ${Date.now() - startedAt} ms (${victimNow ? `attempts ${victimNow.attempts.length}` : 'replaced by a new replica'}); replaced ${recovered.replaced}`);
  assert.ok(victimNow ? victimNow.attempts.some((a) => a.outcome === 'interrupted') : recovered.replaced >= 1, 'the lost instance was replaced');
  assert.equal(load.stats.failed, failedBefore, `no request failed during the preemption: ${load.stats.errors.slice(0, 5).join('; ')}`);

  // A replica whose workload ends unasked (stopped from outside the group) is replaced in its slot.
  const gone = recovered.members.find((m) => !m.onDemand && m.workloadId !== victim.workloadId)!;
  await env.client.handle(gone.workloadId).stop('test: ended outside the group');
  const refilled = await waitForMembers(group, 'a replacement replica healthy in the same slot', (s) => healthyActive(s) === 4 && s.members.some((m) => m.replaces === gone.workloadId && m.healthy), 90_000);
  assert.equal(refilled.replaced, 1);
  assert.equal(refilled.members.find((m) => m.replaces === gone.workloadId)!.slot, gone.slot);
  assert.equal(load.stats.failed, failedBefore, `no request failed while the replica was replaced: ${load.stats.errors.slice(0, 5).join('; ')}`);

  // Scale down under load: three replicas drain (out of the pool, requests finished) before they
  // stop. Slow requests in flight on them when the scale-down starts are answered by them, on the
  // first try: drained, not rescued by the proxy's retry.
  const retriedBefore = load.stats.retried;
  const slow = Array.from({ length: 8 }, () => fetch(`http://127.0.0.1:${endpointPort}/?ms=2000`).then(async (res) => ({ status: res.status, replica: res.headers.get('x-gpuflow-replica'), tries: res.headers.get('x-gpuflow-tries'), body: await res.text() })));
  await new Promise((r) => setTimeout(r, 300));
  startedAt = Date.now();
  assert.equal(await group.scale(1, 'test: burst over'), 1);
  const back = await waitForMembers(group, 'back to one replica', (s) => s.members.length === 1 && healthyActive(s) === 1, 90_000);
  t.diagnostic(`4 → 1 drained and stopped in ${Date.now() - startedAt} ms`);
  const slowDone = await Promise.all(slow);
  assert.deepEqual(slowDone.map((x) => [x.status, x.tries]), slowDone.map(() => [200, '1']), 'every slow request answered on its first try');
  const drainedAnswered = new Set(slowDone.map((x) => x.replica).filter((r) => r !== back.members[0]!.workloadId));
  assert.ok(drainedAnswered.size >= 2, `slow requests were in flight on the replicas drained (${[...drainedAnswered].join(', ')})`);
  for (const x of slowDone) assert.equal(x.body, `hello from ${x.replica}`);
  assert.equal(load.stats.retried, retriedBefore, 'no request needed a retry during the scale-down');
  const stats = await load.stop();
  t.diagnostic(`load: ${stats.ok} ok (${stats.retried} on a second try, while a replica was lost or replaced), ${stats.failed} failed`);
  assert.equal(stats.failed, 0, `failed requests: ${stats.errors.slice(0, 5).join('; ')}`);
  assert.ok(stats.ok > 100, `enough traffic to mean something (${stats.ok})`);
  assert.deepEqual(back.scaleEvents.map((e) => [e.by, e.from, e.to]), [['start', 0, 1], ['manual', 1, 4], ['manual', 4, 1]]);

  await group.stop('test');
  const r = await group.result();
  assert.ok(r.replicasStarted >= 4);
  await assert.rejects(fetch(url), 'the endpoint is gone with the group');
});

it('refuses a bad group spec with the field and the fix', async () => {
  await assert.rejects(
    env.client.launchServiceGroup({ name: 'bad', command: 'true', gpu: { classes: ['L4'] }, lifecycle: { kind: 'service' }, ports: [{ port: 80 }], service: { replicas: { min: 3, max: 2 } } }),
    (e: Error) => /service\.replicas: service\.replicas\.min must be <= service\.replicas\.max/.test(e.message) && /service\.endpoint/.test(e.message),
  );
  await assert.rejects(
    env.client.launch({ name: 'bad', command: 'true', gpu: { classes: ['L4'] }, lifecycle: { kind: 'service' }, ports: [{ port: 80 }], service: { onDemandMin: 1 } }),
    /service\.onDemandMin: service\.onDemandMin needs service\.replicas/,
  );
});
