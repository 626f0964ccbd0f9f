/** The identity store on both backends: PGlite (embedded) and the machine's real PostgreSQL, same SQL. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IdentityStore } from '../../../src/server/identity/store.js';
import { migrate } from '../../../src/server/storage/migrations.js';
import { freshPostgresDatabase, pgliteDatabase, type TestDatabase } from '../../helpers/serverDatabase.js';

for (const [backend, open] of [
  ['pglite', pgliteDatabase],
  ['postgres', freshPostgresDatabase],
] as const) {
  describe(`identity store on ${backend}`, () => {
    let t: TestDatabase;
    let store: IdentityStore;
    before(async () => {
      t = await open();
      assert.deepEqual(await migrate(t.db), [1]);
      store = new IdentityStore(t.db);
    });
    after(() => t.drop());

    test('migrations apply once', async () => {
      assert.deepEqual(await migrate(t.db), []);
    });

    test('tenants, projects and duplicate names', async () => {
      await store.createTenant('acme');
      await store.createProject('ml', 'acme');
      await assert.rejects(store.createProject('ml', 'acme'), /project "ml" already exists/);
      await assert.rejects(store.createProject('x', 'nope'), /tenant "nope" does not exist/);
      assert.deepEqual((await store.listTenants()).find((x) => x.name === 'acme')?.projects, ['ml']);
    });

    test('roles: project membership or tenant membership, the higher wins', async () => {
      await store.createProject('vision', 'acme');
      const u = await store.createUser({ name: 'ana' });
      assert.equal(await store.roleInProject(u.id, 'ml'), undefined);
      await store.setProjectRole('ml', u.id, 'viewer');
      assert.equal(await store.roleInProject(u.id, 'ml'), 'viewer');
      await store.setTenantRole('acme', u.id, 'member');
      assert.equal(await store.roleInProject(u.id, 'ml'), 'member');
      assert.equal(await store.roleInProject(u.id, 'vision'), 'member');
      await store.setProjectRole('ml', u.id, 'admin');
      assert.equal(await store.roleInProject(u.id, 'ml'), 'admin');
      await store.setTenantRole('acme', u.id, null);
      assert.deepEqual((await store.visibleProjects(u.id)).map((p) => [p.name, p.role]), [['ml', 'admin']]);
    });

    test('tokens: stored hashed, verified, revoked', async () => {
      const u = await store.createUser({ name: 'bo' });
      const { token, info } = await store.createToken(u.id, 'laptop');
      assert.match(token, /^gpf_[0-9a-f]{12}_/);
      const [row] = await t.db.query<{ hash: string }>('SELECT hash FROM api_tokens WHERE id = $1', [info.id]);
      assert.match(row!.hash, /^scrypt\$16384\$8\$1\$/);
      // The secret is base64url (it may hold '_' itself): everything after `gpf_<id>_`.
      const secret = token.slice('gpf_'.length + 12 + 1);
      assert.equal(secret.length, 43);
      assert.ok(!row!.hash.includes(secret));
      assert.equal((await store.authenticate(token))?.user.name, 'bo');
      assert.equal(await store.authenticate(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')), undefined);
      assert.equal(await store.authenticate('gpf_nope'), undefined);
      assert.ok(await store.revokeToken(info.id));
      assert.equal(await store.authenticate(token), undefined);
    });

    test('expired tokens are refused', async () => {
      const u = await store.createUser({ name: 'cy' });
      const { token } = await store.createToken(u.id, 'old', new Date(Date.now() - 1000));
      assert.equal(await store.authenticate(token), undefined);
    });

    test('audit log: filter by project and outcome, newest first', async () => {
      await store.audit({ method: 'GET', path: '/a', action: 'workload.read', project: 'ml', outcome: 'allowed', status: 200 });
      await store.audit({ method: 'POST', path: '/b', action: 'workload.stop', project: 'ml', outcome: 'denied', status: 403, reason: 'viewer' });
      await store.audit({ method: 'GET', path: '/c', action: 'workload.read', project: 'vision', outcome: 'denied', status: 404 });
      const denied = await store.listAudit({ projects: ['ml'], outcome: 'denied' });
      assert.deepEqual(denied.map((e) => [e.path, e.status, e.reason]), [['/b', 403, 'viewer']]);
      assert.deepEqual((await store.listAudit({ limit: 2 })).map((e) => e.path), ['/c', '/b']);
    });
  });
}
