/**
 * The conformance suite against the Vast.ai adapter and a stateful replica of Vast's API (its
 * documented per-endpoint rate limits on) whose instances are real local cloud sshd instances.
 *
 *   node --import tsx --test test/conformance/vastai.test.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { VastaiCredential } from '../../src/providers/vastai/index.js';
import { BACKING } from '../replicas/backingCatalog.js';
import { startVastaiReplica } from '../replicas/vastai/server.js';
import { useReplicaOnBackingCloud } from './replicaClouds.js';
import { runConformanceSuite } from './suite.js';

const apiKey = randomBytes(32).toString('hex');
const replica = useReplicaOnBackingCloud((localCloud) => startVastaiReplica({ localCloud, apiKey, backing: BACKING }));

runConformanceSuite({
  name: 'vastai',
  credential: () => new VastaiCredential({ refId: 'conformance-vastai', apiKey, baseUrl: replica().url, testReplica: true, instancePollMs: 500 }),
  // Shapes per country (see src/providers/vastai/catalog.ts): stable while such a machine is listed.
  stableIds: ['US-noSub-1x-RTX_4090-24G', 'US-noSub-1x-H100_SXM-80G', 'TW-noSub-2x-RTX_5090-32G'],
  sshTimeoutMs: 60_000,
  // At the replica: an ask was accepted for direct SSH, identity in the label, the key on the instance.
  afterCreate: (instance) => {
    const create = replica().admin.creates().at(-1)!;
    assert.equal(create.runtype, 'ssh_direct');
    const label = new URLSearchParams(create.label as string);
    assert.equal(label.get('gpuflow-ref-id'), instance.refId);
    assert.equal(label.get('gpuflow-cloud-cred-ref-id'), 'conformance-vastai');
    assert.equal(replica().admin.instanceKeys(instance.cloudId).length, 1);
  },
});
