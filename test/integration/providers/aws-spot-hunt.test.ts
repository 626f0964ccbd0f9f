/**
 * Spot hunting across zones (AwsCredential `spotHuntZones`): one create asks several zones at
 * once, keeps one instance and terminates the rest before it returns; a retry finds the winner.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { AwsCredential, type AwsClient } from '../../../src/providers/aws/index.js';
import { CloudError } from '../../../src/providers/sdk/errors.js';
import { generateSshKeyPair } from '../../../src/ssh/sshClient.js';
import { writeReplicaCatalog } from '../../replicas/aws/catalog.js';
import { startAwsReplica, type AwsReplicaHandle } from '../../replicas/aws/server.js';
import { BACKING, startBackingCloud } from '../../replicas/backingCatalog.js';

const keys = { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') };
const publicKey = generateSshKeyPair('hunt').publicKey;
let backing: Awaited<ReturnType<typeof startBackingCloud>>;
let replica: AwsReplicaHandle;
let client: AwsClient;

before(async () => {
  backing = await startBackingCloud();
  replica = await startAwsReplica({ localCloud: backing, ...keys, backing: BACKING });
  const cred = new AwsCredential({ refId: 'hunt', regions: ['us-east-1'], keys, endpoint: replica.url, catalogFile: writeReplicaCatalog(mkdtempSync(join(tmpdir(), 'gpuflow-hunt-'))), testReplica: true, spotHuntZones: 3 });
  client = (await cred.makeClient('us-east-1')) as AwsClient;
});
after(async () => {
  await replica?.close();
  await backing?.close();
});

const liveOf = (refId: string) => replica.admin.instances().filter((i) => i.tags.get('gpuflow-ref-id') === refId && i.state !== 'terminated' && i.state !== 'shutting-down');
const spot = (refId: string) => client.createInstance({ refId, location: 'us-east-1', subLocation: 'us-east-1a', instanceType: 'g6.xlarge', publicKey, useSpot: true });

it('asks three zones at once and keeps the first instance up; the others are terminated before it returns', async () => {
  const before = replica.admin.launches().length;
  const inst = await spot('hunt-1');
  assert.ok(['us-east-1a', 'us-east-1b', 'us-east-1c'].includes(inst.subLocation));
  const zones = replica.admin.launches().slice(before).map((l) => l['Placement.AvailabilityZone']).sort();
  assert.deepEqual(zones, ['us-east-1a', 'us-east-1b', 'us-east-1c']);
  assert.deepEqual(liveOf('hunt-1').map((i) => i.id), [inst.cloudId], 'one live instance when the create returns');
  const again = await spot('hunt-1');
  assert.equal(again.cloudId, inst.cloudId, 'a retried create finds the winner');
  await client.terminateInstance(inst.cloudId);
});

it('lands in another zone when the offer zone has no spot capacity', async () => {
  replica.admin.setCapacityOff({ type: 'g6.xlarge', zone: 'us-east-1a', market: 'spot' });
  replica.admin.setCapacityOff({ type: 'g6.xlarge', zone: 'us-east-1b', market: 'spot' });
  try {
    const inst = await spot('hunt-2');
    assert.equal(inst.subLocation, 'us-east-1c');
    assert.equal(inst.instanceTypeId, 'us-east-1-us-east-1c-g6.xlarge');
    assert.equal(liveOf('hunt-2').length, 1);
    await client.terminateInstance(inst.cloudId);
    replica.admin.setCapacityOff({ type: 'g6.xlarge', zone: 'us-east-1c', market: 'spot' });
    await assert.rejects(spot('hunt-3'), (e: CloudError) => e.code === 'INSUFFICIENT_CAPACITY' && e.scope === 'zone');
    assert.equal(liveOf('hunt-3').length, 0);
  } finally {
    replica.admin.clearCapacity();
  }
});
