/** SSH fleet mapping (pure): discovery output → GPUs, hosts → offers and locations, leases → instances. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toDecimalString } from '../../../../src/money/money.js';
import { byteCountIn } from '../../../../src/providers/sdk/bytes.js';
import { InstanceSchema, InstanceTypeSchema } from '../../../../src/providers/sdk/types.js';
import {
  fleetInstance,
  fleetInstanceTypes,
  fleetLocations,
  gpuGroups,
  parseFleetCloudId,
  parseHostState,
  parseNvidiaLine,
  parseRocmJson,
  sliceSizes,
  type HostState,
} from '../../../../src/providers/ssh/index.js';

const record = { v: 1 as const, refId: 'r1', cloudCredRefId: 'fleet', name: 'job', instanceType: '2x_a100_80gb_sxm4', instanceTypeId: 'lab-noSub-2x_a100_80gb_sxm4', location: 'lab', createdAt: '2026-12-03T10:00:00.000Z', tags: { a: 'b' } };
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');

const STATE = [
  'arch\tx86_64',
  'vcpu\t64',
  'memkib\t1056964608',
  'sshd\t/usr/sbin/sshd',
  'nvidia\t0, NVIDIA A100-SXM4-80GB, 81920',
  'nvidia\t1, NVIDIA A100-SXM4-80GB, 81920',
  'nvidia\t2, NVIDIA A100-SXM4-80GB, 81920',
  'nvidia\t3, NVIDIA A100-SXM4-80GB, 81920',
  'nvidia\t4, NVIDIA L4, 23034',
  `lease\t0123456789abcdef0123\t0,1\t22001\t1\t${b64(record)}`,
  `lease\tfeedfacefeedfacefeed\t2\t22002\t1\t${b64({ ...record, v: 2 })}`,
].join('\n');

describe('ssh fleet: discovery', () => {
  it('reads nvidia-smi CSV lines, names with commas included, and skips what is not a GPU', () => {
    assert.deepEqual(parseNvidiaLine('3, NVIDIA H100 80GB HBM3, 81559'), { index: 3, productName: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, vendor: 'NVIDIA' });
    assert.equal(parseNvidiaLine('0, NVIDIA A100, [N/A]'), undefined);
    assert.equal(parseNvidiaLine('No devices were found'), undefined);
  });

  it('reads rocm-smi JSON (Card Series or Card model, VRAM in bytes)', () => {
    const gpus = parseRocmJson(JSON.stringify({ card1: { 'Card Series': 'AMD Instinct MI300X', 'VRAM Total Memory (B)': '206141652992' }, card0: { 'Card model': 'AMD Instinct MI250X', 'VRAM Total Memory (B)': '68702699520' }, system: { 'Driver version': '6.8' } }));
    assert.deepEqual(gpus.map((g) => [g.index, g.productName, g.memoryMiB, g.vendor]), [[0, 'AMD Instinct MI250X', 65520, 'AMD'], [1, 'AMD Instinct MI300X', 196592, 'AMD']]);
    assert.deepEqual(parseRocmJson('not json'), []);
  });

  it('parses a state answer: facts, GPUs, leases; a lease whose record does not validate is reported, not used', () => {
    const s = parseHostState(STATE);
    assert.equal(s.vcpu, 64);
    assert.equal(s.gpus.length, 5);
    assert.deepEqual(s.leases.map((l) => [l.leaseId, l.gpus, l.port, l.alive]), [['0123456789abcdef0123', [0, 1], 22001, true]]);
    assert.deepEqual(s.badLeases, ['feedfacefeedfacefeed']);
  });
});

describe('ssh fleet: catalog', () => {
  const s: HostState = parseHostState(STATE);

  it('groups a host’s GPUs by model and offers powers-of-two slices and the whole host', () => {
    assert.deepEqual(gpuGroups(s.gpus).map((g) => [g.key, g.indices]), [['a100_80gb_sxm4', [0, 1, 2, 3]], ['l4_24gb', [4]]]);
    assert.deepEqual(sliceSizes(8), [1, 2, 4, 8]);
    assert.deepEqual(sliceSizes(6), [1, 2, 4, 6]);
  });

  it('prices per GPU-hour (per model, else the default), shares vCPU and memory pro rata, and is available while enough GPUs are free', () => {
    const types = fleetInstanceTypes([{ name: 'box', region: 'lab', state: s, answering: true }], { pricePerGpuHour: '0.40', gpuPrices: { a100: '1.10' }, currency: 'EUR' });
    for (const t of types) assert.ok(InstanceTypeSchema.safeParse(t).success, t.id);
    const byType = new Map(types.map((t) => [t.type, t]));
    assert.deepEqual([...byType.keys()], ['1x_a100_80gb_sxm4', '1x_l4_24gb', '2x_a100_80gb_sxm4', '4x_a100_80gb_sxm4']);
    const two = byType.get('2x_a100_80gb_sxm4')!;
    assert.equal(toDecimalString(two.basePrice!), '2.20');
    assert.equal(two.basePrice!.currency, 'EUR');
    assert.equal(two.vcpu, 25, '64 vCPUs × 2 of the host’s 5 GPUs');
    assert.equal(byteCountIn(two.memory, 'GiB'), 403);
    assert.equal(two.supportedGpus[0]!.count, 2);
    assert.equal(two.supportedGpus[0]!.name, 'A100');
    assert.equal(two.isAvailable, true, 'GPUs 2 and 3 are free');
    assert.equal(byType.get('4x_a100_80gb_sxm4')!.isAvailable, false, 'the lease holds 0 and 1');
    assert.equal(toDecimalString(byType.get('1x_l4_24gb')!.basePrice!), '0.40');
  });

  it('keeps a host that stopped answering in the catalog, unavailable; merges one slice across hosts at the smallest share', () => {
    const small = { ...s, vcpu: 16, leases: [] };
    const types = fleetInstanceTypes(
      [
        { name: 'a', region: 'lab', state: s, answering: false },
        { name: 'b', region: 'lab', state: small, answering: true },
      ],
      { pricePerGpuHour: '1', currency: 'USD' },
    );
    const four = types.find((t) => t.type === '4x_a100_80gb_sxm4')!;
    assert.equal(four.isAvailable, true, 'b is free');
    assert.equal(four.vcpu, 12, 'b’s share (16 × 4/5)');
    const down = fleetInstanceTypes([{ name: 'a', region: 'lab', state: s, answering: false }], { pricePerGpuHour: '1', currency: 'USD' });
    assert.ok(down.every((t) => !t.isAvailable));
    assert.deepEqual(fleetLocations([{ name: 'a', region: 'lab', answering: false }, { name: 'b', region: 'lab', answering: true }], 'DEU'), [
      { name: 'lab', description: 'SSH fleet: 1 of 2 host(s) answering', available: true, priority: 0, country: 'DEU' },
    ]);
  });
});

describe('ssh fleet: instances', () => {
  it('maps a lease to an instance on its own sshd port, not privileged, identity from the record', () => {
    const lease = parseHostState(STATE).leases[0]!;
    const i = fleetInstance(lease, { name: 'box', host: '10.0.0.7', user: 'gpu' }, { lifecycleStatus: 'running' });
    assert.ok(InstanceSchema.safeParse(i).success);
    assert.equal(i.cloudId, '0123456789abcdef0123@box');
    assert.deepEqual(parseFleetCloudId(i.cloudId), { leaseId: '0123456789abcdef0123', hostName: 'box' });
    assert.equal(parseFleetCloudId('i-123'), undefined);
    assert.deepEqual([i.publicIp, i.sshPort, i.sshUser, i.refId, i.cloudCredRefId, i.notPrivileged], ['10.0.0.7', 22001, 'gpu', 'r1', 'fleet', true]);
    assert.deepEqual(i.status.messages, ['GPUs 0,1 of box']);
  });
});
