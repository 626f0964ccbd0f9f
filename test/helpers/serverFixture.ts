/**
 * A gpuflow server on a real Temporal test environment, with two tenants set up through the HTTP
 * API by the bootstrap admin:
 *   acme:   projects ml, vision. ana (ml member), val (ml viewer), mia (ml member), tara (acme tenant admin)
 *   globex: project gx.          bo (gx member), carl (gx admin)
 */
import assert from 'node:assert/strict';
import type { TestEnv } from './environment.js';
import { startGpuflowServer, type RunningServer, type ServerOptions } from '../../src/server/start.js';

// Responses are checked field by field by the tests; typing every route's answer here would only repeat them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Caller = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

export interface ServerFixture {
  server: RunningServer;
  tokens: Record<string, string>;
  as: Record<string, Caller>;
  close(): Promise<void>;
}

export function caller(url: string, token: string | undefined): Caller {
  return async (method, path, body) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics, SSE)
    }
    return { status: res.status, body: parsed };
  };
}

export async function startServerFixture(env: TestEnv, database: string, opts: Partial<ServerOptions> = {}): Promise<ServerFixture> {
  const server = await startGpuflowServer({ database, gpuflow: env.client, port: 0, connectionsFile: env.connectionsFile, temporalUiUrl: 'http://127.0.0.1:8233', livePollMs: 0, ...opts });
  assert.ok(server.bootstrapToken, 'a fresh database bootstraps an admin');
  const admin = caller(server.url, server.bootstrapToken);
  const ok = async (p: Promise<{ status: number; body: unknown }>) => {
    const r = await p;
    assert.ok(r.status < 300, `setup call failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as Record<string, unknown>;
  };
  for (const t of ['acme', 'globex']) await ok(admin('POST', '/v1/tenants', { name: t }));
  for (const [p, t] of [['ml', 'acme'], ['vision', 'acme'], ['gx', 'globex']]) await ok(admin('POST', '/v1/projects', { name: p, tenant: t }));
  const tokens: Record<string, string> = { admin: server.bootstrapToken };
  for (const u of ['ana', 'val', 'mia', 'tara', 'bo', 'carl']) {
    await ok(admin('POST', '/v1/users', { name: u }));
    tokens[u] = String((await ok(admin('POST', '/v1/tokens', { user: u, name: `${u}-token` }))).token);
  }
  await ok(admin('PUT', '/v1/projects/ml/members/ana', { role: 'member' }));
  await ok(admin('PUT', '/v1/projects/ml/members/val', { role: 'viewer' }));
  await ok(admin('PUT', '/v1/projects/ml/members/mia', { role: 'member' }));
  await ok(admin('PUT', '/v1/tenants/acme/members/tara', { role: 'admin' }));
  await ok(admin('PUT', '/v1/projects/gx/members/bo', { role: 'member' }));
  await ok(admin('PUT', '/v1/projects/gx/members/carl', { role: 'admin' }));
  const as = Object.fromEntries(Object.entries(tokens).map(([u, t]) => [u, caller(server.url, t)]));
  return { server, tokens, as, close: () => server.close() };
}
