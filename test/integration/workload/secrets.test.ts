/**
 * A secret sweep over one run as a user makes it: a workload on a provider replica (API key) and
 * one on the local cloud (bearer token), both with secretEnv; then every workflow history in the
 * namespace (payloads decoded), every line the worker logged at debug level, and `gpuflow status
 * --json` / `gpuflow ps --json` are searched for each secret. None may be found.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { runGpuflow } from '../../helpers/cli.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { historyText } from '../../helpers/historyText.js';
import { writeSecretFile } from '../../helpers/providerWorker.js';
import { startShadeformReplica, type ShadeformReplicaHandle } from '../../replicas/shadeform/server.js';

const apiKey = `sf_secret_${randomBytes(16).toString('hex')}`;
const jobSecret = `hf_${randomBytes(16).toString('hex')}`;
const jobSecretSha = createHash('sha256').update(jobSecret).digest('hex');
let env: TestEnv;
let replica: ShadeformReplicaHandle | undefined;
const output: string[] = [];

before(async () => {
  env = await startTestEnv({
    extraConnections: async ({ dir, cloud }) => {
      replica = await startShadeformReplica({ localCloud: { url: cloud.url, token: cloud.token }, apiKey, backing: { type: 'gpu_1x_l4', location: 'us-east' } });
      return [{ kind: 'shadeform', name: 'shadeform', apiKeyFile: writeSecretFile(dir, 'shadeform-api-key', apiKey), baseUrl: replica.url, testReplica: true }];
    },
  });
  const worker = await env.spawnWorker({ captureOutput: true, env: { GPUFLOW_LOG_LEVEL: 'debug', SWEEP_JOB_SECRET: jobSecret } });
  worker.stdout!.on('data', (d: Buffer) => output.push(d.toString('utf8')));
  worker.stderr!.on('data', (d: Buffer) => output.push(d.toString('utf8')));
});

after(async () => {
  await env?.teardown();
  await replica?.close();
});

it('finds no secret in any history, log or status of a run with secretEnv and provider keys', { timeout: 180_000 }, async () => {
  // The job proves it got the secret without printing it (its log is the user's own business).
  const command = `[ "$(printf %s "$HF_TOKEN" | sha256sum | cut -c1-64)" = ${jobSecretSha} ] && echo secret-ok`;
  const onReplica = await env.client.launch({ name: 'sweep-shadeform', command, gpu: { classes: ['L40'] }, secretEnv: { HF_TOKEN: 'env:SWEEP_JOB_SECRET' } });
  const onLocal = await env.client.launch({ name: 'sweep-local', command, gpu: { classes: ['L4'] }, secretEnv: { HF_TOKEN: 'env:SWEEP_JOB_SECRET' } });
  for (const wl of [onReplica, onLocal]) {
    const r = await wl.result();
    assert.equal(r.exitCode, 0, `${wl.workloadId}: the job saw its secret`);
  }
  assert.equal((await onReplica.status()).offer?.connection, 'shadeform');
  await waitFor('the adapter logged its requests', async () => output.join('').includes('shadeform api request'), 10_000);

  const secrets: Record<string, string> = {
    'secretEnv value': jobSecret,
    'Shadeform API key': apiKey,
    'local cloud token': env.cloud.token,
    'SSH private key': readFileSync(env.sshKeyFile, 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')).join('').slice(0, 64),
  };
  const places: Record<string, string> = {};
  const listed = env.client.temporal.workflow.list();
  for await (const w of listed) places[`history of ${w.workflowId}`] = historyText(await env.client.temporal.workflow.getHandle(w.workflowId, w.runId).fetchHistory());
  assert.ok(Object.keys(places).length >= 3, 'both workloads and the budget entity were searched');
  assert.ok(places[`history of ${onLocal.workloadId}`]!.includes('SWEEP_JOB_SECRET'), 'payloads are decoded: the secret reference is there, its value must not be');
  places['worker log'] = output.join('');
  for (const wl of [onReplica, onLocal]) {
    const st = await runGpuflow(env.childEnv, ['status', wl.workloadId, '--json']);
    assert.equal(st.code, 0, st.stderr);
    places[`status --json of ${wl.workloadId}`] = st.stdout + st.stderr;
  }
  const ps = await runGpuflow(env.childEnv, ['ps', '--json']);
  places['ps --json'] = ps.stdout + ps.stderr;
  for (const [where, text] of Object.entries(places)) {
    for (const [what, secret] of Object.entries(secrets)) assert.ok(!text.includes(secret), `the ${what} is in the ${where}`);
  }
});
