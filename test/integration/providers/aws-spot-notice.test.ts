/**
 * The EC2 spot interruption notice on the node: the watcher script (src/providers/aws/spotNotice.ts)
 * polls the replica's IMDSv2 for a real spot instance, and when AWS (the replica) posts the notice
 * it sends a real job process group SIGTERM, so the job's checkpoint hook runs inside the grace,
 * before the instance is taken.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { AwsCredential, spotNoticeWatcherScript } from '../../../src/providers/aws/index.js';
import { generateSshKeyPair } from '../../../src/ssh/sshClient.js';
import { waitFor } from '../../helpers/environment.js';
import { writeReplicaCatalog } from '../../replicas/aws/catalog.js';
import { startAwsReplica, type AwsReplicaHandle } from '../../replicas/aws/server.js';
import { BACKING, startBackingCloud } from '../../replicas/backingCatalog.js';

const keys = { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') };
let backing: Awaited<ReturnType<typeof startBackingCloud>>;
let replica: AwsReplicaHandle;

before(async () => {
  backing = await startBackingCloud();
  replica = await startAwsReplica({ localCloud: backing, ...keys, backing: BACKING, spotNoticeMs: 4_000 });
});
after(async () => {
  await replica?.close();
  await backing?.close();
});

it('the notice reaches the job as SIGTERM inside the grace, before the instance is terminated', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-spot-notice-'));
  const cred = new AwsCredential({ refId: 'notice', regions: ['us-east-1'], keys, endpoint: replica.url, catalogFile: writeReplicaCatalog(dir), testReplica: true });
  const client = await cred.makeClient('us-east-1');
  const inst = await client.createInstance({ refId: 'notice-1', location: 'us-east-1', subLocation: 'us-east-1a', instanceType: 'g6.xlarge', publicKey: generateSshKeyPair('n').publicKey, useSpot: true });

  // A job in its own process group whose checkpoint hook runs on SIGTERM; its pid where node.ts keeps it.
  const job = spawn('bash', ['-c', `trap 'echo checkpointed > "${dir}/checkpoint"; exit 0' TERM; while :; do sleep 0.2; done`], { detached: true, stdio: 'ignore' });
  writeFileSync(join(dir, 'pid'), String(job.pid));
  const exited = new Promise<number | null>((resolve) => job.on('exit', (code) => resolve(code)));
  const watcher = spawn('bash', ['-c', spotNoticeWatcherScript({ jobDir: dir, imdsBase: `${replica.url}/imds/${inst.cloudId}`, pollSeconds: 1, killMarginSeconds: 1 })], { stdio: 'ignore' });
  try {
    await waitFor('running', async () => (await client.getInstance(inst.cloudId)).status.lifecycleStatus === 'running', 15_000);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(job.exitCode, null, 'no notice yet: the job runs');
    const interrupted = replica.admin.interrupt(inst.cloudId);
    assert.equal(await exited, 0, 'the job ran its SIGTERM hook and exited');
    assert.equal(readFileSync(join(dir, 'checkpoint'), 'utf8').trim(), 'checkpointed');
    assert.equal(replica.admin.instance(inst.cloudId)!.state, 'running', 'the instance was still there when the job checkpointed');
    assert.match(readFileSync(join(dir, 'spot-notice'), 'utf8'), /"action":"terminate"/);
    await interrupted;
    await waitFor('terminated', async () => (await client.getInstance(inst.cloudId)).status.lifecycleStatus === 'terminated', 10_000);
    const after = await client.getInstance(inst.cloudId);
    assert.equal(after.status.interruption, 'preempted');
    assert.match(readFileSync(join(dir, 'spot-notice.log'), 'utf8'), /SIGTERM to the job/);
  } finally {
    watcher.kill('SIGKILL');
    try {
      process.kill(-job.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
