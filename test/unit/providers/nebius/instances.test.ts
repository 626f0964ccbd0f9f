/** Instances: status and preemption, cloud-init, credential validation, proto vendoring. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parse } from 'yaml';
import { cloudInitFor, isPreempted, NebiusCredential, nebiusStatus, type NebiusInstance } from '../../../../src/providers/nebius/index.js';
// @ts-expect-error -- a plain .mjs script without types
import { stripValidate } from '../../../../scripts/vendor-nebius-protos.mjs';

const inst = (state: string, spec: Partial<NonNullable<NebiusInstance['spec']>>): NebiusInstance => ({
  metadata: { id: 'computeinstance-e00x', parentId: 'project-e00a', name: 'n', labels: {} },
  spec: { resources: { platform: 'gpu-h200-sxm', preset: '1gpu-16vcpu-200gb' }, ...spec },
  status: { state: state as never },
});

it('a preemptible instance Nebius stopped (spec.stopped false) is preempted; one the user stopped is not', () => {
  const pre = { preemptible: { onPreemption: 'STOP' }, stopped: false };
  assert.equal(isPreempted(inst('STOPPED', pre)), true);
  assert.deepEqual(nebiusStatus(inst('STOPPED', pre)).interruption, 'preempted');
  assert.equal(isPreempted(inst('STOPPING', pre)), true);
  assert.equal(isPreempted(inst('RUNNING', pre)), false);
  assert.equal(isPreempted(inst('STOPPED', { ...pre, stopped: true })), false);
  assert.equal(isPreempted(inst('STOPPED', { stopped: false })), false, 'a regular instance is never preempted');
});

it('maps states to lifecycle statuses', () => {
  const m = (s: string) => nebiusStatus(inst(s, {})).lifecycleStatus;
  assert.deepEqual(['CREATING', 'STARTING', 'RUNNING', 'STOPPING', 'STOPPED', 'DELETING', 'ERROR'].map(m), ['pending', 'pending', 'running', 'stopping', 'stopped', 'terminating', 'failed']);
});

it('cloud-init installs the key unfolded for the SSH user and runs the user script once', () => {
  const key = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA${'x'.repeat(60)} me@host`;
  const text = cloudInitFor(key, '#!/bin/sh\necho hi\n');
  assert.match(text, /^#cloud-config\n/);
  assert.ok(text.includes(key), 'the key is on one line');
  const doc = parse(text) as { users: { name: string; ssh_authorized_keys: string[] }[]; write_files: { content: string }[]; runcmd: string[][] };
  assert.deepEqual(doc.users[0]!.ssh_authorized_keys, [key]);
  assert.equal(doc.write_files[0]!.content, '#!/bin/sh\necho hi\n');
  assert.deepEqual(doc.runcmd, [['/var/lib/gpuflow/user-data']]);
  assert.equal((parse(cloudInitFor(key, '')) as Record<string, unknown>).runcmd, undefined);
});

it('the credential hides the token and names bad fields', () => {
  const token = 'ne1-secret-token-0123456789abcdef';
  const c = new NebiusCredential({ refId: 'n', iamToken: token, projects: { 'eu-north1': { projectId: 'project-e00abc', subnetId: 'vpcsubnet-e00abc' } } });
  assert.ok(!JSON.stringify(c).includes(token));
  assert.ok(!Object.keys(c).includes('iamToken'));
  assert.equal(c.endpoint, 'compute.api.nebius.cloud:443');
  assert.throws(() => new NebiusCredential({ refId: 'n', iamToken: token, projects: { 'mars-1': { projectId: 'project-e00abc', subnetId: 'vpcsubnet-e00abc' } } }), /region → country table/);
  assert.throws(() => new NebiusCredential({ refId: 'n', iamToken: token, projects: { 'eu-north1': { projectId: 'p1', subnetId: 'vpcsubnet-e00abc' } } }), /projectId must be a Nebius project ID/);
  assert.throws(() => new NebiusCredential({ refId: 'n', iamToken: token, projects: { 'eu-north1': { projectId: 'project-e00abc', subnetId: 'vpcsubnet-e00abc' } }, endpoint: 'example.com:443', tls: false }), /tls may be off only for a loopback/);
});

it('vendoring strips buf.validate options, nested aggregates included, and keeps the rest', () => {
  const src = [
    'import "buf/validate/validate.proto";',
    'message M {',
    '  string a = 1 [(buf.validate.field).required = true];',
    '  string b = 2 [(field_behavior) = IMMUTABLE, (buf.validate.field) = {',
    '    cel: [{ id: "x" message: "has } and ]" expression: "this == \'\'" }]',
    '  }];',
    '  option (buf.validate.message).oneof = { fields: ["a", "b"] };',
    '}',
  ].join('\n');
  const out = stripValidate(src) as string;
  assert.ok(!out.includes('buf.validate'));
  assert.match(out, /string a = 1;/);
  assert.match(out, /string b = 2 \[\(field_behavior\) = IMMUTABLE\s*\];/);
});
