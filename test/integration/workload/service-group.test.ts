/**
 * Service groups on the real dev server and the local cloud's real sshd instances: replicas as
 * child workload workflows behind one endpoint (the group's http-proxy-3 proxy on the worker),
 * scaled 1 → 4 → 1 by an update and by load from a time-bounded HTTP load generator (undici's
 * fetch), drained before each stop, and a preempted replica replaced, with every request counted.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, it } from 'node:test';
import type { ServiceGroupHandle } from '../../../src/client/serviceGroups.js';
import type { ServiceGroupStatus } from '../../../src/workflows/serviceGroupMessages.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A base port with `n` free ports after it (one per replica slot: they share the local cloud's host). */
async function freeRange(n: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ok = await Promise.all(
      Array.from({ length: n }, (_, i) => new Promise<boolean>((resolve) => {
        const s = createServer();
        s.once('error', () => resolve(false));
        s.listen(base + i, '0.0.0.0', () => s.close(() => resolve(true)));
      })),
    );
    if (ok.every(Boolean)) return base;
  }
}

/** /health answers 200; any other path answers after ?ms= milliseconds with the replica's task ID. */
function serviceCommand(port: number): string {
  const js = `require('http').createServer((q, s) => { if (q.url === '/health') { s.end('ok'); return; } const ms = Number(new URL(q.url, 'http://x').searchParams.get('ms') || 0); setTimeout(() => s.end('hello from ' + process.env.GPUFLOW_TASK_ID), ms); }).listen(Number(process.env.GPUFLOW_PORT_${port}), '0.0.0.0')`;
  return `exec node -e "${js.replace(/"/g, '\\"')}"`;
}

/** Concurrent request loops against `url` until stopped or `maxMs` passed; every answer is counted. */
function loadGenerator(url: string, concurrency: number, maxMs: number) {
  const until = Date.now() + maxMs;
  let stopped = false;
  const stats = { ok: 0, failed: 0, errors: [] as string[], byReplica: new Map<string, number>() };
  const loops = Array.from({ length: concurrency }, async () => {
    while (!stopped && Date.now() < until) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        if (res.status === 200) {
          stats.ok++;
          const who = text.replace('hello from ', '');
          stats.byReplica.set(who, (stats.byReplica.get(who) ?? 0) + 1);
        } else {
          stats.failed++;
          stats.errors.push(`${res.status} ${text.trim()}`);
        }
      } catch (e) {
        stats.failed++;
        stats.errors.push((e as Error).message);
      }
    }
  });
  return {
    stats,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return stats;
    },
  };
}

const healthyActive = (s: ServiceGroupStatus) => s.members.filter((m) => m.phase === 'active' && m.healthy).length;

async function waitForMembers(group: ServiceGroupHandle, what: string, pred: (s: ServiceGroupStatus) => boolean, timeoutMs = 60_000): Promise<ServiceGroupStatus> {
  return waitFor(what, async () => {
    const s = await group.status();
    return pred(s) ? s : undefined;
  }, timeoutMs);
}

function groupSpec(name: string, port: number, endpointPort: number, extra: Record<string, unknown> = {}) {
  return {
    name,
    command: serviceCommand(port),
    gpu: { classes: ['L4'] },
    lifecycle: { kind: 'service' },
    ports: [{ port, public: true }],
    service: {
      healthCheck: { port, path: '/health', interval: '1s', timeout: '1s', failureThreshold: 2, startupTimeout: '30s' },
      replicas: { min: 1, max: 4, portStride: 1 },
      onDemandMin: 1,
      endpoint: { port: endpointPort, host: '127.0.0.1', drainTimeout: '20s' },
      ...extra,
    },
  };
}

it('scales 1 → 4 → 1 by update under load, replaces a lost replica, and fails no request', { timeout: 240_000 }, async (t) => {
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

  // Scale down under load: three replicas drain (out of the pool, requests finished) before they stop.
  startedAt = Date.now();
  assert.equal(await group.scale(1, 'test: burst over'), 1);
  const back = await waitForMembers(group, 'back to one replica', (s) => s.members.length === 1 && healthyActive(s) === 1, 90_000);
  t.diagnostic(`4 → 1 drained and stopped in ${Date.now() - startedAt} ms`);
  const stats = await load.stop();
  t.diagnostic(`load: ${stats.ok} ok, ${stats.failed} failed; proxy served ${back.proxy?.served}, retried ${back.proxy?.retried}`);
  assert.equal(stats.failed, 0, `failed requests: ${stats.errors.slice(0, 5).join('; ')}`);
  assert.ok(stats.ok > 100, `enough traffic to mean something (${stats.ok})`);
  assert.deepEqual(back.scaleEvents.map((e) => [e.by, e.from, e.to]), [['start', 0, 1], ['manual', 1, 4], ['manual', 4, 1]]);

  await group.stop('test');
  const r = await group.result();
  assert.ok(r.replicasStarted >= 4);
  await assert.rejects(fetch(url), 'the endpoint is gone with the group');
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
  const last = down.scaleEvents.at(-1)!;
  assert.deepEqual([last.by, last.to], ['load', 1]);
  await group.stop('test');
  await group.result();
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
