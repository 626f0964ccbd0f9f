/**
 * The conformance suite against the RunPod adapter and a stateful replica of RunPod's GraphQL API
 * whose pods are real local cloud sshd instances.
 *
 *   node --import tsx --test test/conformance/runpod.test.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RunPodCredential } from '../../src/providers/runpod/index.js';
import { BACKING } from '../replicas/backingCatalog.js';
import { startRunPodReplica } from '../replicas/runpod/server.js';
import { useReplicaOnBackingCloud } from './replicaClouds.js';
import { runConformanceSuite } from './suite.js';

const apiKey = `rpa_${randomBytes(16).toString('hex')}`;
const replica = useReplicaOnBackingCloud((localCloud) => startRunPodReplica({ localCloud, apiKey, backing: BACKING }));

runConformanceSuite({
  name: 'runpod',
  credential: () => new RunPodCredential({ refId: 'conformance-runpod', apiKey, baseUrl: replica().url, testReplica: true, instancePollMs: 500 }),
  stableIds: ['1x_NVIDIA_GeForce_RTX_4090_US-TX-3', '8x_NVIDIA_H100_80GB_HBM3_US-TX-3', '2x_NVIDIA_A100_80GB_PCIe_EU-RO-1'],
  sshTimeoutMs: 60_000,
  // RunPod's side of the create: the deploy carried the key the way RunPod takes it.
  afterCreate: (instance) => {
    const deploy = replica().admin.deploys().at(-1)!;
    assert.equal(deploy.mutation, 'podFindAndDeployOnDemand');
    const env = Object.fromEntries((deploy.input.env as { key: string; value: string }[]).map((e) => [e.key, e.value]));
    assert.match(env.PUBLIC_KEY ?? '', /^ssh-ed25519 /);
    assert.equal(env.GPUFLOW_REF_ID, instance.refId);
    assert.equal(deploy.input.startSsh, true);
    assert.equal(deploy.input.ports, '22/tcp');
    assert.equal(deploy.input.cloudType, 'SECURE');
    assert.equal(deploy.input.dataCenterId, instance.location);
  },
});
