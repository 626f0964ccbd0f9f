/**
 * Live spend through the server on a real Temporal server and worker: /metrics (Prometheus text),
 * /v1/live and the /v1/events stream filtered per tenant; `gpuflow login` (0600 file) and
 * `gpuflow remote` through the server, also with GPUFLOW_SERVER / GPUFLOW_TOKEN.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { nodeEntryArgs } from '../../../src/cli/nodeEntry.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { startServerFixture, type ServerFixture } from '../../helpers/serverFixture.js';
import { runGpuflow } from '../../helpers/cli.js';

let env: TestEnv;
let fx: ServerFixture;
let anaWl: string;

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
  fx = await startServerFixture(env, 'pglite:memory', { livePollMs: 300 });
  const r = await fx.as.ana!('POST', '/v1/workloads', { name: 'live', project: 'ml', command: "trap 'exit 0' TERM; sleep 300 & wait", gpu: { classes: ['L4'] } });
  assert.equal(r.status, 201);
  anaWl = r.body.workloadId;
});
after(async () => {
  if (anaWl) await env.client.handle(anaWl).stop('test cleanup').catch(() => undefined);
  await fx?.close();
  await env?.teardown();
});

function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return undefined;
}

test('/metrics shows $/h burning and cost per project, tenant and provider, and workloads by state', async () => {
  const text = await waitFor('the running workload in /metrics', async () => {
    const r = await fetch(`${fx.server.url}/metrics`);
    const t = await r.text();
    return (metricValue(t, 'gpuflow_workloads', { state: 'running' }) ?? 0) >= 1 ? t : undefined;
  });
  assert.equal(metricValue(text, 'gpuflow_spend_rate_usd_per_hour', { project: 'ml', tenant: 'acme', provider: 'local' }), 0.8, 'the L4 at 0.80/h');
  assert.ok(metricValue(text, 'gpuflow_workload_cost_usd', { workload: anaWl }) !== undefined);
  const first = metricValue(text, 'gpuflow_workload_cost_usd', { workload: anaWl })!;
  await waitFor('cost to rise', async () => {
    const t = await (await fetch(`${fx.server.url}/metrics`)).text();
    return (metricValue(t, 'gpuflow_workload_cost_usd', { workload: anaWl }) ?? 0) > first;
  });
  assert.ok((metricValue(text, 'gpuflow_budget_reserved_usd', { scope: 'project', name: 'ml' }) ?? 0) > 0, 'the hold on ml’s budget');
});

test('/v1/live and /v1/events show a tenant only its own workloads', async () => {
  const ana = await waitFor('ana’s live view', async () => {
    const r = await fx.as.ana!('GET', '/v1/live');
    return r.body.workloads?.some((w: { workloadId: string }) => w.workloadId === anaWl) ? r.body : undefined;
  });
  assert.equal(ana.ratePerHour, '0.80');
  assert.deepEqual(ana.byTenant.map((t: { name: string }) => t.name), ['acme']);
  const bo = await fx.as.bo!('GET', '/v1/live');
  assert.equal(bo.status, 200);
  assert.deepEqual(bo.body.workloads, [], 'globex sees nothing of acme');
  assert.equal(bo.body.ratePerHour, '0.00');

  const ctrl = new AbortController();
  const res = await fetch(`${fx.server.url}/v1/events?access_token=${encodeURIComponent(fx.tokens.bo!)}`, { signal: ctrl.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body!.getReader();
  let buf = '';
  while (!buf.includes('\n\n')) buf += new TextDecoder().decode((await reader.read()).value);
  ctrl.abort();
  const data = JSON.parse(/data: (.*)\n/.exec(buf)![1]!);
  assert.deepEqual(data.workloads, []);
  const anon = await fetch(`${fx.server.url}/v1/events`);
  assert.equal(anon.status, 401);
});

async function login(home: string, url: string, token: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [...nodeEntryArgs('cli/main'), 'login', url, '--token-stdin'], { env: { ...env.childEnv, GPUFLOW_HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.end(`${token}\n`);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { code, out };
}

test('gpuflow login keeps the token in a 0600 file; ps and stop go through the server', async () => {
  const home = join(env.dir, 'cli-home');
  const bad = await login(home, fx.server.url, `${fx.tokens.ana!.slice(0, -3)}xyz`);
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /401/);
  const ok = await login(home, fx.server.url, fx.tokens.ana!);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /logged in .* as ana; projects: ml \(member\)/);
  assert.equal(statSync(join(home, 'server-login.json')).mode & 0o777, 0o600);
  const ps = await runGpuflow({ ...env.childEnv, GPUFLOW_HOME: home }, ['ps', '--json']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.ok(JSON.parse(ps.stdout).some((w: { workloadId: string }) => w.workloadId === anaWl));
  // GPUFLOW_SERVER + GPUFLOW_TOKEN: bo, who may not stop ana's workload.
  const asBo = { ...env.childEnv, GPUFLOW_HOME: join(env.dir, 'nobody'), GPUFLOW_SERVER: fx.server.url, GPUFLOW_TOKEN: fx.tokens.bo! };
  const refused = await runGpuflow(asBo, ['stop', anaWl]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, new RegExp(`no workload ${anaWl} visible to you`));
  const stopped = await runGpuflow({ ...env.childEnv, GPUFLOW_HOME: home }, ['stop', anaWl]);
  assert.equal(stopped.code, 0, stopped.stderr);
});
