/** Shadeform wire format → contract: GPUs, prices, regions and countries, statuses, tags, credential. */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { InstanceSchema, InstanceTypeSchema, LocationSchema } from '../../../../src/providers/sdk/types.js';
import { InvalidRequestError } from '../../../../src/providers/sdk/errors.js';
import {
  ShadeformCredential,
  ShadeformInstanceSchema,
  ShadeformInstanceTypesResponseSchema,
  encodeShadeformTags,
  parseShadeformTags,
  shadeformGpu,
  shadeformInstance,
  shadeformInstanceTypes,
  shadeformLocations,
  shadeformRegionCountry,
  shadeformStatus,
  splitShadeformType,
  sshKeyNameFor,
} from '../../../../src/providers/shadeform/index.js';

/** The spec's own InstanceTypesResponse example (one entry). */
const SPEC_EXAMPLE = {
  instance_types: [
    {
      cloud: 'hyperstack',
      hourly_price: 210,
      deployment_type: 'vm',
      boot_time: { max_boot_in_sec: 300, min_boot_in_sec: 180 },
      configuration: {
        nvlink: true,
        num_gpus: 1,
        gpu_type: 'A100',
        memory_in_gb: 12,
        vram_per_gpu_in_gb: 48,
        vcpus: 6,
        storage_in_gb: 256,
        interconnect: 'pcie',
        gpu_manufacturer: 'nvidia',
        os_options: ['ubuntu22.04_cuda12.2_shade_os', 'ubuntu20.04_cuda12.0_shade_os'],
      },
      cloud_instance_type: 'gpu_1x_a6000',
      availability: [
        { region: 'us-central-1', available: true, display_name: 'US, Wichita, KS' },
        { region: 'us-central-2', available: false, display_name: 'US, Wichita, KS' },
      ],
      shade_instance_type: 'A6000',
    },
  ],
};

const conf = (gpu_type: string, interconnect = '', vram = 0, gpu_manufacturer = 'nvidia', num_gpus = 1) => ({ num_gpus, gpu_type, interconnect, vram_per_gpu_in_gb: vram, gpu_manufacturer });

describe('Shadeform instance types', () => {
  it('turns the spec example into one type per region with Brev’s IDs, price in cents as money', () => {
    const its = shadeformInstanceTypes(ShadeformInstanceTypesResponseSchema.parse(SPEC_EXAMPLE).instance_types);
    assert.deepEqual(its.map((t) => t.id), ['hyperstack_A6000_us-central-1', 'hyperstack_A6000_us-central-2']);
    for (const t of its) assert.ok(InstanceTypeSchema.safeParse(t).success, t.id);
    const [a, b] = its;
    assert.equal(a.type, 'hyperstack_A6000');
    assert.equal(a.location, 'us-central-1');
    assert.equal(a.isAvailable, true);
    assert.equal(b.isAvailable, false);
    assert.deepEqual(a.basePrice, { amount: 210, currency: 'USD', scale: 2 });
    assert.equal(a.estimatedDeployTimeMs, 240_000);
    assert.equal(a.cloud, 'hyperstack');
    assert.deepEqual(a.supportedArchitectures, ['x86_64']);
    // gpu_type says "A100" here (the spec example is inconsistent with its A6000 name); the GPU is what gpu_type says.
    assert.equal(a.supportedGpus[0].name, 'A100');
    assert.equal(a.supportedGpus[0].networkDetails, 'PCIe');
    assert.deepEqual(a.supportedGpus[0].memory, { value: 48, unit: 'GiB' });
  });

  it('normalizes Shadeform GPU names', () => {
    const a100 = shadeformGpu(conf('A100_80G', 'sxm4', 80))!;
    assert.equal(a100.name, 'A100');
    assert.equal(a100.type, 'A100.SXM4');
    assert.deepEqual(a100.memory, { value: 80, unit: 'GiB' });
    assert.equal(shadeformGpu(conf('A6000', 'pcie', 48))!.name, 'RTXA6000');
    assert.equal(shadeformGpu(conf('H100', 'sxm5', 80))!.type, 'H100.SXM5');
    assert.deepEqual(shadeformGpu(conf('A100_40G'))!.memory, { value: 40, unit: 'GiB' }, 'memory from the name when vram is 0');
    assert.equal(shadeformGpu(conf('MI300X', '', 192, 'amd'))!.manufacturer, 'AMD');
    assert.equal(shadeformGpu(conf('L40', 'pcie', 48, 'nvidia', 0)), undefined, 'no GPUs');
  });

  it('Grace superchips are arm64; Shadeform’s own marketplace (excesssupply) shows as shadeform', () => {
    const [gh] = shadeformInstanceTypes([
      { ...ShadeformInstanceTypesResponseSchema.parse(SPEC_EXAMPLE).instance_types[0], cloud: 'excesssupply', shade_instance_type: 'GH200', configuration: { ...SPEC_EXAMPLE.instance_types[0].configuration, gpu_type: 'GH200', os_options: [] } },
    ]);
    assert.deepEqual(gh.supportedArchitectures, ['arm64']);
    assert.equal(gh.cloud, 'shadeform');
    assert.equal(gh.type, 'excesssupply_GH200', 'the type keeps the API’s cloud name, which create needs');
  });

  it('splits a type back into cloud and shade type at the first "_"', () => {
    assert.deepEqual(splitShadeformType('excesssupply_A100_80G'), { cloud: 'excesssupply', shadeInstanceType: 'A100_80G' });
    assert.equal(splitShadeformType('nounderscore'), undefined);
  });
});

describe('Shadeform regions', () => {
  it('reads countries from display names and region names, and does not guess', () => {
    assert.equal(shadeformRegionCountry('us-central-1', 'US, Wichita, KS'), 'USA');
    assert.equal(shadeformRegionCountry('canada-1', 'Canada, Montreal, QC'), 'CAN');
    assert.equal(shadeformRegionCountry('helsinki-finland-5', ''), 'FIN');
    assert.equal(shadeformRegionCountry('desmoines-usa-1', ''), 'USA');
    assert.equal(shadeformRegionCountry('us-east-1', ''), 'USA');
    assert.equal(shadeformRegionCountry('norway-1', 'Norway, Oslo'), 'NOR');
    assert.equal(shadeformRegionCountry('uk-london-1', 'United Kingdom, London'), 'GBR');
    assert.equal(shadeformRegionCountry('eu-west-1', ''), undefined);
    assert.equal(shadeformRegionCountry('ca-1', 'Somewhere'), undefined, 'two-letter words are not read as countries');
  });

  it('derives locations from availability (available if any type is), valid against LocationSchema', () => {
    const types = ShadeformInstanceTypesResponseSchema.parse(SPEC_EXAMPLE).instance_types;
    const locs = shadeformLocations([...types, { ...types[0], shade_instance_type: 'X', availability: [{ region: 'us-central-2', available: true, display_name: 'US, Wichita, KS' }, { region: 'mystery-9', available: true, display_name: '' }] }]);
    assert.deepEqual(locs.map((l) => [l.name, l.available, l.country]), [
      ['us-central-1', true, 'USA'],
      ['us-central-2', true, 'USA'],
    ]);
    for (const l of locs) assert.ok(LocationSchema.safeParse(l).success);
  });
});

describe('Shadeform instances', () => {
  const wire = (over: Record<string, unknown> = {}) =>
    ShadeformInstanceSchema.parse({
      id: 'd290f1ee-6c54-4b01-90e6-d701748f0851',
      cloud: 'massedcompute',
      region: 'desmoines-usa-1',
      shade_instance_type: 'L40',
      cloud_instance_type: 'gpu_1x_l40',
      cloud_assigned_id: '13b057d7',
      shade_cloud: true,
      name: 'job-1',
      configuration: { memory_in_gb: 64, storage_in_gb: 512, vcpus: 16, num_gpus: 1, gpu_type: 'L40', interconnect: 'pcie', vram_per_gpu_in_gb: 48, gpu_manufacturer: 'nvidia', os: 'ubuntu22.04_cuda12.2_shade_os' },
      ip: '1.0.0.1',
      ssh_user: 'shadeform',
      ssh_port: 22,
      status: 'active',
      status_details: 'running',
      cost_estimate: '1.03',
      hourly_price: 99,
      tags: ['gpuflow-ref-id=ref-9', 'gpuflow-cloud-cred-ref-id=sf', 'team=ml=ops'],
      created_at: '2026-01-02T03:04:05.001Z',
      deleted_at: '0001-01-01T00:00:00Z',
      gpuflow_replica: { not_privileged: true },
      ...over,
    });

  it('maps every Shadeform status', () => {
    for (const s of ['creating', 'pending_provider', 'pending']) assert.equal(shadeformStatus(s).lifecycleStatus, 'pending');
    assert.equal(shadeformStatus('active').lifecycleStatus, 'running');
    assert.deepEqual(shadeformStatus('error', 'out of disk'), { lifecycleStatus: 'failed', messages: ['out of disk'] });
    assert.equal(shadeformStatus('deleting').lifecycleStatus, 'terminating');
    assert.equal(shadeformStatus('deleted').lifecycleStatus, 'terminated');
    assert.equal(shadeformStatus('new-status').lifecycleStatus, 'pending');
  });

  it('reads identity from tags and SSH from the real ssh_user/ssh_port fields', () => {
    const i = shadeformInstance(wire(), { testReplica: false });
    assert.ok(InstanceSchema.safeParse(i).success);
    assert.equal(i.refId, 'ref-9');
    assert.equal(i.cloudCredRefId, 'sf');
    assert.equal(i.tags.team, 'ml=ops', 'values may contain "="');
    assert.equal(i.instanceType, 'massedcompute_L40');
    assert.equal(i.instanceTypeId, 'massedcompute_L40_desmoines-usa-1');
    assert.equal(i.createdAt, '2026-01-02T03:04:05.001Z');
    assert.equal(i.sshUser, 'shadeform');
    assert.equal(i.sshPort, 22);
    assert.equal(i.publicIp, '1.0.0.1');
    assert.equal(i.imageId, 'ubuntu22.04_cuda12.2_shade_os');
    assert.equal(i.terminatedAt, undefined, "Go's zero time is no time");
    assert.equal(i.notPrivileged, false);
    assert.equal(shadeformInstance(wire(), { testReplica: true }).notPrivileged, true);
    const gone = shadeformInstance(wire({ status: 'deleted', deleted_at: '2026-01-02T04:00:00Z' }), { testReplica: false });
    assert.equal(gone.terminatedAt, '2026-01-02T04:00:00.000Z');
  });

  it('encodes tags as key=value and refuses keys with "="', () => {
    assert.deepEqual(encodeShadeformTags({ a: '1', b: 'x=y' }), ['a=1', 'b=x=y']);
    assert.deepEqual(parseShadeformTags(['a=1', 'b=x=y', 'bare']), { a: '1', b: 'x=y', bare: '' });
    assert.throws(() => encodeShadeformTags({ 'a=b': '1' }), InvalidRequestError);
  });

  it('names the SSH key after the public key (one per key, not per instance)', () => {
    const k = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICN+lJwsONkwrdsSnQsu1ydUkIuIg5oOC+Eslvmtt60T';
    assert.equal(sshKeyNameFor(`${k} alice`), sshKeyNameFor(`${k} bob`));
    assert.match(sshKeyNameFor(k), /^gpuflow-[0-9a-f]{16}$/);
  });
});

describe('ShadeformCredential', () => {
  const apiKey = 'sf_abcdefghijklmnopqrstuvwx';

  it('validates with zod and keeps testReplica to loopback URLs', () => {
    assert.throws(() => new ShadeformCredential({ refId: 's', apiKey: '' }), /apiKey/);
    assert.throws(() => new ShadeformCredential({ refId: 's', apiKey, testReplica: true }), /testReplica/);
    assert.throws(() => new ShadeformCredential({ refId: 's', apiKey, baseUrl: 'https://api.shadeform.ai/v1', testReplica: true }), /loopback/);
    assert.equal(new ShadeformCredential({ refId: 's', apiKey }).baseUrl, 'https://api.shadeform.ai/v1');
  });

  it('keeps the key out of JSON, inspection and the tenant ID', async () => {
    const c = new ShadeformCredential({ refId: 's', apiKey });
    assert.ok(!JSON.stringify(c).includes(apiKey));
    assert.ok(!inspect(c, { depth: 5 }).includes(apiKey));
    const client = await c.makeClient('');
    assert.ok(!inspect(client, { depth: 5 }).includes(apiKey));
    assert.ok(!(await c.getTenantId()).includes(apiKey));
  });

  it('declares exactly what it implements', async () => {
    const c = await new ShadeformCredential({ refId: 's', apiKey }).makeClient('');
    assert.deepEqual(await c.getCapabilities(), ['create-instance', 'terminate-instance', 'create-terminate-instance', 'tags', 'reboot-instance']);
    assert.equal(typeof c.updateInstanceTags, 'function');
    assert.equal(typeof c.rebootInstance, 'function');
    assert.equal(c.stopInstance, undefined);
    assert.equal(c.addFirewallRulesToInstance, undefined);
  });
});
