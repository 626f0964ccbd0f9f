/** The OpenAPI document comes from the zod schemas; unauthenticated calls are refused and audited. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { GpuflowClient } from '../../../src/client/gpuflowClient.js';
import { buildServerApp } from '../../../src/server/http/app.js';
import { IdentityStore } from '../../../src/server/identity/store.js';
import { openDatabase, type SqlDatabase } from '../../../src/server/storage/database.js';
import { migrate } from '../../../src/server/storage/migrations.js';
import { bootstrapAdmin } from '../../../src/server/start.js';

let db: SqlDatabase;
let store: IdentityStore;
let app: Awaited<ReturnType<typeof buildServerApp>>;
let admin: string;

before(async () => {
  db = await openDatabase('pglite:memory');
  await migrate(db);
  store = new IdentityStore(db);
  admin = (await bootstrapAdmin(store))!;
  // A lazy connection that is never used: these routes do not reach Temporal.
  const gpuflow = new GpuflowClient(new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }), 'tq');
  app = await buildServerApp({ store, gpuflow });
});
after(async () => {
  await app.close();
  await db.close();
});

test('the OpenAPI document describes the workload spec from its zod schema', async () => {
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  const doc = res.json();
  assert.equal(doc.openapi.slice(0, 2), '3.');
  const launch = doc.paths['/v1/workloads'].post;
  const body = launch.requestBody.content['application/json'].schema;
  const spec = body.$ref ? doc.components.schemas[body.$ref.split('/').pop()] : body;
  assert.ok(spec.properties.gpu && spec.properties.spot && spec.properties.placement, 'spec fields are documented');
  assert.deepEqual(spec.properties.spot.enum, ['never', 'allow', 'only']);
  for (const p of ['/v1/workloads/{id}/stop', '/v1/budgets/{scope}/{name}', '/v1/offers', '/v1/tokens', '/v1/audit', '/v1/schedules', '/v1/connections', '/v1/projects/{name}/members/{user}']) {
    assert.ok(doc.paths[p], `${p} is documented`);
  }
});

test('no token or a bad token: 401, recorded in the audit log', async () => {
  assert.equal((await app.inject({ method: 'GET', url: '/v1/workloads' })).statusCode, 401);
  const bad = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${admin.slice(0, -2)}xx` } });
  assert.equal(bad.statusCode, 401);
  assert.match(bad.json().error, /invalid, expired or revoked token/);
  const denied = await store.listAudit({ outcome: 'denied' });
  assert.ok(denied.length >= 2);
  assert.ok(denied.every((e) => e.status === 401 && e.action === 'authenticate'));
});

test('bad input names the field', async () => {
  const h = { authorization: `Bearer ${admin}` };
  const res = await app.inject({ method: 'POST', url: '/v1/users', headers: h, payload: { name: 'Bad Name!' } });
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().issues[0].path, 'body.name');
  const tok = await app.inject({ method: 'POST', url: '/v1/tokens', headers: h, payload: { expiresIn: 'soon' } });
  assert.equal(tok.statusCode, 400);
  assert.match(JSON.stringify(tok.json()), /expiresIn is a duration/);
});

test('the bootstrap admin manages identities; a token is shown once and works', async () => {
  const h = { authorization: `Bearer ${admin}` };
  assert.equal((await app.inject({ method: 'POST', url: '/v1/tenants', headers: h, payload: { name: 'acme' } })).statusCode, 201);
  assert.equal((await app.inject({ method: 'POST', url: '/v1/projects', headers: h, payload: { name: 'ml', tenant: 'acme' } })).statusCode, 201);
  assert.equal((await app.inject({ method: 'POST', url: '/v1/users', headers: h, payload: { name: 'ana' } })).statusCode, 201);
  assert.equal((await app.inject({ method: 'PUT', url: '/v1/projects/ml/members/ana', headers: h, payload: { role: 'viewer' } })).statusCode, 200);
  const t = await app.inject({ method: 'POST', url: '/v1/tokens', headers: h, payload: { user: 'ana', name: 'ci' } });
  assert.equal(t.statusCode, 201);
  const token = t.json().token as string;
  const me = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual(me.json().projects.map((p: { name: string; role: string }) => [p.name, p.role]), [['ml', 'viewer']]);
  const listed = await app.inject({ method: 'GET', url: '/v1/tokens?all=true', headers: h });
  assert.ok(!listed.body.includes(token.split('_')[2]!), 'listing never shows a secret');
  const anaCannot = await app.inject({ method: 'POST', url: '/v1/users', headers: { authorization: `Bearer ${token}` }, payload: { name: 'eve' } });
  assert.equal(anaCannot.statusCode, 403);
});
