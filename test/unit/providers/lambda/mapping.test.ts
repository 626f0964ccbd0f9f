/** Lambda wire format → contract: regions and countries, GPUs, prices, statuses, identity, credential. */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { InstanceSchema, InstanceTypeSchema, LocationSchema } from '../../../../src/providers/sdk/types.js';
import { isAlpha3 } from '../../../../src/providers/sdk/country.js';
import {
  LAMBDA_PUBLIC_REGION_CODES,
  LAMBDA_REGIONS,
  LambdaCredential,
  LambdaInstanceSchema,
  LambdaInstanceTypesSchema,
  authorizationHeader,
  brevInstanceName,
  lambdaGpu,
  lambdaInstance,
  lambdaInstanceTypes,
  lambdaLocations,
  lambdaRegionCountry,
  lambdaStatus,
  launchTags,
  parseBrevInstanceName,
  sshKeyNameFor,
} from '../../../../src/providers/lambda/index.js';
import { InvalidRequestError } from '../../../../src/providers/sdk/errors.js';

/** The spec's own example of `GET /instance-types` data. */
const SPEC_EXAMPLE = {
  gpu_1x_gh200: {
    instance_type: {
      name: 'gpu_1x_gh200',
      description: '1x GH200 (96 GB)',
      gpu_description: 'GH200 (96 GB)',
      price_cents_per_hour: 149,
      specs: { vcpus: 64, memory_gib: 432, storage_gib: 4096, gpus: 1 },
    },
    regions_with_capacity_available: [{ name: 'us-west-1', description: 'California, USA' }],
  },
};

const type = (name: string, description: string, gpus: number) => ({
  name,
  description,
  gpu_description: description.replace(/^\d+x /, ''),
  price_cents_per_hour: 100,
  specs: { vcpus: 8, memory_gib: 32, storage_gib: 100, gpus },
});

describe('Lambda regions', () => {
  it('maps every region of the spec (and the older ones Brev listed) to an ISO 3166-1 alpha-3 country', () => {
    const expected: Record<string, string> = {
      'us-west-1': 'USA', 'us-west-2': 'USA', 'us-west-3': 'USA', 'us-south-1': 'USA', 'us-south-2': 'USA', 'us-south-3': 'USA',
      'us-east-1': 'USA', 'us-east-2': 'USA', 'us-east-3': 'USA', 'us-midwest-1': 'USA', 'us-midwest-2': 'USA',
      'europe-central-1': 'DEU', 'europe-south-1': 'ITA', 'asia-south-1': 'IND', 'asia-northeast-1': 'JPN', 'asia-northeast-2': 'JPN',
      'australia-east-1': 'AUS', 'australia-southeast-1': 'AUS', 'me-west-1': 'ISR',
    };
    assert.deepEqual(Object.fromEntries(LAMBDA_REGIONS.map((r) => [r.name, r.country])), expected);
    for (const code of LAMBDA_PUBLIC_REGION_CODES) {
      const c = lambdaRegionCountry(code);
      assert.ok(c && isAlpha3(c), `${code} → ${c}`);
    }
    assert.equal(LAMBDA_PUBLIC_REGION_CODES.length, 17);
  });

  it('derives the USA for new us-* codes and refuses to guess other unknown ones', () => {
    assert.equal(lambdaRegionCountry('us-northwest-9'), 'USA');
    assert.equal(lambdaRegionCountry('mars-central-1'), undefined);
  });

  it('lists every known region as a valid, open location; a reported new region joins only with a country', () => {
    const locs = lambdaLocations();
    assert.equal(locs.length, LAMBDA_REGIONS.length);
    for (const l of locs) assert.ok(LocationSchema.safeParse(l).success, l.name);
    assert.ok(locs.every((l) => l.available));
    const withNew = lambdaLocations(
      LambdaInstanceTypesSchema.parse({
        gpu_1x_a10: {
          instance_type: type('gpu_1x_a10', '1x A10 (24 GB PCIe)', 1),
          regions_with_capacity_available: [{ name: 'us-east-9', description: 'Somewhere, USA' }, { name: 'moon-1', description: 'Moon' }],
        },
      }),
    );
    assert.ok(withNew.some((l) => l.name === 'us-east-9' && l.country === 'USA'));
    assert.ok(!withNew.some((l) => l.name === 'moon-1'));
  });
});

describe('Lambda instance types', () => {
  it('turns the spec example into one type per region, available only where Lambda has capacity', () => {
    const its = lambdaInstanceTypes(LambdaInstanceTypesSchema.parse(SPEC_EXAMPLE));
    assert.equal(its.length, LAMBDA_REGIONS.length);
    for (const it of its) assert.ok(InstanceTypeSchema.safeParse(it).success, it.id);
    const west = its.find((t) => t.location === 'us-west-1')!;
    assert.equal(west.id, 'us-west-1-noSub-gpu_1x_gh200');
    assert.equal(west.isAvailable, true);
    assert.deepEqual(west.basePrice, { amount: 149, currency: 'USD', scale: 2 });
    assert.deepEqual(west.supportedGpus, [
      { count: 1, memory: { value: 96, unit: 'GiB' }, memoryDetails: '', networkDetails: '', manufacturer: 'NVIDIA', name: 'GH200', type: 'GH200' },
    ]);
    assert.deepEqual(west.supportedArchitectures, ['arm64'], 'GH200 hosts are Grace (arm64)');
    assert.deepEqual(west.memory, { value: 432, unit: 'GiB' });
    assert.equal(west.vcpu, 64);
    assert.deepEqual(west.supportedUsageClasses, ['on-demand']);
    assert.equal(west.preemptible, false);
    assert.equal(west.stoppable, false);
    assert.equal(its.filter((t) => t.isAvailable).length, 1);
  });

  it('parses GPU descriptions as Lambda writes them', () => {
    assert.deepEqual(lambdaGpu(type('gpu_8x_v100', '8x Tesla V100 (16 GB)', 8)), {
      count: 8, memory: { value: 16, unit: 'GiB' }, memoryDetails: '', networkDetails: '', manufacturer: 'NVIDIA', name: 'V100', type: 'V100',
    });
    const h = lambdaGpu(type('gpu_1x_h100_sxm5', '1x H100 (80 GB SXM5)', 1))!;
    assert.equal(h.type, 'H100.SXM5');
    assert.deepEqual(h.memory, { value: 80, unit: 'GiB' });
    assert.equal(lambdaGpu(type('gpu_1x_a6000', '1x RTX A6000 (48 GB)', 1))!.name, 'RTXA6000');
    assert.equal(lambdaGpu(type('gpu_8x_a100_80gb_sxm4', '8x A100 (80 GB SXM4)', 8))!.type, 'A100.SXM4');
    assert.equal(lambdaGpu(type('gpu_1x_a10', '1x A10 (24 GB PCIe)', 1))!.type, 'A10.PCIe');
    assert.equal(lambdaGpu(type('cpu_4x_general', '4x CPU (general)', 0)), undefined, 'CPU-only types have no GPU');
  });

  it('is sorted and deterministic (type, then region)', () => {
    const data = LambdaInstanceTypesSchema.parse({
      gpu_1x_h100_pcie: { instance_type: type('gpu_1x_h100_pcie', '1x H100 (80 GB PCIe)', 1), regions_with_capacity_available: [] },
      gpu_1x_a10: { instance_type: type('gpu_1x_a10', '1x A10 (24 GB PCIe)', 1), regions_with_capacity_available: [] },
    });
    const ids = lambdaInstanceTypes(data).map((t) => t.id);
    assert.equal(ids[0], 'us-west-1-noSub-gpu_1x_a10');
    assert.deepEqual(ids, lambdaInstanceTypes(data).map((t) => t.id));
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('Lambda instances', () => {
  const wire = (over: Record<string, unknown> = {}) =>
    LambdaInstanceSchema.parse({
      id: '0920582c7ff041399e34823a0be62549',
      name: 'job-1',
      ip: '198.51.100.2',
      private_ip: '10.0.2.100',
      status: 'active',
      ssh_key_names: ['ref-123'],
      file_system_names: [],
      region: { name: 'us-east-1', description: 'Virginia, USA' },
      instance_type: type('gpu_1x_a10', '1x A10 (24 GB PCIe)', 1),
      hostname: '198-51-100-2',
      actions: {},
      tags: [
        { key: 'gpuflow-ref-id', value: 'ref-123' },
        { key: 'gpuflow-cloud-cred-ref-id', value: 'lambda-prod' },
        { key: 'gpuflow-created-at', value: '2026-01-02T03:04:05.000Z' },
        { key: 'team', value: 'ml' },
      ],
      gpuflow_replica: { ssh_port: 40022, ssh_user: 'runner', not_privileged: true },
      ...over,
    });

  it('maps every Lambda status', () => {
    assert.equal(lambdaStatus('booting').lifecycleStatus, 'pending');
    assert.equal(lambdaStatus('active').lifecycleStatus, 'running');
    assert.equal(lambdaStatus('unhealthy').lifecycleStatus, 'running');
    assert.ok(lambdaStatus('unhealthy').messages.length > 0);
    assert.equal(lambdaStatus('terminating').lifecycleStatus, 'terminating');
    assert.equal(lambdaStatus('terminated').lifecycleStatus, 'terminated');
    assert.deepEqual({ ...lambdaStatus('preempted'), messages: [] }, { lifecycleStatus: 'terminated', messages: [], interruption: 'preempted' });
    assert.equal(lambdaStatus('error').lifecycleStatus, 'failed');
    assert.equal(lambdaStatus('something-new').lifecycleStatus, 'pending');
  });

  it('reads refId, cloudCredRefId and createdAt back from the tags; SSH is ubuntu@ip:22 on real Lambda', () => {
    const i = lambdaInstance(wire(), { testReplica: false });
    assert.ok(InstanceSchema.safeParse(i).success);
    assert.equal(i.refId, 'ref-123');
    assert.equal(i.cloudCredRefId, 'lambda-prod');
    assert.equal(i.createdAt, '2026-01-02T03:04:05.000Z');
    assert.equal(i.instanceTypeId, 'us-east-1-noSub-gpu_1x_a10');
    assert.equal(i.location, 'us-east-1');
    assert.equal(i.publicIp, '198.51.100.2');
    assert.equal(i.sshUser, 'ubuntu');
    assert.equal(i.sshPort, 22);
    assert.equal(i.notPrivileged, false, 'the replica extension is ignored unless testReplica');
    assert.equal(i.tags.team, 'ml');
    assert.equal(i.stoppable, false);
    assert.equal(i.rebootable, true);
  });

  it('falls back to Brev conventions: refId = SSH key name, cloudCredRefId and createdAt from the name', () => {
    const name = brevInstanceName('lambda-prod', new Date('2026-03-04T05:06:07Z'));
    assert.equal(name, 'lambda-prod--2026-03-04-05-06-07Z');
    assert.deepEqual(parseBrevInstanceName(name), { credRefId: 'lambda-prod', createdAt: '2026-03-04T05:06:07.000Z' });
    const i = lambdaInstance(wire({ tags: [], name }), { testReplica: false });
    assert.equal(i.refId, 'ref-123');
    assert.equal(i.cloudCredRefId, 'lambda-prod');
    assert.equal(i.createdAt, '2026-03-04T05:06:07.000Z');
  });

  it('takes the SSH endpoint from the replica extension only in testReplica mode', () => {
    const i = lambdaInstance(wire(), { testReplica: true });
    assert.equal(i.sshPort, 40022);
    assert.equal(i.sshUser, 'runner');
    assert.equal(i.notPrivileged, true);
  });

  it('names SSH keys after the refId, hashing refIds too long for a key name', () => {
    assert.equal(sshKeyNameFor('wl-abc-1'), 'wl-abc-1');
    const long = sshKeyNameFor('x'.repeat(80));
    assert.match(long, /^gpuflow-[0-9a-f]{32}$/);
  });

  it('checks tags against Lambda rules before launching', () => {
    assert.deepEqual(launchTags({ team: 'ml' }, { 'gpuflow-ref-id': 'r' }), [
      { key: 'team', value: 'ml' },
      { key: 'gpuflow-ref-id', value: 'r' },
    ]);
    assert.throws(() => launchTags({ Team: 'x' }, {}), (e: Error) => e instanceof InvalidRequestError && /tag key "Team"/.test(e.message));
    assert.throws(() => launchTags({ team: 'v'.repeat(129) }, {}), InvalidRequestError);
  });
});

describe('LambdaCredential', () => {
  const apiKey = 'secret_abcdefghijklmnop';

  it('validates with zod and names the field', () => {
    assert.throws(() => new LambdaCredential({ refId: 'l', apiKey: '' }), /apiKey/);
    assert.throws(() => new LambdaCredential({ refId: 'l', apiKey: 'a b' }), /whitespace/);
    assert.throws(() => new LambdaCredential({ refId: 'l', apiKey, baseUrl: 'ftp://x' }), /baseUrl/);
    assert.throws(() => new LambdaCredential({ refId: 'l', apiKey, testReplica: true }), /testReplica/);
    assert.throws(() => new LambdaCredential({ refId: 'l', apiKey, baseUrl: 'https://cloud.lambda.ai', testReplica: true }), /loopback/);
    assert.ok(new LambdaCredential({ refId: 'l', apiKey, baseUrl: 'http://127.0.0.1:9', testReplica: true }));
  });

  it('keeps the key out of JSON, inspection and the tenant ID', async () => {
    const c = new LambdaCredential({ refId: 'l', apiKey });
    assert.equal(c.baseUrl, 'https://cloud.lambda.ai');
    assert.ok(!JSON.stringify(c).includes(apiKey));
    assert.ok(!inspect(c, { depth: 5 }).includes(apiKey));
    const client = await c.makeClient('us-east-1');
    assert.ok(!inspect(client, { depth: 5 }).includes(apiKey));
    assert.ok(!JSON.stringify(client).includes(apiKey));
    const tenant = await c.getTenantId();
    assert.match(tenant, /^lambda-[0-9a-f]{16}$/);
    assert.ok(!tenant.includes(apiKey));
  });

  it('sends the key as Bearer, or as Basic like curl -u key:', () => {
    assert.equal(authorizationHeader(apiKey, 'bearer'), `Bearer ${apiKey}`);
    assert.equal(authorizationHeader(apiKey, 'basic'), `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}`);
  });

  it('is global and declares exactly what it implements', async () => {
    const c = await new LambdaCredential({ refId: 'l', apiKey }).makeClient('');
    assert.equal(c.getApiType(), 'global');
    assert.deepEqual(await c.getCapabilities(), ['create-instance', 'terminate-instance', 'create-terminate-instance', 'reboot-instance', 'instance-userdata']);
    assert.equal(typeof c.rebootInstance, 'function');
    assert.equal(c.stopInstance, undefined);
    assert.equal(c.updateInstanceTags, undefined);
    assert.equal(c.getMaxCreateRequestsPerMinute(), 5);
  });
});
