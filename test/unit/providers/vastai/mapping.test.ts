/** Vast.ai wire format → contract: offers grouped into stable shapes, countries, statuses, labels, SSH, credential. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { InvalidRequestError } from '../../../../src/providers/sdk/errors.js';
import { InstanceSchema, InstanceTypeSchema, LocationSchema } from '../../../../src/providers/sdk/types.js';
import {
  encodeVastLabel,
  parseVastGeolocation,
  parseVastLabel,
  priceFromNumber,
  splitVastType,
  VastaiCredential,
  vastGpu,
  vastInstance,
  VastInstanceSchema,
  vastInstanceTypes,
  vastLocations,
  VastSearchResponseSchema,
  vastSshEndpoint,
  vastStatus,
  vastTypeName,
} from '../../../../src/providers/vastai/index.js';

/** The spec's search-offers example (abridged to the fields the adapter reads, plus a few it ignores). */
const SPEC_OFFER = {
  id: 12345678,
  ask_contract_id: 12345678,
  bundle_id: 987654321,
  machine_id: 88888,
  host_id: 55555,
  gpu_name: 'Imaginary RTX 9999',
  num_gpus: 4,
  gpu_ram: 24576,
  gpu_arch: 'nvidia',
  cpu_arch: 'amd64',
  cpu_cores_effective: 32,
  cpu_ram: 65536,
  disk_space: 2048.5,
  dph_total: 0.234567,
  min_bid: 0.111111,
  is_bid: false,
  rentable: true,
  geolocation: 'Atlantis, AT',
  reliability: 0.9999,
  verification: 'verified',
  score: 1234.5678,
};

const offer = (over: Record<string, unknown>) => ({ ...SPEC_OFFER, ...over });
const parse = (offers: Record<string, unknown>[]) => VastSearchResponseSchema.parse({ offers }).offers;

describe('Vast.ai offers → instance types', () => {
  it('maps the spec example: one shape per country, prices as exact money, bid → spot', () => {
    const [t] = vastInstanceTypes(parse([SPEC_OFFER]));
    assert.ok(InstanceTypeSchema.safeParse(t).success);
    assert.equal(t.type, '4x-Imaginary_RTX_9999-24G');
    assert.equal(t.id, 'AT-noSub-4x-Imaginary_RTX_9999-24G');
    assert.equal(t.location, 'AT');
    assert.deepEqual(t.basePrice, { amount: 234567, currency: 'USD', scale: 6 });
    assert.deepEqual(t.spotPrice, { amount: 111111, currency: 'USD', scale: 6 });
    assert.deepEqual(t.supportedUsageClasses, ['on-demand', 'spot']);
    assert.equal(t.preemptible, true);
    assert.equal(t.vcpu, 32);
    assert.deepEqual(t.memory, { value: 65536, unit: 'MiB' });
    assert.deepEqual(t.supportedStorage[0].size, { value: 2048, unit: 'GB' });
    assert.equal(t.supportedGpus[0].count, 4);
    assert.deepEqual(t.supportedGpus[0].memory, { value: 24, unit: 'GiB' });
    assert.equal(t.supportedGpus[0].manufacturer, 'NVIDIA');
  });

  it('groups asks of one shape in one country: cheapest price, least resources; IDs do not depend on ask IDs', () => {
    const a = parse([
      offer({ id: 1, machine_id: 1, gpu_name: 'RTX 4090', num_gpus: 1, gpu_ram: 24564, geolocation: 'Texas, US', dph_total: 0.42, min_bid: 0.21, cpu_cores_effective: 12.5, cpu_ram: 48150 }),
      offer({ id: 2, machine_id: 2, gpu_name: 'RTX 4090', num_gpus: 1, gpu_ram: 24564, geolocation: 'California, US', dph_total: 0.35, min_bid: 0.18, cpu_cores_effective: 16, cpu_ram: 64302 }),
      offer({ id: 3, machine_id: 3, gpu_name: 'RTX 4090', num_gpus: 1, gpu_ram: 24564, geolocation: 'Hesse, DE', dph_total: 0.4, min_bid: null }),
      offer({ id: 4, machine_id: 4, gpu_name: 'A100 SXM4', num_gpus: 1, gpu_ram: 40960, geolocation: 'Texas, US', dph_total: 0.9 }),
      offer({ id: 5, machine_id: 5, gpu_name: 'A100 SXM4', num_gpus: 1, gpu_ram: 81920, geolocation: 'Texas, US', dph_total: 1.2 }),
      offer({ id: 6, machine_id: 6, gpu_name: 'RTX 4090', geolocation: 'Nowhere in particular' }),
    ]);
    const types = vastInstanceTypes(a);
    assert.deepEqual(types.map((t) => t.id), ['DE-noSub-1x-RTX_4090-24G', 'US-noSub-1x-A100_SXM4-40G', 'US-noSub-1x-A100_SXM4-80G', 'US-noSub-1x-RTX_4090-24G']);
    const us = types.find((t) => t.id === 'US-noSub-1x-RTX_4090-24G')!;
    assert.equal(us.basePrice!.amount, 35);
    assert.equal(us.spotPrice!.amount, 18);
    assert.equal(us.vcpu, 12);
    assert.deepEqual(us.memory, { value: 48150, unit: 'MiB' });
    const de = types.find((t) => t.location === 'DE')!;
    assert.equal(de.spotPrice, undefined, 'no bid, no spot');
    assert.deepEqual(de.supportedUsageClasses, ['on-demand']);
    const reListed = vastInstanceTypes(a.map((o) => ({ ...o, id: o.id + 1000 })));
    assert.deepEqual(reListed.map((t) => t.id), types.map((t) => t.id), 'new ask IDs, same contract IDs');
    assert.equal(types.find((t) => t.type === '1x-A100_SXM4-80G')!.supportedGpus[0].type, 'A100.SXM4');
  });

  it('normalizes Vast GPU names and reads arm64 hosts', () => {
    assert.equal(vastGpu({ gpu_name: 'H100 SXM', num_gpus: 8, gpu_ram: 81559 })!.type, 'H100.SXM');
    assert.equal(vastGpu({ gpu_name: 'A100 PCIE', num_gpus: 1, gpu_ram: 40960 })!.networkDetails, 'PCIe');
    assert.equal(vastGpu({ gpu_name: 'RTX 6000Ada', num_gpus: 1, gpu_ram: 49140 })!.name, 'RTX6000Ada');
    assert.equal(vastGpu({ gpu_name: 'MI300X', num_gpus: 1, gpu_ram: 196608, gpu_arch: 'amd' })!.manufacturer, 'AMD');
    assert.equal(vastGpu({ gpu_name: 'RTX 4090', num_gpus: 0, gpu_ram: 24564 }), undefined);
    const [gh] = vastInstanceTypes(parse([offer({ gpu_name: 'GH200', num_gpus: 1, gpu_ram: 97871, cpu_arch: 'arm64' })]));
    assert.deepEqual(gh.supportedArchitectures, ['arm64']);
  });

  it('splits a type name back into the shape create searches for', () => {
    assert.equal(vastTypeName({ numGpus: 2, gpuName: 'RTX 5090', vramGiB: 32 }), '2x-RTX_5090-32G');
    assert.deepEqual(splitVastType('2x-RTX_5090-32G'), { numGpus: 2, gpuName: 'RTX 5090', vramGiB: 32 });
    assert.deepEqual(splitVastType('8x-H100_SXM-80G'), { numGpus: 8, gpuName: 'H100 SXM', vramGiB: 80 });
    assert.equal(splitVastType('gpu_1x_a10'), undefined);
    assert.equal(splitVastType('0x-RTX_4090-24G'), undefined);
  });

  it('prices are the decimal Vast wrote, never float arithmetic', () => {
    assert.deepEqual(priceFromNumber(0.1), { amount: 1, currency: 'USD', scale: 1 });
    assert.deepEqual(priceFromNumber(1.87), { amount: 187, currency: 'USD', scale: 2 });
    assert.deepEqual(priceFromNumber(1e-7), { amount: 10, currency: 'USD', scale: 8 });
  });
});

describe('Vast.ai geolocations → countries', () => {
  it('reads the country code, a country name, or SkyPilot’s trailing continent, and does not guess', () => {
    assert.deepEqual(parseVastGeolocation('Texas, US'), { alpha2: 'US', alpha3: 'USA', region: 'Texas' });
    assert.deepEqual(parseVastGeolocation('Texas, US, NA'), { alpha2: 'US', alpha3: 'USA', region: 'Texas' });
    assert.equal(parseVastGeolocation('California, United States')?.alpha3, 'USA');
    assert.equal(parseVastGeolocation('Hafnarfjarðarkaupstaður, IS, EU')?.alpha3, 'ISL');
    assert.equal(parseVastGeolocation(', US, NA')?.alpha2, 'US');
    assert.equal(parseVastGeolocation('Windhoek, NA')?.alpha3, 'NAM', 'two parts: NA is Namibia');
    assert.equal(parseVastGeolocation('Sweden')?.alpha2, 'SE');
    assert.equal(parseVastGeolocation('Atlantis'), undefined);
    assert.equal(parseVastGeolocation(null), undefined);
    assert.equal(parseVastGeolocation('somewhere', 'de')?.alpha3, 'DEU', 'an instance’s country_code wins');
  });

  it('lists countries with offers, valid against LocationSchema', () => {
    const locs = vastLocations(parse([offer({ geolocation: 'Texas, US' }), offer({ geolocation: 'Oregon, US' }), offer({ geolocation: 'Quebec, CA' }), offer({ geolocation: '??' })]));
    assert.deepEqual(locs.map((l) => [l.name, l.country, l.description]), [
      ['CA', 'CAN', 'Quebec'],
      ['US', 'USA', 'Oregon; Texas'],
    ]);
    for (const l of locs) assert.ok(LocationSchema.safeParse(l).success);
  });
});

describe('Vast.ai instances', () => {
  const label = encodeVastLabel({ name: 'job 1', refId: 'wl-1-0', cloudCredRefId: 'vast', tags: { team: 'ml&ops', 'gpuflow-ref-id': 'ignored' } });
  const wire = (over: Record<string, unknown> = {}) =>
    VastInstanceSchema.parse({
      id: 21450007,
      actual_status: 'running',
      intended_status: 'running',
      cur_state: 'running',
      next_state: 'running',
      status_msg: 'success, running vastai/base-image/ssh_direct',
      label,
      image_uuid: 'vastai/base-image:@vastai-automatic-tag',
      public_ipaddr: '203.0.113.42',
      ssh_host: 'ssh5.vast.ai',
      ssh_port: 10600,
      ports: { '22/tcp': [{ HostIp: '0.0.0.0', HostPort: '20000' }], '8888/tcp': [{ HostIp: '0.0.0.0', HostPort: '8888' }] },
      is_bid: false,
      gpu_name: 'RTX 4090',
      num_gpus: 1,
      gpu_ram: 24564,
      disk_space: 16,
      geolocation: 'Texas, US',
      start_date: 1668804745.1223178,
      ...over,
    });

  it('maps every actual_status, outbid interruptibles as preempted', () => {
    const st = (actual: string | null, intended = 'running', is_bid = false) => vastStatus({ actual_status: actual, intended_status: intended, is_bid, status_msg: null });
    for (const s of [null, 'loading', 'created', 'rebooting']) assert.equal(st(s).lifecycleStatus, 'pending');
    assert.equal(st('running').lifecycleStatus, 'running');
    assert.equal(st('running', 'stopped').lifecycleStatus, 'stopping');
    assert.equal(st('stopped', 'stopped').lifecycleStatus, 'stopped');
    assert.equal(st('stopped', 'stopped', true).interruption, undefined, 'a stop we asked for is not a preemption');
    const outbid = st('stopped', 'running', true);
    assert.equal(outbid.lifecycleStatus, 'stopped');
    assert.equal(outbid.interruption, 'preempted');
    assert.match(outbid.messages.join(' '), /outbid/);
    assert.equal(st('stopped', 'running', false).lifecycleStatus, 'pending', 'an on-demand instance being started');
    assert.equal(st('frozen').lifecycleStatus, 'suspended');
    assert.equal(st('exited').lifecycleStatus, 'failed');
    assert.equal(st('offline').interruption, 'host-failure');
    assert.equal(st('unknown').lifecycleStatus, 'failed');
    assert.match(st('brand-new').messages.join(), /unknown vastai status/);
  });

  it('reads identity and tags from the label, SSH from the direct port mapping', () => {
    const i = vastInstance(wire(), { testReplica: false });
    assert.ok(InstanceSchema.safeParse(i).success);
    assert.equal(i.cloudId, '21450007');
    assert.equal(i.name, 'job 1');
    assert.equal(i.refId, 'wl-1-0');
    assert.equal(i.cloudCredRefId, 'vast');
    assert.deepEqual(i.tags, { team: 'ml&ops', 'gpuflow-ref-id': 'wl-1-0', 'gpuflow-cloud-cred-ref-id': 'vast' });
    assert.equal(i.instanceType, '1x-RTX_4090-24G');
    assert.equal(i.instanceTypeId, 'US-noSub-1x-RTX_4090-24G');
    assert.equal(i.location, 'US');
    assert.equal(i.publicIp, '203.0.113.42');
    assert.equal(i.sshPort, 20000);
    assert.equal(i.sshUser, 'root');
    assert.equal(i.createdAt, '2022-11-18T20:52:25.122Z');
    assert.equal(i.isContainer, true);
    assert.equal(i.notPrivileged, true);
    assert.equal(i.spot, false);
    assert.equal(vastInstance(wire({ gpuflow_replica: { ssh_user: 'tester' } }), { testReplica: true }).sshUser, 'tester');
    assert.equal(vastInstance(wire({ gpuflow_replica: { ssh_user: 'tester' } }), { testReplica: false }).sshUser, 'root');
  });

  it('falls back to Vast’s SSH proxy, and treats foreign labels as names only', () => {
    assert.deepEqual(vastSshEndpoint({ ports: null, public_ipaddr: '203.0.113.42', ssh_host: 'ssh5.vast.ai', ssh_port: 10600 }), { host: 'ssh5.vast.ai', port: 10600, dns: 'ssh5.vast.ai' });
    const foreign = vastInstance(wire({ label: 'My ML Training Job' }), { testReplica: false });
    assert.equal(foreign.name, 'My ML Training Job');
    assert.equal(foreign.refId, '21450007');
    assert.equal(foreign.cloudCredRefId, 'unknown');
    assert.equal(parseVastLabel(null), undefined);
  });

  it('refuses labels over Vast’s 1024 characters', () => {
    assert.throws(() => encodeVastLabel({ name: 'x', refId: 'r', cloudCredRefId: 'c', tags: { big: 'v'.repeat(1100) } }), InvalidRequestError);
  });
});

describe('VastaiCredential', () => {
  const apiKey = 'a'.repeat(64);

  it('validates with zod, naming the field, and keeps testReplica to loopback URLs', () => {
    assert.throws(() => new VastaiCredential({ refId: 'v', apiKey: '' }), /apiKey/);
    assert.throws(() => new VastaiCredential({ refId: 'v', apiKey: 'has space' }), /apiKey must not contain whitespace/);
    assert.throws(() => new VastaiCredential({ refId: 'v', apiKey, testReplica: true }), /testReplica/);
    assert.throws(() => new VastaiCredential({ refId: 'v', apiKey, baseUrl: 'https://console.vast.ai', testReplica: true }), /loopback/);
    assert.throws(() => new VastaiCredential({ refId: 'v', apiKey, searchLimit: 0 }), /searchLimit/);
    const c = new VastaiCredential({ refId: 'v', apiKey });
    assert.equal(c.baseUrl, 'https://console.vast.ai');
    assert.equal(c.image, 'vastai/base-image:@vastai-automatic-tag');
    assert.equal(c.getCloudProviderId(), 'vastai');
    assert.equal(c.getApiType(), 'global');
  });

  it('keeps the key out of JSON, inspection and the tenant ID', async () => {
    const c = new VastaiCredential({ refId: 'v', apiKey });
    assert.ok(!JSON.stringify(c).includes(apiKey));
    assert.ok(!inspect(c, { depth: 5 }).includes(apiKey));
    const client = await c.makeClient('');
    assert.ok(!inspect(client, { depth: 5 }).includes(apiKey));
    assert.match(await c.getTenantId(), /^vastai-[0-9a-f]{16}$/);
  });

  it('declares exactly what it implements', async () => {
    const c = await new VastaiCredential({ refId: 'v', apiKey }).makeClient('');
    assert.deepEqual(await c.getCapabilities(), ['create-instance', 'terminate-instance', 'create-terminate-instance', 'tags', 'reboot-instance', 'stop-start-instance']);
    for (const m of ['updateInstanceTags', 'rebootInstance', 'stopInstance', 'startInstance'] as const) assert.equal(typeof c[m], 'function', m);
    assert.equal(c.addFirewallRulesToInstance, undefined);
    assert.equal(c.getMaxCreateRequestsPerMinute(), 13, 'one create per 4.5 s');
  });
});
