import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { callApi, errorFromResponse, parseRetryAfter } from '../../../../src/providers/local/http.js';
import {
  AuthenticationError,
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidRequestError,
  OutOfQuotaError,
  ResourceNotFoundError,
  ServiceUnavailableError,
} from '../../../../src/providers/sdk/errors.js';

const body = (code: string, message = 'm') => ({ error: { code, message } });

describe('local cloud HTTP errors', () => {
  it('maps statuses and codes to typed errors', () => {
    assert.ok(errorFromResponse(401, body('unauthorized'), null, 'x') instanceof AuthenticationError);
    assert.ok(errorFromResponse(403, body('forbidden'), null, 'x') instanceof AuthenticationError);
    assert.ok(errorFromResponse(403, body('quota-exceeded'), null, 'x') instanceof OutOfQuotaError);
    const cap = errorFromResponse(409, body('insufficient-capacity'), null, 'x');
    assert.ok(cap instanceof InsufficientCapacityError);
    assert.equal(cap.scope, 'zone');
    assert.ok(errorFromResponse(409, body('invalid-state'), null, 'x') instanceof InvalidRequestError);
    assert.ok(errorFromResponse(404, body('instance-not-found'), null, 'x') instanceof InstanceNotFoundError);
    assert.ok(errorFromResponse(404, body('instance-not-found'), null, 'x', 'resource') instanceof ResourceNotFoundError);
    assert.ok(errorFromResponse(404, body('not-found'), null, 'x') instanceof ResourceNotFoundError);
    assert.ok(errorFromResponse(400, body('invalid-request'), null, 'x') instanceof InvalidRequestError);
    for (const s of [429, 500, 502, 503]) {
      const e = errorFromResponse(s, undefined, '4', 'x');
      assert.ok(e instanceof ServiceUnavailableError, String(s));
      assert.equal(e.retryAfterMs, 4000);
      assert.equal(e.retryable, true);
    }
    assert.match(errorFromResponse(400, body('invalid-request', 'bad refId'), null, 'local cloud POST /v1/instances').message, /POST \/v1\/instances: bad refId \(invalid-request\)/);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  });
});

describe('callApi', () => {
  let server: http.Server;
  let url = '';
  const seen: { auth?: string | undefined; path?: string | undefined }[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push({ auth: req.headers.authorization, path: req.url });
      if (req.url === '/slow') return void setTimeout(() => res.end('{}'), 2000);
      if (req.url === '/bad-shape') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"n":"one"}}');
      if (req.url === '/html') return void res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"n":1}}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const schema = z.object({ n: z.number() });

  it('sends the bearer token and query, and validates the envelope', async () => {
    const r = await callApi({ url, token: 'secret' }, 'GET', '/ok', schema, { query: [['a', '1'], ['a', '2']] });
    assert.deepEqual(r, { status: 200, data: { n: 1 } });
    assert.deepEqual(seen.at(-1), { auth: 'Bearer secret', path: '/ok?a=1&a=2' });
  });

  it('a wrong shape, a non-JSON 5xx, a timeout and a refused connection are ServiceUnavailableError', async () => {
    await assert.rejects(callApi({ url, token: 't' }, 'GET', '/bad-shape', schema), (e: Error) => e instanceof ServiceUnavailableError && /unexpected response: data\.n:/.test(e.message));
    await assert.rejects(callApi({ url, token: 't' }, 'GET', '/html', schema), ServiceUnavailableError);
    await assert.rejects(callApi({ url, token: 't', timeoutMs: 100 }, 'GET', '/slow', schema), (e: Error) => e instanceof ServiceUnavailableError && /timed out/.test(e.message));
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await assert.rejects(
      callApi({ url: `http://127.0.0.1:${closedPort}`, token: 't' }, 'GET', '/x', schema),
      (e: Error) => e instanceof ServiceUnavailableError && /ECONNREFUSED/.test(e.message),
    );
  });
});
