/**
 * Authorization through the HTTP API with real tokens, on a real Temporal server, worker and local
 * cloud: one tenant's users can neither see nor stop the other's workloads, nor read its costs;
 * roles within a project hold; every refusal is in the audit log. Runs on PGlite and on the
 * machine's PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { freshPostgresDatabase, type TestDatabase } from '../../helpers/serverDatabase.js';
import { startServerFixture, caller, type ServerFixture } from '../../helpers/serverFixture.js';

let env: TestEnv;
before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

/** Ends at once on SIGTERM, so stops (and teardown) do not wait out the grace period. */
const LONG_JOB = { command: "trap 'exit 0' TERM; sleep 300 & wait", gpu: { classes: ['L4'] } };

for (const backend of ['pglite', 'postgres'] as const) {
  describe(`the server on ${backend}`, () => {
    let fx: ServerFixture;
    let pgdb: TestDatabase | undefined;
    let anaWl: string;
    let boWl: string;
    let miaWl: string;

    before(async () => {
      if (backend === 'postgres') pgdb = await freshPostgresDatabase();
      fx = await startServerFixture(env, pgdb ? pgdb.url : 'pglite:memory');
    });
    after(async () => {
      // Nothing left running: stop what the tests launched.
      for (const id of [anaWl, boWl, miaWl]) if (id) await env.client.handle(id).stop('test cleanup').catch(() => undefined);
      await fx?.close();
      // The pg pool of the fixture is closed by close(); drop the database afterwards.
      if (pgdb) await pgdb.drop().catch(() => undefined);
    });

    test('members launch in their project; the tenant comes from the project', async () => {
      const r = await fx.as.ana!('POST', '/v1/workloads', { name: `ana-${backend}`, project: 'ml', ...LONG_JOB });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.tenant, 'acme');
      anaWl = r.body.workloadId;
      const b = await fx.as.bo!('POST', '/v1/workloads', { name: `bo-${backend}`, project: 'gx', ...LONG_JOB });
      assert.equal(b.status, 201, JSON.stringify(b.body));
      boWl = b.body.workloadId;
      const m = await fx.as.mia!('POST', '/v1/workloads', { name: `mia-${backend}`, project: 'ml', ...LONG_JOB });
      assert.equal(m.status, 201);
      miaWl = m.body.workloadId;
      const st = await waitFor('ana’s workload to run', async () => {
        const s = await fx.as.ana!('GET', `/v1/workloads/${anaWl}`);
        return s.body.state === 'running' ? s.body : undefined;
      });
      assert.equal(st.project, 'ml');
      assert.equal(st.tenant, 'acme');
      assert.equal(st.owner, 'ana');
      assert.equal(st.canStop, true);
      assert.match(st.temporalUrl, new RegExp(`/workflows/${anaWl}$`));
    });

    test('a bad spec is refused at the boundary, naming the field', async () => {
      const r = await fx.as.ana!('POST', '/v1/workloads', { name: 'bad', project: 'ml', command: 'x', gpu: { classes: [] }, spot: 'sometimes' });
      assert.equal(r.status, 400);
      const paths = r.body.issues.map((i: { path: string }) => i.path).sort();
      assert.deepEqual(paths, ['gpu.classes', 'spot']);
    });

    test('at least 20 cross-tenant attempts: all refused (403/404), all in the audit log', async () => {
      const { ana, tara, bo, carl } = fx.as as Required<typeof fx.as>;
      const boTokenId = fx.tokens.bo!.split('_')[1]!;
      const attempts: [string, Awaited<ReturnType<typeof ana>>, string][] = [];
      const tryIt = async (who: string, call: ReturnType<typeof ana>, what: string) => attempts.push([who, await call, what]);
      // globex → acme
      await tryIt('bo', bo('GET', `/v1/workloads/${anaWl}`), 'read status');
      await tryIt('bo', bo('POST', `/v1/workloads/${anaWl}/stop`, {}), 'stop');
      await tryIt('bo', bo('GET', `/v1/workloads/${anaWl}/logs`), 'logs');
      await tryIt('carl', carl('GET', `/v1/workloads/${anaWl}`), 'admin elsewhere reads');
      await tryIt('carl', carl('POST', `/v1/workloads/${anaWl}/stop`, {}), 'admin elsewhere stops');
      await tryIt('bo', bo('GET', '/v1/workloads?project=ml'), 'list project');
      await tryIt('bo', bo('GET', '/v1/costs?project=ml'), 'project costs');
      await tryIt('bo', bo('GET', '/v1/costs?tenant=acme'), 'tenant costs');
      await tryIt('bo', bo('GET', '/v1/budgets/project/ml'), 'project budget');
      await tryIt('carl', carl('PUT', '/v1/budgets/project/ml', { cap: '1.00' }), 'set project budget');
      await tryIt('carl', carl('PUT', '/v1/budgets/tenant/acme', { cap: '1.00' }), 'set tenant budget');
      await tryIt('bo', bo('POST', '/v1/workloads', { name: 'intrude', project: 'ml', ...LONG_JOB }), 'launch in project');
      await tryIt('bo', bo('POST', '/v1/workloads', { name: 'intrude', project: 'gx', tenant: 'acme', ...LONG_JOB }), 'launch into tenant');
      await tryIt('carl', carl('PUT', '/v1/projects/ml/members/bo', { role: 'admin' }), 'add member');
      await tryIt('carl', carl('GET', '/v1/projects/ml/members'), 'list members');
      await tryIt('carl', carl('POST', '/v1/projects', { name: 'evil', tenant: 'acme' }), 'create project');
      await tryIt('carl', carl('PUT', '/v1/tenants/acme/members/carl', { role: 'admin' }), 'join tenant');
      await tryIt('carl', carl('GET', '/v1/audit?project=ml'), 'read audit');
      await tryIt('carl', carl('POST', '/v1/schedules', { workload: { name: 'sneaky', project: 'ml', ...LONG_JOB }, every: '1h' }), 'schedule in project');
      // acme → globex
      await tryIt('ana', ana('GET', `/v1/workloads/${boWl}`), 'read status');
      await tryIt('ana', ana('POST', `/v1/workloads/${boWl}/stop`, {}), 'stop');
      await tryIt('ana', ana('GET', `/v1/workloads/${boWl}/logs`), 'logs');
      await tryIt('tara', tara('POST', `/v1/workloads/${boWl}/stop`, {}), 'tenant admin stops');
      await tryIt('tara', tara('GET', '/v1/costs?tenant=globex'), 'tenant costs');
      await tryIt('tara', tara('GET', '/v1/budgets/tenant/globex'), 'tenant budget');
      await tryIt('ana', ana('DELETE', `/v1/tokens/${boTokenId}`), 'revoke another’s token');
      await tryIt('ana', ana('POST', '/v1/workloads', { name: 'intrude', project: 'ml', tenant: 'globex', ...LONG_JOB }), 'launch into tenant');
      assert.ok(attempts.length >= 20);
      for (const [who, r, what] of attempts) assert.ok(r.status === 403 || r.status === 404, `${who} ${what}: got ${r.status} ${JSON.stringify(r.body)}`);

      // Neither side sees the other's workloads in lists.
      const boList = await bo('GET', '/v1/workloads');
      assert.equal(boList.status, 200);
      assert.ok(boList.body.workloads.some((w: { workloadId: string }) => w.workloadId === boWl));
      assert.ok(!boList.body.workloads.some((w: { project: string }) => w.project !== 'gx'), 'bo sees only gx');
      const anaList = await ana('GET', '/v1/workloads');
      assert.ok(!anaList.body.workloads.some((w: { tenant: string }) => w.tenant !== 'acme'), 'ana sees only acme');

      // Still running: nobody stopped anything.
      assert.equal((await ana('GET', `/v1/workloads/${anaWl}`)).body.state, 'running');

      const audit = await fx.as.admin!('GET', '/v1/audit?outcome=denied&limit=1000');
      const ids = new Map(Object.entries(fx.tokens).map(([u, t]) => [t.split('_')[1]!, u]));
      const denials = audit.body.entries.filter((e: { tokenId?: string }) => e.tokenId && ['ana', 'tara', 'bo', 'carl'].includes(ids.get(e.tokenId)!));
      assert.ok(denials.length >= attempts.length, `${denials.length} denials logged for ${attempts.length} attempts`);
      for (const e of denials) assert.ok(e.status === 403 || e.status === 404);
      // Each attempt's path is there.
      const logged = new Set(denials.map((e: { method: string; path: string }) => `${e.method} ${e.path}`));
      for (const p of [`GET /v1/workloads/${anaWl}`, `POST /v1/workloads/${boWl}/stop`, 'PUT /v1/budgets/tenant/acme', 'GET /v1/costs', 'POST /v1/workloads']) assert.ok(logged.has(p), `${p} is in the audit log`);
    });

    test('roles within the project: viewers read, members stop only their own, admins any', async () => {
      const { val, mia, ana, tara } = fx.as as Required<typeof fx.as>;
      const seen = await val('GET', `/v1/workloads/${anaWl}`);
      assert.equal(seen.status, 200);
      assert.equal(seen.body.canStop, false, 'a viewer gets no stop button');
      assert.equal((await val('POST', `/v1/workloads/${anaWl}/stop`, {})).status, 403);
      assert.equal((await val('POST', '/v1/workloads', { name: 'viewer-launch', project: 'ml', ...LONG_JOB })).status, 403);
      assert.equal((await val('PUT', '/v1/budgets/project/ml', { cap: '5.00' })).status, 403);
      const miaOnAna = await mia('POST', `/v1/workloads/${anaWl}/stop`, {});
      assert.equal(miaOnAna.status, 403);
      assert.match(miaOnAna.body.error, /their own workloads/);
      assert.equal((await ana('PUT', '/v1/budgets/project/ml', { cap: '5.00' })).status, 403, 'members do not set budgets');
      const budget = await tara('PUT', '/v1/budgets/project/ml', { cap: '50.00', period: 'day', alerts: [50, 80] });
      assert.equal(budget.status, 200, JSON.stringify(budget.body));
      assert.equal(budget.body.key, 'project:ml');
      const bad = await tara('PUT', '/v1/budgets/project/ml', { cap: 'lots' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.issues[0].path, 'cap');
      const viewerDenials = (await fx.as.admin!('GET', '/v1/audit?project=ml&outcome=denied&limit=1000')).body.entries.filter((e: { status: number }) => e.status === 403);
      assert.ok(viewerDenials.length >= 5);
    });

    test('logs and cost through the API; the owner stops; a tenant admin stops another’s', async () => {
      const { ana, tara } = fx.as as Required<typeof fx.as>;
      const logs = await ana('GET', `/v1/workloads/${anaWl}/logs?lines=5`);
      assert.equal(logs.status, 200);
      assert.equal(typeof logs.body.logs, 'string');
      const stop = await ana('POST', `/v1/workloads/${anaWl}/stop`, { reason: 'done' });
      assert.equal(stop.status, 200, JSON.stringify(stop.body));
      const byAdmin = await tara('POST', `/v1/workloads/${miaWl}/stop`, {});
      assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
      const done = await waitFor('ana’s workload to terminate', async () => {
        const s = await ana('GET', `/v1/workloads/${anaWl}`);
        return s.body.state === 'terminated' ? s.body : undefined;
      });
      assert.equal(done.outcome, 'stopped');
      const cost = await waitFor('ml’s cost report to show the spend', async () => {
        const c = await ana('GET', '/v1/costs?project=ml');
        return c.status === 200 && c.body.rows.length > 0 ? c.body : undefined;
      });
      assert.equal(cost.rows[0].scope, 'project:ml');
      const changes = (await fx.as.admin!('GET', '/v1/audit?project=ml&outcome=allowed&limit=1000')).body.entries.map((e: { action: string }) => e.action);
      assert.ok(changes.includes('workload.launch') && changes.includes('workload.stop') && changes.includes('budget.set'));
    });

    test('a revoked token stops working at once', async () => {
      const t = await fx.as.ana!('POST', '/v1/tokens', { name: 'temp' });
      const temp = caller(fx.server.url, t.body.token);
      assert.equal((await temp('GET', '/v1/me')).status, 200);
      assert.equal((await fx.as.ana!('DELETE', `/v1/tokens/${t.body.id}`)).status, 200);
      assert.equal((await temp('GET', '/v1/me')).status, 401);
    });
  });
}
