/**
 * The conformance suite against the Google Compute Engine adapter (@google-cloud/compute, REST,
 * unmodified) and the Compute v1 replica (self-signed service-account JWT verified, rate limit on),
 * whose instances are real local cloud sshd instances.
 *
 *   node --import tsx --test test/conformance/gcp.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GcpCredential } from '../../src/providers/gcp/index.js';
import { BACKING } from '../replicas/backingCatalog.js';
import { writeGcpReplicaCatalog } from '../replicas/gcp/catalog.js';
import { startGcpReplica } from '../replicas/gcp/server.js';
import { testServiceAccount } from '../replicas/gcp/serviceAccount.js';
import { useReplicaOnBackingCloud } from './replicaClouds.js';
import { runConformanceSuite } from './suite.js';

const sa = testServiceAccount();
const catalogFile = writeGcpReplicaCatalog(mkdtempSync(join(tmpdir(), 'gpuflow-gcp-conformance-')));
const replica = useReplicaOnBackingCloud((localCloud) =>
  startGcpReplica({ localCloud, project: sa.key.project_id, serviceAccount: { email: sa.key.client_email, keyId: sa.key.private_key_id, publicKey: sa.publicKey }, backing: BACKING }),
);

runConformanceSuite({
  name: 'gcp',
  credential: () => new GcpCredential({ refId: 'conformance-gcp', regions: ['us-central1', 'europe-west4'], key: sa.key, endpoint: replica().url, catalogFile, testReplica: true, instancePollMs: 500 }),
  location: 'us-central1',
  // <region>-<zone>-<type>: one offer per zone (capacity is per zone).
  stableIds: ['us-central1-us-central1-a-a3-highgpu-8g', 'us-central1-us-central1-b-g2-standard-4', 'europe-west4-europe-west4-a-a2-highgpu-1g'],
  sshTimeoutMs: 60_000,
  // At the replica: one insert named for the refId, identity labels and metadata, the key in ssh-keys, the DLVM image.
  afterCreate: (instance) => {
    const [zone, name] = instance.cloudId.split('/') as [string, string];
    const i = replica().admin.instance(zone, name)!;
    assert.equal(i.metadata.find((m) => m.key === 'gpuflow-ref-id')?.value, instance.refId);
    assert.equal(i.labels['gpuflow-cloud-cred-ref-id'], 'conformance-gcp');
    assert.match(i.metadata.find((m) => m.key === 'ssh-keys')?.value ?? '', /^gpuflow:ssh-/);
    const disks = i.request.disks as { initializeParams: { sourceImage: string } }[];
    assert.match(disks[0]!.initializeParams.sourceImage, /deeplearning-platform-release/);
    assert.equal(replica().admin.everInstances().filter((x) => x.name === name).length, 1, 'one insert for the refId');
  },
});
