/**
 * Health probes against a real HTTP server on loopback: from the worker (node:http, node:net) and
 * as the node runs them (the built command in a real bash, with /dev/tcp).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { assertHealthPath, isHealthyStatus, nodeProbeCommand, parseNodeProbe, probeFromWorker } from '../../../src/activities/serviceHealth.js';

const execFileAsync = promisify(execFile);

async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('service health probes', () => {
  let server: Server;
  let port: number;
  const requests: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000);
      const status = Number(/^\/status\/(\d{3})/.exec(req.url ?? '')?.[1] ?? 200);
      res.writeHead(status, status === 302 ? { location: '/elsewhere' } : {}).end('body');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const onNode = async (p: number, path: string | undefined, timeoutMs = 1_000) =>
    parseNodeProbe((await execFileAsync('bash', ['-c', nodeProbeCommand(p, path, timeoutMs)])).stdout);

  it('treats 2xx and 3xx as healthy', () => {
    assert.deepEqual([199, 200, 204, 302, 399, 400, 500].map(isHealthyStatus), [false, true, true, true, true, false, false]);
  });

  it('from the worker: HTTP status, redirects not followed, refused and slow answers', async () => {
    assert.deepEqual(await probeFromWorker('127.0.0.1', port, '/health?deep=1', 1_000), { healthy: true, detail: `GET http://127.0.0.1:${port}/health?deep=1: 200` });
    assert.equal((await probeFromWorker('127.0.0.1', port, '/status/302', 1_000)).healthy, true);
    assert.ok(!requests.includes('/elsewhere'));
    assert.deepEqual(await probeFromWorker('127.0.0.1', port, '/status/500', 1_000), { healthy: false, detail: `GET http://127.0.0.1:${port}/status/500: 500` });
    const t0 = Date.now();
    const slow = await probeFromWorker('127.0.0.1', port, '/slow', 300);
    assert.equal(slow.healthy, false);
    assert.match(slow.detail, /no answer within 300 ms/);
    assert.ok(Date.now() - t0 < 1_500);
    const closed = await freePort();
    assert.match((await probeFromWorker('127.0.0.1', closed, '/', 1_000)).detail, /ECONNREFUSED/);
  });

  it('from the worker: a TCP connect without a path', async () => {
    assert.deepEqual(await probeFromWorker('127.0.0.1', port, undefined, 1_000), { healthy: true, detail: `tcp 127.0.0.1:${port} accepted` });
    assert.equal((await probeFromWorker('127.0.0.1', await freePort(), undefined, 1_000)).healthy, false);
  });

  it('on the node: the same answers through bash /dev/tcp', async () => {
    assert.deepEqual(await onNode(port, '/health'), { healthy: true, detail: `GET http://127.0.0.1:${port}/health: 200` });
    assert.ok(requests.includes('/health'));
    assert.deepEqual(await onNode(port, '/status/302'), { healthy: true, detail: `GET http://127.0.0.1:${port}/status/302: 302` });
    assert.deepEqual(await onNode(port, '/status/503'), { healthy: false, detail: `GET http://127.0.0.1:${port}/status/503: 503` });
    const closed = await freePort();
    assert.deepEqual(await onNode(closed, '/health'), { healthy: false, detail: `GET http://127.0.0.1:${closed}/health: no answer` });
    const t0 = Date.now();
    assert.equal((await onNode(port, '/slow', 500)).healthy, false);
    assert.ok(Date.now() - t0 < 1_800, 'bounded by the timeout');
    assert.equal((await onNode(port, undefined)).healthy, true);
    assert.deepEqual(await onNode(closed, undefined), { healthy: false, detail: `tcp 127.0.0.1:${closed} refused or timed out` });
  });

  it('refuses paths that could break the request line or carry shell text', () => {
    for (const bad of ['health', '/a b', '/x\r\nHost: evil', "/'$(id)'", '/`id`', '/a"b', '/$HOME']) {
      assert.throws(() => assertHealthPath(bad), /healthCheck.path .* must start with "\/"/s, bad);
      assert.throws(() => nodeProbeCommand(80, bad, 1_000));
    }
    assert.doesNotThrow(() => assertHealthPath('/v1/models?x=1&y=%20'));
  });

  it('reads odd node output as unhealthy', () => {
    assert.equal(parseNodeProbe('bash: /dev/tcp: No such file').healthy, false);
  });
});
