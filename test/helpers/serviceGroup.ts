/** Service group tests' helpers: free port ranges, the replica's service, a time-bounded HTTP load generator, group waits. */
import { createServer } from 'node:net';
import type { ServiceGroupHandle } from '../../src/client/serviceGroups.js';
import type { ServiceGroupStatus } from '../../src/workflows/serviceGroupMessages.js';
import { waitFor } from './environment.js';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A base port with `n` free ports after it (one per replica slot: they share the local cloud's host). */
export async function freeRange(n: number): Promise<number> {
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
export function serviceCommand(port: number): string {
  const js = `require('http').createServer((q, s) => { if (q.url === '/health') { s.end('ok'); return; } const ms = Number(new URL(q.url, 'http://x').searchParams.get('ms') || 0); setTimeout(() => s.end('hello from ' + process.env.GPUFLOW_TASK_ID), ms); }).listen(Number(process.env.GPUFLOW_PORT_${port}), '0.0.0.0')`;
  return `exec node -e "${js.replace(/"/g, '\\"')}"`;
}

/** Concurrent request loops against `url` until stopped or `maxMs` passed; every answer is counted. */
export function loadGenerator(url: string, concurrency: number, maxMs: number) {
  const until = Date.now() + maxMs;
  let stopped = false;
  const stats = { ok: 0, failed: 0, retried: 0, errors: [] as string[], byReplica: new Map<string, number>() };
  const loops = Array.from({ length: concurrency }, async () => {
    while (!stopped && Date.now() < until) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        if (res.status === 200) {
          stats.ok++;
          if (res.headers.get('x-gpuflow-tries') !== '1') stats.retried++;
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

export const healthyActive = (s: ServiceGroupStatus) => s.members.filter((m) => m.phase === 'active' && m.healthy).length;

export async function waitForMembers(group: ServiceGroupHandle, what: string, pred: (s: ServiceGroupStatus) => boolean, timeoutMs = 60_000): Promise<ServiceGroupStatus> {
  let last: ServiceGroupStatus | undefined;
  try {
    return await waitFor(what, async () => {
      last = await group.status();
      return pred(last) ? last : undefined;
    }, timeoutMs);
  } catch (e) {
    // What the group looked like when the wait gave up: which replica was stuck, and where.
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last)}`);
  }
}

export function groupSpec(name: string, port: number, endpointPort: number, extra: Record<string, unknown> = {}) {
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
