/**
 * The conformance suite against the Nebius adapter (@grpc/grpc-js on Nebius's published protos)
 * and the Compute v1 gRPC replica (IAM token checked), whose instances are real local cloud sshd
 * instances.
 *
 *   node --import tsx --test test/conformance/nebius.test.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { NebiusCredential } from '../../src/providers/nebius/index.js';
import { BACKING } from '../replicas/backingCatalog.js';
import { startNebiusReplica } from '../replicas/nebius/server.js';
import { useReplicaOnBackingCloud } from './replicaClouds.js';
import { runConformanceSuite } from './suite.js';

const token = `ne1${randomBytes(24).toString('base64url')}`;
const projects = {
  'eu-north1': { projectId: 'project-e00conformancefi', subnetId: 'vpcsubnet-e00conformancefi' },
  'us-central1': { projectId: 'project-e00conformanceus', subnetId: 'vpcsubnet-e00conformanceus' },
};
const replica = useReplicaOnBackingCloud((localCloud) =>
  startNebiusReplica({ localCloud, token, backing: BACKING, projects: Object.fromEntries(Object.entries(projects).map(([region, p]) => [p.projectId, { region, subnetId: p.subnetId }])) }),
);

runConformanceSuite({
  name: 'nebius',
  credential: () => new NebiusCredential({ refId: 'conformance-nebius', iamToken: token, projects, endpoint: replica().endpoint, tls: false, testReplica: true, instancePollMs: 500, operationPollMs: 200 }),
  location: 'eu-north1',
  stableIds: ['eu-north1-noSub-gpu-h100-sxm_1gpu-16vcpu-200gb', 'eu-north1-noSub-gpu-l40s-a_1gpu-8vcpu-32gb', 'us-central1-noSub-gpu-b200-sxm_8gpu-160vcpu-1792gb'],
  sshTimeoutMs: 60_000,
  // At the replica: one Create for the refId, identity labels, the key in cloud-init, a managed boot disk from the image family.
  afterCreate: (instance) => {
    const i = replica().admin.instance(instance.cloudId)!;
    assert.equal(i.metadata.labels['gpuflow-ref-id'], instance.refId);
    assert.equal(i.metadata.labels['gpuflow-cloud-cred-ref-id'], 'conformance-nebius');
    assert.match(i.spec.cloudInitUserData, /^#cloud-config\n/);
    assert.match(i.spec.cloudInitUserData, /ssh_authorized_keys:\n\s+- ssh-/);
    const boot = i.request.spec as { bootDisk: { managedDisk: { spec: { sourceImageFamily: { imageFamily: string } } } } };
    assert.equal(boot.bootDisk.managedDisk.spec.sourceImageFamily.imageFamily, 'ubuntu22.04-cuda12');
    assert.equal(replica().admin.everInstances().filter((x) => x.metadata.labels['gpuflow-ref-id'] === instance.refId).length, 1, 'one Create for the refId');
  },
});
