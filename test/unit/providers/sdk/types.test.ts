import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import {
  CreateInstanceAttrsSchema,
  FirewallRuleSchema,
  GpuSchema,
  InstanceSchema,
  InstanceTypeSchema,
  LocationSchema,
  isAllLocations,
  isAllowedBy,
  isSelectedByArgs,
  type InstanceType,
} from '../../../../src/providers/sdk/types.js';

const H100_TYPE = {
  id: 'us-east-noSub-gpu_1x_h100_sxm5',
  location: 'us-east',
  type: 'gpu_1x_h100_sxm5',
  supportedGpus: [
    { count: 1, memory: { value: 80, unit: 'GiB' }, networkDetails: 'SXM5', manufacturer: 'NVIDIA', name: 'H100', type: 'H100.SXM5' },
  ],
  supportedStorage: [{ count: 1, size: { value: 1000, unit: 'GiB' }, type: 'ssd' }],
  memory: { value: 200, unit: 'GiB' },
  vcpu: 26,
  supportedArchitectures: ['x86_64'],
  supportedUsageClasses: ['on-demand', 'spot'],
  stoppable: false,
  rebootable: true,
  preemptible: false,
  isAvailable: true,
  basePrice: { amount: 249, currency: 'USD', scale: 2 },
  spotPrice: { amount: 125, currency: 'USD', scale: 2 },
  provider: 'local',
};

const INSTANCE = {
  name: 'gpuflow-job-1',
  refId: 'wf-123-attempt-1',
  cloudCredRefId: 'local-default',
  createdAt: '2025-01-02T03:04:05Z',
  cloudId: 'i-abc',
  instanceType: 'gpu_1x_h100_sxm5',
  instanceTypeId: 'us-east-noSub-gpu_1x_h100_sxm5',
  status: { lifecycleStatus: 'running' },
  spot: false,
  location: 'us-east',
  stoppable: false,
  rebootable: true,
};

const LOCATION = { name: 'eu-central', description: 'Frankfurt, Germany', available: true, country: 'DEU' };

const ATTRS = {
  location: 'us-east',
  refId: 'wf-123-attempt-1',
  publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOM3wJ9ytNQ9qNUXcY0kOmyH6j1y5H2d5bXy8R8qP4mR gpuflow',
  instanceType: 'gpu_1x_h100_sxm5',
};

function issuesOf(schema: z.ZodType, value: unknown): { path: PropertyKey[]; message: string }[] {
  const r = schema.safeParse(value);
  assert.equal(r.success, false, 'expected the schema to reject the value');
  return r.error!.issues.map((i) => ({ path: i.path, message: i.message }));
}

describe('InstanceTypeSchema', () => {
  test('accepts a valid instance type and fills defaults', () => {
    const it = InstanceTypeSchema.parse(H100_TYPE);
    assert.deepEqual(it.availableAzs, []);
    assert.equal(it.subLocation, '');
    assert.equal(it.canModifyFirewallRules, false);
    assert.equal(it.supportedGpus[0].memoryDetails, '');
    assert.equal(it.supportedStorage[0].isEphemeral, false);
    assert.deepEqual(it.basePrice, { amount: 249, currency: 'USD', scale: 2 });
  });

  test('rejects no architectures, no usage classes, a bad price currency', () => {
    assert.deepEqual(issuesOf(InstanceTypeSchema, { ...H100_TYPE, supportedArchitectures: [] }).map((i) => i.path), [['supportedArchitectures']]);
    assert.deepEqual(issuesOf(InstanceTypeSchema, { ...H100_TYPE, supportedUsageClasses: [] }).map((i) => i.path), [['supportedUsageClasses']]);
    const [price] = issuesOf(InstanceTypeSchema, { ...H100_TYPE, basePrice: { amount: 1, currency: 'XXX', scale: 2 } });
    assert.deepEqual(price.path, ['basePrice', 'currency']);
  });

  test('rejects a GPU with zero count or fractional memory', () => {
    assert.equal(GpuSchema.safeParse({ ...H100_TYPE.supportedGpus[0], count: 0 }).success, false);
    assert.equal(GpuSchema.safeParse({ ...H100_TYPE.supportedGpus[0], memory: { value: 79.5, unit: 'GiB' } }).success, false);
  });
});

describe('InstanceSchema', () => {
  test('accepts a valid instance and fills defaults', () => {
    const i = InstanceSchema.parse(INSTANCE);
    assert.equal(i.publicIp, '');
    assert.equal(i.sshPort, 0);
    assert.deepEqual(i.status.messages, []);
    assert.deepEqual(i.firewallRules, { ingressRules: [], egressRules: [] });
    assert.deepEqual(i.tags, {});
    assert.equal(i.notPrivileged, false);
  });

  test('rejects a createdAt that is not an ISO datetime and an unknown status', () => {
    assert.deepEqual(issuesOf(InstanceSchema, { ...INSTANCE, createdAt: 'yesterday' }).map((i) => i.path), [['createdAt']]);
    assert.deepEqual(issuesOf(InstanceSchema, { ...INSTANCE, status: { lifecycleStatus: 'booting' } }).map((i) => i.path), [['status', 'lifecycleStatus']]);
  });

  test('rejects an empty refId or cloudId', () => {
    assert.deepEqual(issuesOf(InstanceSchema, { ...INSTANCE, refId: '' }).map((i) => i.path), [['refId']]);
    assert.deepEqual(issuesOf(InstanceSchema, { ...INSTANCE, cloudId: '' }).map((i) => i.path), [['cloudId']]);
  });
});

describe('LocationSchema', () => {
  test('accepts an alpha-3 country and defaults priority to 0', () => {
    assert.deepEqual(LocationSchema.parse(LOCATION), { ...LOCATION, priority: 0 });
  });

  for (const bad of ['Germany', 'DE', 'deu', 'XYZ', '']) {
    test(`rejects country ${JSON.stringify(bad)} with a message naming the field`, () => {
      const issues = issuesOf(LocationSchema, { ...LOCATION, country: bad });
      assert.equal(issues.length, 1);
      assert.deepEqual(issues[0].path, ['country']);
      assert.match(issues[0].message, /country/);
      assert.match(issues[0].message, /alpha-3/);
      assert.match(z.prettifyError(LocationSchema.safeParse({ ...LOCATION, country: bad }).error!), /at country/);
    });
  }
});

describe('CreateInstanceAttrsSchema', () => {
  test('accepts minimal attrs and fills defaults', () => {
    const a = CreateInstanceAttrsSchema.parse(ATTRS);
    assert.equal(a.useSpot, false);
    assert.equal(a.imageId, '');
    assert.deepEqual(a.firewallRules, { ingressRules: [], egressRules: [] });
  });

  test('accepts RSA and ECDSA keys', () => {
    assert.equal(CreateInstanceAttrsSchema.safeParse({ ...ATTRS, publicKey: 'ssh-rsa AAAAB3NzaC1yc2E= me' }).success, true);
    assert.equal(CreateInstanceAttrsSchema.safeParse({ ...ATTRS, publicKey: 'ecdsa-sha2-nistp256 AAAAE2VjZHNh' }).success, true);
  });

  test('rejects a missing refId with the idempotency message', () => {
    const { refId: _omit, ...noRef } = ATTRS;
    const issues = issuesOf(CreateInstanceAttrsSchema, noRef);
    assert.deepEqual(issues, [{ path: ['refId'], message: 'refId is required: it makes create idempotent' }]);
  });

  test('rejects an empty refId with the same message', () => {
    assert.deepEqual(issuesOf(CreateInstanceAttrsSchema, { ...ATTRS, refId: '' }), [{ path: ['refId'], message: 'refId is required: it makes create idempotent' }]);
  });

  for (const bad of ['', 'AAAAC3NzaC1lZDI1NTE5', 'ssh-dss AAAAB3NzaC1kc3M=', '-----BEGIN OPENSSH PRIVATE KEY-----', 'ssh-ed25519']) {
    test(`rejects publicKey ${JSON.stringify(bad.slice(0, 20))}`, () => {
      assert.deepEqual(issuesOf(CreateInstanceAttrsSchema, { ...ATTRS, publicKey: bad }), [{ path: ['publicKey'], message: 'publicKey must be an OpenSSH public key line' }]);
    });
  }
});

describe('FirewallRuleSchema', () => {
  test('fromPort must be <= toPort', () => {
    assert.equal(FirewallRuleSchema.safeParse({ fromPort: 10, toPort: 10 }).success, true);
    assert.deepEqual(issuesOf(FirewallRuleSchema, { fromPort: 11, toPort: 10 }).map((i) => i.message), ['fromPort must be <= toPort']);
  });
});

describe('selection', () => {
  const base = InstanceTypeSchema.parse(H100_TYPE);
  const amd: InstanceType = { ...base, id: 'x-amd', location: 'eu-central', type: 'mi300x', supportedGpus: [{ ...base.supportedGpus[0], manufacturer: 'AMD', name: 'MI300X', type: 'MI300X' }] };
  const arm: InstanceType = { ...base, id: 'x-arm', type: 'gh200', supportedArchitectures: ['arm64'] };
  const cpu: InstanceType = { ...base, id: 'x-cpu', type: 'cpu', supportedGpus: [] };
  const all = [base, amd, arm, cpu];
  const pick = (args: Parameters<typeof isSelectedByArgs>[1]) => all.filter((it) => isSelectedByArgs(it, args)).map((it) => it.id);

  test('isAllLocations', () => {
    assert.equal(isAllLocations(undefined), true);
    assert.equal(isAllLocations([]), true);
    assert.equal(isAllLocations(['all']), true);
    assert.equal(isAllLocations(['us-east', '*']), true);
    assert.equal(isAllLocations(['us-east']), false);
  });

  test('isAllowedBy: include must contain, exclude must not', () => {
    assert.equal(isAllowedBy(undefined, 'a'), true);
    assert.equal(isAllowedBy({ include: ['a'] }, 'a'), true);
    assert.equal(isAllowedBy({ include: ['a'] }, 'b'), false);
    assert.equal(isAllowedBy({ exclude: ['a'] }, 'a'), false);
    assert.equal(isAllowedBy({ include: ['a'], exclude: ['a'] }, 'a'), false);
  });

  test('no args select everything', () => {
    assert.deepEqual(pick({}), [base.id, 'x-amd', 'x-arm', 'x-cpu']);
  });

  test('locations', () => {
    assert.deepEqual(pick({ locations: ['eu-central'] }), ['x-amd']);
    assert.deepEqual(pick({ locations: ['all'] }).length, 4);
  });

  test('GPU manufacturer include/exclude applies to every GPU (CPU-only types pass)', () => {
    assert.deepEqual(pick({ gpuManufacturerFilter: { include: ['NVIDIA'] } }), [base.id, 'x-arm', 'x-cpu']);
    assert.deepEqual(pick({ gpuManufacturerFilter: { exclude: ['NVIDIA'] } }), ['x-amd', 'x-cpu']);
  });

  test('architecture include/exclude', () => {
    assert.deepEqual(pick({ architectureFilter: { include: ['x86_64'] } }), [base.id, 'x-amd', 'x-cpu']);
    assert.deepEqual(pick({ architectureFilter: { exclude: ['x86_64'] } }), ['x-arm']);
  });

  test('instance types', () => {
    assert.deepEqual(pick({ instanceTypes: ['gh200', 'cpu'] }), ['x-arm', 'x-cpu']);
    assert.deepEqual(pick({ instanceTypes: [] }).length, 4);
  });

  test('filters combine', () => {
    assert.deepEqual(pick({ locations: ['us-east'], architectureFilter: { include: ['x86_64'] }, gpuManufacturerFilter: { include: ['NVIDIA'] } }), [base.id, 'x-cpu']);
  });
});
