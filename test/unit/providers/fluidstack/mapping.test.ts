/** FluidStack wire format → contract: quantities, GPUs, prices, regions and countries, statuses, identity, credential. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  FluidstackCredential,
  FluidstackInstanceSchema,
  FluidstackInstanceTypesSchema,
  checkFluidstackTags,
  fluidstackGpu,
  fluidstackInstance,
  fluidstackInstanceTypes,
  fluidstackLocation,
  fluidstackStatus,
  parseQuantity,
  resolveRegion,
  FluidstackRegionConfigSchema,
  sshKeyUserData,
  type FluidstackRegion,
} from '../../../../src/providers/fluidstack/index.js';
import { InstanceSchema, InstanceTypeSchema, LocationSchema } from '../../../../src/providers/sdk/types.js';
import { authorizedKeyFromUserData } from '../../../replicas/fluidstack/server.js';

/** The spec's own InstanceType and Instance examples. */
const SPEC_TYPE = { memory: '960Gi', gpuModel: 'GH100_H100_SXM5_80GB', name: 'h100-hgx-80gb.8x', cpu: 96, gpuCount: 8 };
const SPEC_INSTANCE = {
  image: 'ubuntu22.04',
  preemptible: false,
  userData: 'STJOc2IzVmtMV052Ym1acFp3cHdZV05yWVdkbGN6b0tJQ0F0SUc1bmFXNTQK',
  ip: '10.0.0.2',
  name: 'instance-1',
  ephemeral: false,
  id: '550e8400-e29b-41d4-a716-446655440000',
  state: 'running',
  type: 'h100-hgx-80gb.8x',
  filesystems: ['123e4567-e89b-12d3-a456-426614174000'],
  tags: { environment: 'production' },
};
const PROJECT = '123e4567-e89b-12d3-a456-426614174003';
const FI: FluidstackRegion = resolveRegion(FluidstackRegionConfigSchema.parse({ name: 'finland-1', projectId: PROJECT, country: 'FI' }));
const price = (onDemand: string, preemptible?: string) => ({ onDemand: { amount: Math.round(Number(onDemand) * 100), currency: 'USD', scale: 2 }, ...(preemptible ? { preemptible: { amount: Math.round(Number(preemptible) * 100), currency: 'USD', scale: 2 } } : {}) });

describe('FluidStack quantities', () => {
  it('parses Kubernetes memory quantities exactly', () => {
    assert.deepEqual(parseQuantity('960Gi'), { value: 960, unit: 'GiB' });
    assert.deepEqual(parseQuantity('1Ti'), { value: 1, unit: 'TiB' });
    assert.deepEqual(parseQuantity('1.5Ti'), { value: 1536, unit: 'GiB' });
    assert.deepEqual(parseQuantity('512G'), { value: 512, unit: 'GB' });
    assert.deepEqual(parseQuantity('960GB'), { value: 960, unit: 'GB' }, 'a trailing B is tolerated');
    assert.deepEqual(parseQuantity('1048576'), { value: 1, unit: 'MiB' });
    assert.equal(parseQuantity('lots'), undefined);
    assert.equal(parseQuantity('0.5'), undefined, 'not a whole number of bytes');
  });
});

describe('FluidStack instance types', () => {
  const types = FluidstackInstanceTypesSchema.parse([
    SPEC_TYPE,
    { name: 'a100-sxm4-80gb.8x', cpu: 128, memory: '1Ti', gpuModel: 'GA100_A100_SXM4_80GB', gpuCount: 8 },
    { name: 'cpu-32c.1x', cpu: 32, memory: '128Gi' },
    { name: 'unpriced.1x', cpu: 8, memory: '64Gi', gpuModel: 'AD102_L40S_PCIE_48GB', gpuCount: 1 },
  ]);
  const prices: Record<string, ReturnType<typeof price>> = { 'h100-hgx-80gb.8x': price('23.92', '11.96'), 'a100-sxm4-80gb.8x': price('14.00'), 'cpu-32c.1x': price('0.40') };
  const its = fluidstackInstanceTypes(FI, types, [{ name: 'h100-hgx-80gb.8x', capacity: 1 }, { name: 'a100-sxm4-80gb.8x', capacity: 0 }], (t) => prices[t]);

  it('maps the spec example: one type per region, stable ID, GPUs from gpuModel, memory from the quantity, priced', () => {
    assert.deepEqual(its.map((t) => t.id), ['finland-1-noSub-h100-hgx-80gb.8x', 'finland-1-noSub-a100-sxm4-80gb.8x', 'finland-1-noSub-cpu-32c.1x']);
    for (const t of its) assert.ok(InstanceTypeSchema.safeParse(t).success, t.id);
    const [h100, a100, cpu] = its;
    assert.equal(h100.type, 'h100-hgx-80gb.8x');
    assert.equal(h100.location, 'finland-1');
    assert.equal(h100.vcpu, 96);
    assert.deepEqual(h100.memory, { value: 960, unit: 'GiB' });
    assert.deepEqual(h100.supportedGpus, [{ count: 8, memory: { value: 80, unit: 'GiB' }, memoryDetails: '', networkDetails: 'SXM5', manufacturer: 'NVIDIA', name: 'H100', type: 'H100.SXM5' }]);
    assert.equal(a100.supportedGpus[0].type, 'A100.SXM4');
    assert.deepEqual(cpu.supportedGpus, [], 'a type without GPUs has none');
    assert.equal(h100.provider, 'fluidstack');
    assert.equal(h100.stoppable, true);
    assert.equal(h100.rebootable, false);
  });

  it('availability comes from /capacity; prices from the connection; spot only with a preemptible price', () => {
    const [h100, a100, cpu] = its;
    assert.equal(h100.isAvailable, true);
    assert.equal(a100.isAvailable, false, 'capacity 0');
    assert.equal(cpu.isAvailable, false, 'absent from /capacity');
    assert.deepEqual(h100.basePrice, { amount: 2392, currency: 'USD', scale: 2 });
    assert.deepEqual(h100.spotPrice, { amount: 1196, currency: 'USD', scale: 2 });
    assert.deepEqual(h100.supportedUsageClasses, ['on-demand', 'spot']);
    assert.equal(h100.preemptible, true);
    assert.deepEqual(a100.supportedUsageClasses, ['on-demand']);
    assert.equal(a100.spotPrice, undefined);
    assert.ok(!its.some((t) => t.type === 'unpriced.1x'), 'a type the connection prices not is not offered');
  });

  it('normalizes gpuModel strings: die codename dropped, memory and form factor kept; Grace is arm64', () => {
    assert.equal(fluidstackGpu({ gpuModel: 'GH100_H200_SXM5_141GB', gpuCount: 8 })!.name, 'H200');
    assert.deepEqual(fluidstackGpu({ gpuModel: 'GH100_H200_SXM5_141GB', gpuCount: 8 })!.memory, { value: 141, unit: 'GiB' });
    assert.equal(fluidstackGpu({ gpuModel: 'AD102_L40S_PCIE_48GB', gpuCount: 1 })!.type, 'L40S.PCIe');
    assert.equal(fluidstackGpu({ gpuModel: 'NVIDIA-H100-80GB-HBM3', gpuCount: 1 })!.memoryDetails, 'HBM3', 'a name without a die codename');
    assert.equal(fluidstackGpu({ gpuModel: 'GH100_H100_SXM5_80GB', gpuCount: 0 }), undefined);
    assert.equal(fluidstackGpu({ gpuModel: null, gpuCount: 8 }), undefined);
    const [gh] = fluidstackInstanceTypes(FI, [{ name: 'gh200.1x', cpu: 72, memory: '480Gi', gpuModel: 'GH100_GH200_96GB', gpuCount: 1 }], [], () => price('3.00'));
    assert.equal(gh.supportedGpus[0].name, 'GH200');
    assert.deepEqual(gh.supportedArchitectures, ['arm64']);
  });
});

describe('FluidStack regions', () => {
  it('are configured with project and country (alpha-2 or alpha-3); the URL defaults to the spec server', () => {
    assert.equal(FI.country, 'FIN');
    assert.equal(FI.url, 'https://finland-1.atlas.fluidstack.io/api/v1alpha1');
    const loc = fluidstackLocation(FI, [{ name: 'x', capacity: 0 }, { name: 'y', capacity: 2 }]);
    assert.ok(LocationSchema.safeParse(loc).success);
    assert.equal(loc.available, true);
    assert.equal(fluidstackLocation(FI, [{ name: 'x', capacity: 0 }]).available, false);
    const bad = FluidstackRegionConfigSchema.safeParse({ name: 'Finland 1', projectId: 'nope', country: 'Atlantis' });
    assert.equal(bad.success, false);
    const msgs = bad.error!.issues.map((i) => i.message).join(' | ');
    assert.match(msgs, /regions\[\]\.name must be lower-case/);
    assert.match(msgs, /projectId must be the UUID/);
    assert.match(msgs, /country "Atlantis" is not an ISO 3166-1 country code/);
  });
});

describe('FluidStack instances', () => {
  it('maps the spec example, reading identity and creation time back from tags', () => {
    const w = FluidstackInstanceSchema.parse({
      ...SPEC_INSTANCE,
      tags: { environment: 'production', 'gpuflow-ref-id': 'wl-1-1', 'gpuflow-cloud-cred-ref-id': 'fs', 'gpuflow-created-at': '2026-11-23T10:00:00.000Z' },
    });
    const i = fluidstackInstance(w, 'finland-1', { testReplica: false });
    assert.ok(InstanceSchema.safeParse(i).success);
    assert.equal(i.refId, 'wl-1-1');
    assert.equal(i.cloudCredRefId, 'fs');
    assert.equal(i.createdAt, '2026-11-23T10:00:00.000Z');
    assert.equal(i.cloudId, SPEC_INSTANCE.id);
    assert.equal(i.instanceTypeId, 'finland-1-noSub-h100-hgx-80gb.8x');
    assert.equal(i.privateIp, '10.0.0.2');
    assert.equal(i.publicIp, '10.0.0.2', 'the API’s one address is what SSH reaches');
    assert.equal(i.sshUser, 'ubuntu');
    assert.equal(i.sshPort, 22);
    assert.equal(i.imageId, 'ubuntu22.04');
    assert.equal(i.status.lifecycleStatus, 'running');
    assert.equal(i.tags.environment, 'production');
    assert.equal(i.stoppable, true);
  });

  it('reads the replica extension only with testReplica', () => {
    const w = FluidstackInstanceSchema.parse({ ...SPEC_INSTANCE, gpuflow_replica: { ssh_port: 40022, ssh_user: 'me', not_privileged: true } });
    assert.equal(fluidstackInstance(w, 'r', { testReplica: false }).sshPort, 22);
    const t = fluidstackInstance(w, 'r', { testReplica: true });
    assert.deepEqual([t.sshPort, t.sshUser, t.notPrivileged], [40022, 'me', true]);
  });

  it('maps every state; out-of-stock is failed, and preemption for preemptible instances', () => {
    const s = (state: string, pre = false) => fluidstackStatus(state, pre);
    assert.equal(s('creating').lifecycleStatus, 'pending');
    assert.equal(s('starting').lifecycleStatus, 'pending');
    assert.equal(s('running').lifecycleStatus, 'running');
    assert.equal(s('stopping').lifecycleStatus, 'stopping');
    assert.equal(s('stopped').lifecycleStatus, 'stopped');
    assert.equal(s('deleting').lifecycleStatus, 'terminating');
    assert.equal(s('error').lifecycleStatus, 'failed');
    assert.deepEqual(s('out-of-stock'), { lifecycleStatus: 'failed', messages: ['fluidstack has no stock for this instance type (out-of-stock)'] });
    assert.equal(s('out-of-stock', true).lifecycleStatus, 'failed');
    assert.equal(s('out-of-stock', true).interruption, 'preempted');
    assert.equal(s('hibernating').lifecycleStatus, 'pending');
    assert.match(s('hibernating').messages[0], /unknown fluidstack state "hibernating"/);
  });

  it('checks tag keys against the spec’s rule', () => {
    assert.deepEqual(checkFluidstackTags({ 'gpuflow-ref-id': 'x', 'a.b_c': 'y', Z9: '' }), []);
    assert.equal(checkFluidstackTags({ '-bad': 'x', 'bad-': 'y', 'has space': 'z', ['k'.repeat(64)]: 'w' }).length, 4);
  });

  it('puts the SSH key in cloud-config user data, which the replica (like cloud-init) reads back', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@host';
    const ud = sshKeyUserData(key);
    assert.match(Buffer.from(ud, 'base64').toString('utf8'), /^#cloud-config\nssh_authorized_keys:\n {2}- ssh-ed25519 /);
    assert.equal(authorizedKeyFromUserData(ud), key);
    assert.equal(authorizedKeyFromUserData(Buffer.from('#!/bin/sh\necho hi').toString('base64')), undefined);
  });
});

describe('FluidstackCredential', () => {
  const ok = { refId: 'fs', apiToken: 'eyJhbGciOi.secret.token', regions: [{ name: 'finland-1', projectId: PROJECT, country: 'FIN' }], prices: { 'h100-hgx-80gb.8x': { onDemand: '23.92' } } };

  it('keeps the token out of JSON and inspection; locational; tenant is a hash', async () => {
    const c = new FluidstackCredential(ok);
    assert.equal(c.apiToken, ok.apiToken);
    assert.ok(!JSON.stringify(c).includes('secret'));
    assert.ok(!inspect(c, { depth: 5 }).includes('secret'));
    assert.equal(c.getApiType(), 'locational');
    assert.match(await c.getTenantId(), /^fluidstack-[0-9a-f]{16}$/);
    assert.deepEqual(await c.getCapabilities(), ['create-instance', 'terminate-instance', 'create-terminate-instance', 'stop-start-instance']);
    assert.equal((await c.makeClient('finland-1')).getReferenceId(), 'fs');
    await assert.rejects(c.makeClient('mars-1'), /region "mars-1" is not configured/);
  });

  it('names every bad field', () => {
    assert.throws(
      () => new FluidstackCredential({ ...ok, apiToken: 'has space', regions: [], prices: { x: { onDemand: '2,49' } } }),
      (e: Error) => /apiToken must not contain whitespace/.test(e.message) && /regions: regions must list at least one/.test(e.message) && /prices\.x\.onDemand/.test(e.message),
    );
    assert.throws(() => new FluidstackCredential({ ...ok, regions: [ok.regions[0], ok.regions[0]] }), /regions must not name a region twice/);
    assert.throws(() => new FluidstackCredential({ ...ok, testReplica: true }), /testReplica is for local replicas only/);
  });
});
