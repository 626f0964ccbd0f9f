/**
 * A workload through the Shadeform adapter, end to end: a real Temporal dev server, a gpuflow worker
 * (a child process, so its logs can be read), the local cloud, and the Shadeform replica whose
 * instances are local cloud sshd instances. Also: the API key appears neither in the workflow
 * history nor in the worker's logs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { LocalCredential } from '../../../src/providers/local/index.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { assertSecretKeptOut, spawnDebugWorker, writeSecretFile } from '../../helpers/providerWorker.js';
import { startShadeformReplica, type ShadeformReplicaHandle } from '../../replicas/shadeform/server.js';

const apiKey = `sf_secret_${randomBytes(16).toString('hex')}`;
let env: TestEnv;
let replica: ShadeformReplicaHandle | undefined;
let logs: () => string;
let workloadId = '';

before(async () => {
  env = await startTestEnv({
    extraConnections: async ({ dir, cloud }) => {
      replica = await startShadeformReplica({ localCloud: { url: cloud.url, token: cloud.token }, apiKey, backing: { type: 'gpu_1x_l4', location: 'us-east' } });
      const apiKeyFile = writeSecretFile(dir, 'shadeform-api-key', apiKey);
      return [{ kind: 'shadeform', name: 'shadeform', apiKeyFile, baseUrl: replica.url, testReplica: true }];
    },
  });
  ({ logs } = await spawnDebugWorker(env));
});

after(async () => {
  await env?.teardown();
  await replica?.close();
});

it('runs a workload on Shadeform from create to terminate', { timeout: 90_000 }, async () => {
  const wl = await env.client.launch({ name: 'on-shadeform', command: 'echo hello-from-shadeform', gpu: { classes: ['L40'] } });
  workloadId = wl.workloadId;
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.exitCode, 0);
  assert.equal(r.offer?.connection, 'shadeform');
  assert.equal(r.offer?.type, 'massedcompute_L40');
  assert.equal(r.offer?.country, 'USA');
  const cloudId = (await wl.status()).instance?.cloudId;
  assert.ok(cloudId);

  // At the replica: deleting, then deleted (Shadeform deletes asynchronously), created with our tags.
  await waitFor('the instance deleted at the replica', async () => (await replica!.admin.instances()).find((i) => i.id === cloudId)?.status === 'deleted', 15_000);
  const create = replica!.admin.creates().at(-1)!;
  assert.equal(create.cloud, 'massedcompute');
  assert.equal(create.shade_instance_type, 'L40');
  assert.equal(create.shade_cloud, true);
  assert.ok((create.tags as string[]).includes('gpuflow-cloud-cred-ref-id=shadeform'));
  assert.ok((create.tags as string[]).includes(`gpuflow-workload=${wl.workloadId}`));
  assert.equal(create.ssh_key_id, replica!.admin.sshKeys()[0]!.id);

  const local = await new LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  const backing = await local.getInstance(replica!.admin.backingId(cloudId)!);
  assert.equal(backing.status.lifecycleStatus, 'terminated');
});

it('keeps the API key out of the workflow history and worker logs', async () => {
  await assertSecretKeptOut(env, { secret: apiKey, workloadIds: [workloadId!], logs, provider: 'shadeform' });
});
