/**
 * RunPod → contract mapping (pure): type names and IDs, GPU normalization, prices as exact money,
 * data center countries, catalog and locations from a GraphQL answer, pod status (preemption
 * included), identity kept in the pod's env, and the credential's schema.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toDecimalString } from '../../../../src/money/money.js';
import {
  RunPodCredential,
  runpodCreateEnv,
  runpodDataCenterCountry,
  runpodGpu,
  runpodInstance,
  runpodInstanceTypes,
  runpodLocations,
  runpodPrice,
  runpodStatus,
  runpodTypeId,
  runpodTypeName,
  splitRunPodType,
  type RunPodCatalogData,
  type RunPodPodWire,
} from '../../../../src/providers/runpod/index.js';
import { InvalidRequestError } from '../../../../src/providers/sdk/errors.js';
import { InstanceSchema, InstanceTypeSchema, LocationSchema } from '../../../../src/providers/sdk/types.js';

const CATALOG: RunPodCatalogData = {
  dataCenters: [
    { id: 'US-TX-3', name: 'US Texas 3', location: 'United States', listed: true, gpuAvailability: [
      { gpuTypeId: 'NVIDIA GeForce RTX 4090', available: true, stockStatus: 'High' },
      { gpuTypeId: 'NVIDIA H100 80GB HBM3', available: false, stockStatus: null },
    ] },
    { id: 'EU-RO-1', name: 'EU Romania 1', location: 'Romania', listed: true, gpuAvailability: [{ gpuTypeId: 'NVIDIA GeForce RTX 4090', available: true, stockStatus: 'Low' }] },
    { id: 'EU-XX-9', name: 'nowhere', location: 'Atlantis', listed: true, gpuAvailability: [{ gpuTypeId: 'NVIDIA GeForce RTX 4090', available: true, stockStatus: 'High' }] },
    { id: 'US-CA-9', name: 'unlisted', location: 'United States', listed: false, gpuAvailability: [{ gpuTypeId: 'NVIDIA GeForce RTX 4090', available: true, stockStatus: 'High' }] },
  ],
  gpuTypes: [
    { id: 'NVIDIA GeForce RTX 4090', displayName: 'RTX 4090', manufacturer: 'Nvidia', memoryInGb: 24, secureCloud: true, securePrice: 0.69, secureSpotPrice: 0.35, maxGpuCount: 2,
      lowestPrice: { stockStatus: 'High', minimumBidPrice: 0.34, uninterruptablePrice: 0.69, minVcpu: 6, minMemory: 41 } },
    { id: 'NVIDIA H100 80GB HBM3', displayName: 'H100 SXM', manufacturer: 'Nvidia', memoryInGb: 80, secureCloud: true, securePrice: 2.69, secureSpotPrice: 0, maxGpuCount: 1,
      lowestPrice: { stockStatus: null, minimumBidPrice: 0, uninterruptablePrice: 2.69, minVcpu: 16, minMemory: 125 } },
  ],
};

describe('RunPod type names', () => {
  it('round-trips GPU type IDs and counts, and builds IDs per data center', () => {
    const t = runpodTypeName('NVIDIA A100-SXM4-80GB', 4);
    assert.equal(t, '4x_NVIDIA_A100-SXM4-80GB');
    assert.deepEqual(splitRunPodType(t), { gpuTypeId: 'NVIDIA A100-SXM4-80GB', gpuCount: 4 });
    assert.equal(runpodTypeId(t, 'EU-SE-1'), '4x_NVIDIA_A100-SXM4-80GB_EU-SE-1');
    assert.equal(splitRunPodType('gpu_1x_a10'), undefined);
    assert.equal(splitRunPodType('0x_NVIDIA_L4'), undefined);
  });
});

describe('RunPod GPUs and prices', () => {
  it('normalizes RunPod GPU IDs, taking the form factor from the display name when the ID has none', () => {
    const h100 = runpodGpu({ id: 'NVIDIA H100 80GB HBM3', displayName: 'H100 SXM', memoryInGb: 80, manufacturer: 'Nvidia' }, 8)!;
    assert.equal(h100.name, 'H100');
    assert.equal(h100.count, 8);
    assert.equal(h100.memoryDetails, 'HBM3');
    assert.match(h100.networkDetails, /SXM/);
    assert.equal(h100.manufacturer, 'NVIDIA');
    const a100 = runpodGpu({ id: 'NVIDIA A100 80GB PCIe', displayName: 'A100 PCIe', memoryInGb: 80 }, 1)!;
    assert.equal(a100.type, 'A100.PCIe');
    assert.equal(runpodGpu({ id: 'NVIDIA GeForce RTX 4090', displayName: 'RTX 4090', memoryInGb: 24 }, 1)!.name, 'RTX4090');
    assert.equal(runpodGpu({ id: 'NVIDIA RTX A6000', displayName: 'RTX A6000', memoryInGb: 48 }, 1)!.name, 'RTXA6000');
  });

  it('turns float prices into exact money (× count), float noise rounded at 10^-8', () => {
    assert.equal(toDecimalString(runpodPrice(0.69, 8)), '5.52');
    assert.equal(toDecimalString(runpodPrice(0.36979999999999996)), '0.36980000');
    assert.equal(toDecimalString(runpodPrice(1e-9, 1)), '0.00000000');
  });
});

describe('RunPod data center countries', () => {
  it('reads the country from the ID, the US and Canada by prefix, else the location text', () => {
    assert.equal(runpodDataCenterCountry('US-TX-3'), 'USA');
    assert.equal(runpodDataCenterCountry('US-KS-2'), 'USA');
    assert.equal(runpodDataCenterCountry('CA-MTL-1'), 'CAN');
    assert.equal(runpodDataCenterCountry('EU-RO-1'), 'ROU');
    assert.equal(runpodDataCenterCountry('EU-SE-1'), 'SWE');
    assert.equal(runpodDataCenterCountry('EUR-IS-1'), 'ISL');
    assert.equal(runpodDataCenterCountry('AP-JP-1'), 'JPN');
    assert.equal(runpodDataCenterCountry('OC-AU-1'), 'AUS');
    assert.equal(runpodDataCenterCountry('weird', 'Germany'), 'DEU');
    assert.equal(runpodDataCenterCountry('EU-XX-9', 'Atlantis'), undefined);
  });
});

describe('RunPod catalog', () => {
  const types = runpodInstanceTypes(CATALOG);

  it('one type per (GPU type, count, listed data center with a known country), valid against the contract', () => {
    assert.deepEqual(types.map((t) => t.id).sort(), [
      '1x_NVIDIA_GeForce_RTX_4090_EU-RO-1',
      '1x_NVIDIA_GeForce_RTX_4090_US-TX-3',
      '1x_NVIDIA_H100_80GB_HBM3_US-TX-3',
      '2x_NVIDIA_GeForce_RTX_4090_EU-RO-1',
      '2x_NVIDIA_GeForce_RTX_4090_US-TX-3',
    ]);
    for (const t of types) assert.ok(InstanceTypeSchema.safeParse(t).success, t.id);
  });

  it('prices per GPU × count; the spot floor (minimumBidPrice) as spot price; stock status as availability', () => {
    const two = types.find((t) => t.id === '2x_NVIDIA_GeForce_RTX_4090_US-TX-3')!;
    assert.equal(toDecimalString(two.basePrice!), '1.38');
    assert.equal(toDecimalString(two.spotPrice!), '0.68');
    assert.deepEqual(two.supportedUsageClasses, ['on-demand', 'spot']);
    assert.equal(two.preemptible, true);
    assert.equal(two.vcpu, 12);
    assert.equal(two.isAvailable, true);
    assert.equal(two.location, 'US-TX-3');
    const h100 = types.find((t) => t.id === '1x_NVIDIA_H100_80GB_HBM3_US-TX-3')!;
    assert.equal(h100.isAvailable, false, 'no stock status → unavailable');
    assert.equal(h100.spotPrice, undefined, 'no spot market without a bid floor or spot price');
    assert.deepEqual(h100.supportedUsageClasses, ['on-demand']);
  });

  it('locations: listed data centers with a country, available while any GPU is in stock', () => {
    const locs = runpodLocations(CATALOG);
    assert.deepEqual(locs.map((l) => [l.name, l.country, l.available]), [
      ['EU-RO-1', 'ROU', true],
      ['US-TX-3', 'USA', true],
    ]);
    for (const l of locs) assert.ok(LocationSchema.safeParse(l).success);
  });
});

function pod(over: Partial<RunPodPodWire> = {}): RunPodPodWire {
  return {
    id: 'abc123def456gh',
    name: 'wl-1',
    desiredStatus: 'RUNNING',
    podType: 'RESERVED',
    costPerHr: 0.69,
    gpuCount: 1,
    containerDiskInGb: 50,
    imageName: 'runpod/pytorch',
    env: ['PUBLIC_KEY=ssh-ed25519 AAAA x', 'GPUFLOW_REF_ID=wl-1-0', 'GPUFLOW_CLOUD_CRED_REF_ID=runpod-main', 'GPUFLOW_INSTANCE_TYPE=1x_NVIDIA_GeForce_RTX_4090', 'GPUFLOW_CREATED_AT=2026-11-23T10:00:00.000Z', 'GPUFLOW_TAGS={"team":"ml","x":"a=b"}'],
    machine: { podHostId: 'abc123def456gh-64410065', dataCenterId: 'US-TX-3' },
    runtime: { uptimeInSeconds: 5, ports: [{ ip: '203.0.113.7', isIpPublic: true, privatePort: 22, publicPort: 10341, type: 'tcp' }] },
    ...over,
  };
}

describe('RunPod pods', () => {
  it('maps desiredStatus (and the runtime) to the contract status', () => {
    assert.equal(runpodStatus(pod()).lifecycleStatus, 'running');
    assert.equal(runpodStatus(pod({ runtime: null })).lifecycleStatus, 'pending', 'runtime is null until the container is up');
    assert.equal(runpodStatus(pod({ runtime: { ports: [{ ip: '10.0.0.1', isIpPublic: false, privatePort: 22, publicPort: 22, type: 'tcp' }] } })).lifecycleStatus, 'pending');
    assert.equal(runpodStatus(pod({ desiredStatus: 'CREATED' })).lifecycleStatus, 'pending');
    assert.equal(runpodStatus(pod({ desiredStatus: 'RESTARTING' })).lifecycleStatus, 'pending');
    assert.equal(runpodStatus(pod({ desiredStatus: 'EXITED' })).lifecycleStatus, 'stopped');
    assert.equal(runpodStatus(pod({ desiredStatus: 'EXITED' })).interruption, undefined);
    assert.equal(runpodStatus(pod({ desiredStatus: 'DEAD' })).lifecycleStatus, 'failed');
    assert.equal(runpodStatus(pod({ desiredStatus: 'TERMINATED' })).lifecycleStatus, 'terminated');
    assert.match(runpodStatus(pod({ desiredStatus: 'SOMETHING_NEW' })).messages.join(), /unknown runpod status/);
  });

  it('an exited interruptible pod is a preemption', () => {
    const s = runpodStatus(pod({ desiredStatus: 'EXITED', podType: 'INTERRUPTABLE', runtime: null, lastStatusChange: 'Exited by RunPod: outbid' }));
    assert.equal(s.lifecycleStatus, 'stopped');
    assert.equal(s.interruption, 'preempted');
    assert.ok(s.messages.includes('Exited by RunPod: outbid'));
  });

  it('reads identity, type, tags and SSH back from the pod', () => {
    const i = runpodInstance(pod(), { testReplica: false });
    assert.ok(InstanceSchema.safeParse(i).success);
    assert.equal(i.refId, 'wl-1-0');
    assert.equal(i.cloudCredRefId, 'runpod-main');
    assert.equal(i.instanceType, '1x_NVIDIA_GeForce_RTX_4090');
    assert.equal(i.instanceTypeId, '1x_NVIDIA_GeForce_RTX_4090_US-TX-3');
    assert.equal(i.location, 'US-TX-3');
    assert.equal(i.createdAt, '2026-11-23T10:00:00.000Z');
    assert.deepEqual(i.tags, { team: 'ml', x: 'a=b' });
    assert.deepEqual([i.publicIp, i.sshPort, i.sshUser], ['203.0.113.7', 10341, 'root']);
    assert.equal(i.spot, false);
    assert.equal(i.isContainer, true);
    assert.equal(i.notPrivileged, true);
    const spot = runpodInstance(pod({ podType: 'INTERRUPTABLE', gpuflowReplica: { sshUser: 'tester' } }), { testReplica: false });
    assert.equal(spot.spot, true);
    assert.equal(spot.sshUser, 'root', 'the replica extension is read only with testReplica');
    assert.equal(runpodInstance(pod({ gpuflowReplica: { sshUser: 'tester' } }), { testReplica: true }).sshUser, 'tester');
  });

  it('the create env carries the key as PUBLIC_KEY and the identity; ours cannot be overridden', () => {
    const env = runpodCreateEnv({ publicKey: 'ssh-ed25519 AAAAC3Nz k\n', additionalEnvVars: { HF_HOME: '/cache' }, refId: 'r', cloudCredRefId: 'c', instanceType: '1x_NVIDIA_L4', createdAt: '2026-11-23T10:00:00.000Z', tags: {} });
    const m = Object.fromEntries(env.map((e) => [e.key, e.value]));
    assert.equal(m.PUBLIC_KEY, 'ssh-ed25519 AAAAC3Nz k');
    assert.equal(m.HF_HOME, '/cache');
    assert.equal(m.GPUFLOW_REF_ID, 'r');
    assert.equal(m.GPUFLOW_TAGS, undefined);
    assert.throws(
      () => runpodCreateEnv({ publicKey: 'ssh-ed25519 A', additionalEnvVars: { PUBLIC_KEY: 'x' }, refId: 'r', cloudCredRefId: 'c', instanceType: 't', createdAt: '', tags: {} }),
      (e: Error) => e instanceof InvalidRequestError && /PUBLIC_KEY/.test(e.message),
    );
  });
});

describe('RunPod credential', () => {
  it('names the bad field and the fix', () => {
    assert.throws(() => new RunPodCredential({ refId: 'rp' } as never), /apiKey \(the RunPod API key\) is required/);
    assert.throws(() => new RunPodCredential({ refId: 'rp', apiKey: 'a b' }), /apiKey must not contain whitespace/);
    assert.throws(() => new RunPodCredential({ refId: 'rp', apiKey: 'k', baseUrl: 'https://api.runpod.io/graphql', testReplica: true }), /testReplica.*loopback/);
    assert.throws(() => new RunPodCredential({ refId: 'rp', apiKey: 'k', api_key: 'k' } as never), /api_key/);
  });

  it('keeps the key out of JSON and inspection; one key is one tenant', async () => {
    const c = new RunPodCredential({ refId: 'rp', apiKey: 'rpa_SECRET_KEY_123' });
    assert.ok(!JSON.stringify(c).includes('rpa_SECRET_KEY_123'));
    assert.ok(!Object.keys(c).includes('apiKey'));
    assert.equal(c.baseUrl, 'https://api.runpod.io/graphql');
    assert.equal(c.getApiType(), 'global');
    assert.deepEqual(await c.getCapabilities(), ['create-instance', 'terminate-instance', 'create-terminate-instance']);
    assert.match(await c.getTenantId(), /^runpod-[0-9a-f]{16}$/);
    assert.ok(!(await c.getTenantId()).includes('SECRET'));
  });
});
