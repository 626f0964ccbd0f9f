/**
 * A long-running service through the workload workflow, on the real dev server and the local
 * cloud's real sshd: it becomes healthy, its port is reachable over real HTTP, it is restarted
 * after its process dies, and its connection details are in status.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { LocalCredential } from '../../../src/providers/local/index.js';
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

/** A tiny HTTP service: /health answers 200, /crash makes the process exit. */
function serviceCommand(port: number): string {
  const js = `require('http').createServer((q, s) => { if (q.url === '/crash') { s.end('bye'); setTimeout(() => process.exit(3), 20); return; } s.end(q.url === '/health' ? 'ok' : 'hello from ' + process.env.GPUFLOW_TASK_ID); }).listen(${port}, '0.0.0.0')`;
  return `exec node -e "${js.replace(/"/g, '\\"')}"`;
}

it('keeps a service healthy: reachable, restarted after its process dies, connection details in status', async () => {
  const port = await freePort();
  const wl = await env.client.launch({
    name: 'svc',
    command: serviceCommand(port),
    gpu: { classes: ['L4'] },
    lifecycle: { kind: 'service' },
    ports: [{ port, public: true }],
    service: { healthCheck: { port, path: '/health', interval: '1s', timeout: '1s', failureThreshold: 2, startupTimeout: '30s' }, maxRestarts: 3 },
  });
  const up = await waitFor('service healthy', async () => {
    const s = await wl.status();
    return s.service?.healthy ? s : undefined;
  }, 90_000);
  const endpoint = up.service!.endpoints.find((e) => e.port === port)!;
  assert.ok(endpoint.url, 'a public port has a URL in status');
  assert.equal(up.state, 'running');
  assert.equal(up.autoShutdown, 'off', 'services are not auto-shut-down by default');
  const res = await fetch(endpoint.url!);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), `hello from ${wl.workloadId}`);

  await fetch(new URL('/crash', endpoint.url)).catch(() => undefined);
  const restarted = await waitFor('service restarted and healthy again', async () => {
    const s = await wl.status();
    return s.restarts === 1 && s.service?.healthy ? s : undefined;
  }, 60_000);
  assert.match(restarted.service!.lastRestartReason ?? '', /exited/);
  assert.equal((await fetch(endpoint.url!)).status, 200, 'reachable again after the restart');
  assert.equal(restarted.attempts.length, 1, 'restarted on the same instance');

  await wl.stop('test');
  const r = await wl.result();
  assert.equal(r.outcome, 'stopped');
  const client = await new LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  const live = (await client.listInstances({})).filter((i) => i.status.lifecycleStatus !== 'terminated');
  assert.deepEqual(live, [], 'the instance is terminated');
  await assert.rejects(fetch(endpoint.url!), 'the service is gone with its instance');
});
