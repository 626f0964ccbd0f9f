/**
 * `gpuflow run|ps|status|logs|stop` through a real `gpuflow server` process: after `gpuflow login`
 * (or with GPUFLOW_SERVER + GPUFLOW_TOKEN) the CLI talks only to the server, which checks the
 * caller's role on every call. The CLI's TEMPORAL_ADDRESS points nowhere, so nothing can go
 * straight to Temporal; refusals land in the audit log.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { nodeEntryArgs } from '../../../src/cli/nodeEntry.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { caller, type Caller } from '../../helpers/serverFixture.js';
import { runGpuflow } from '../../helpers/cli.js';

let env: TestEnv;
let server: ChildProcess;
let url: string;
let admin: Caller;
const tokens: Record<string, string> = {};
let longId = '';

/** The CLI as a user of the server: Temporal unreachable from here, the server's login (or env) only. */
const asUser = (who: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...env.childEnv,
  TEMPORAL_ADDRESS: '127.0.0.1:1',
  GPUFLOW_HOME: join(env.dir, `home-${who}`),
  ...extra,
});
const viaEnv = (who: string) => asUser(who, { GPUFLOW_SERVER: url, GPUFLOW_TOKEN: tokens[who]! });

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
  server = spawn(process.execPath, [...nodeEntryArgs('cli/main'), 'server', '--port', '0', '--database', `pglite:${join(env.dir, 'server-db')}`, '--connections', env.connectionsFile], {
    env: { ...env.childEnv, GPUFLOW_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const banner = await waitFor('the server banner with the admin token', async () => (/admin token \(shown once; store it\): (gpf_\S+)/.test(out) ? out : undefined), 180_000);
  url = /^server\s+(http:\/\/\S+)/m.exec(banner)![1]!;
  tokens.admin = /admin token \(shown once; store it\): (gpf_\S+)/.exec(banner)![1]!;
  admin = caller(url, tokens.admin);
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await admin(method, path, body);
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as Record<string, unknown>;
  };
  for (const t of ['acme', 'globex']) await ok('POST', '/v1/tenants', { name: t });
  await ok('POST', '/v1/projects', { name: 'ml', tenant: 'acme' });
  await ok('POST', '/v1/projects', { name: 'gx', tenant: 'globex' });
  for (const [u, project, role] of [['ana', 'ml', 'member'], ['val', 'ml', 'viewer'], ['bo', 'gx', 'member']] as const) {
    await ok('POST', '/v1/users', { name: u });
    tokens[u] = String((await ok('POST', '/v1/tokens', { user: u })).token);
    await ok('PUT', `/v1/projects/${project}/members/${u}`, { role });
  }
});

after(async () => {
  if (longId) await env.client.handle(longId).stop('test cleanup').catch(() => undefined);
  server?.kill('SIGTERM');
  await new Promise((r) => (server && server.exitCode === null ? server.once('exit', r) : r(undefined)));
  await env?.teardown();
});

async function login(who: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [...nodeEntryArgs('cli/main'), 'login', url, '--token-stdin'], { env: asUser(who), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.end(`${tokens[who]}\n`);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { code, out };
}

test('after gpuflow login, run follows a workload to its end through the server, and ps/status show it', async () => {
  const l = await login('ana');
  assert.equal(l.code, 0, l.out);
  assert.match(l.out, /now go through this server/);
  const spec = join(env.dir, 'smoke.yaml');
  writeFileSync(spec, 'name: smoke\nproject: ml\nrecipe: { name: smoke-test, params: { seconds: 1 } }\ngpu: { classes: [L4] }\nspot: never\n');
  const run = await runGpuflow(asUser('ana'), ['run', spec, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { workloadId: string; outcome: string; cost: { currency: string } };
  assert.equal(result.outcome, 'succeeded');
  assert.equal(result.cost.currency, 'USD');

  const ps = await runGpuflow(asUser('ana'), ['ps', '--json']);
  assert.equal(ps.code, 0, ps.stderr);
  const row = (JSON.parse(ps.stdout) as { workloadId: string; outcome?: string; project: string; tenant: string; cost?: unknown }[]).find((r) => r.workloadId === result.workloadId);
  assert.ok(row, 'ps lists the workload');
  assert.equal(row.outcome, 'succeeded');
  assert.equal(row.tenant, 'acme');
  assert.ok(row.cost, 'with its cost');
  const human = await runGpuflow(asUser('ana'), ['status', result.workloadId]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /state\s+terminated \(succeeded\)/);

  // The same commands straight to Temporal would fail: its address is unreachable from this CLI.
  const direct = await runGpuflow(asUser('ana'), ['--address', '127.0.0.1:1', 'ps']);
  assert.notEqual(direct.code, 0);
  assert.match(direct.stderr, /cannot reach the Temporal server at 127\.0\.0\.1:1/);
});

test('roles are enforced server-side: a viewer cannot stop, another tenant cannot see; the owner stops', async () => {
  const spec = join(env.dir, 'long.yaml');
  writeFileSync(spec, `name: long\nproject: ml\ncommand: "for i in $(seq 1 600); do echo tick $i; sleep 1; done"\ngpu: { classes: [L4] }\nspot: never\n`);
  const started = await runGpuflow(asUser('ana'), ['run', spec, '--detach']);
  assert.equal(started.code, 0, started.stderr);
  longId = started.stdout.trim();
  assert.match(longId, /^long-/);

  const logs = await waitFor('the job’s output through the server', async () => {
    const r = await runGpuflow(asUser('ana'), ['logs', longId, '-n', '5']);
    return r.code === 0 && /tick \d+/.test(r.stdout) ? r : undefined;
  }, 60_000, 1_000);
  assert.match(logs.stdout, /tick \d+/);

  // val: viewer of ml, GPUFLOW_SERVER + GPUFLOW_TOKEN (no login file). Reads yes, stop no.
  const valPs = await runGpuflow(viaEnv('val'), ['ps', '--json']);
  assert.equal(valPs.code, 0, valPs.stderr);
  assert.ok((JSON.parse(valPs.stdout) as { workloadId: string }[]).some((r) => r.workloadId === longId));
  const valStop = await runGpuflow(viaEnv('val'), ['stop', longId]);
  assert.notEqual(valStop.code, 0);
  assert.match(valStop.stderr, /403: stopping workloads in project "ml" needs member or admin \(you are viewer\)/);

  // bo: globex. The workload does not exist for him.
  const boPs = await runGpuflow(viaEnv('bo'), ['ps', '--json']);
  assert.equal(boPs.code, 0, boPs.stderr);
  assert.deepEqual(JSON.parse(boPs.stdout), []);
  for (const cmd of [['status', longId], ['logs', longId], ['stop', longId]]) {
    const r = await runGpuflow(viaEnv('bo'), cmd);
    assert.notEqual(r.code, 0, `bo ${cmd[0]}`);
    assert.match(r.stderr, new RegExp(`no workload ${longId} visible to you on ${url.replace(/\./g, '\\.')}`), `bo ${cmd[0]}: ${r.stderr}`);
  }

  const stop = await runGpuflow(asUser('ana'), ['stop', longId]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, new RegExp(`${longId}: (stopping|terminating|terminated)`));
  const ended = await waitFor('the stopped workload to end', async () => {
    const r = await runGpuflow(asUser('ana'), ['status', longId, '--json']);
    return r.code === 0 && JSON.parse(r.stdout).state === 'terminated' ? JSON.parse(r.stdout) : undefined;
  }, 60_000, 1_000);
  assert.equal(ended.outcome, 'stopped');

  const audit = await admin('GET', '/v1/audit?outcome=denied&limit=100');
  assert.equal(audit.status, 200);
  const denied = (audit.body.entries as { action: string; resource?: string; status: number }[]).filter((e) => e.resource === `workload:${longId}`);
  assert.ok(denied.some((e) => e.action === 'workload.stop' && e.status === 403), 'val’s stop is audited');
  assert.ok(denied.filter((e) => e.status === 404).length >= 3, 'bo’s three attempts are audited');
});
