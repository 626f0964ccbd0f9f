import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awsGpu, awsInstanceTypes, clientTokenFor, ec2Status, ingressPermissions, keyPairNameFor, parseAwsCatalogCsv, securityGroupNameFor, spotKey, transitionTime } from '../../../../src/providers/aws/index.js';
import { awsRegionCountry, AWS_REGIONS } from '../../../../src/providers/aws/regions.js';
import { AwsCredential } from '../../../../src/providers/aws/credential.js';
import { parseAwsStaticKeys } from '../../../../src/providers/aws/api.js';
import { replicaCatalogCsv } from '../../../replicas/aws/catalog.js';

const gpu = (type: string, name: string, count: number, mib: number) => awsGpu({ InstanceType: type, GpuInfo: { Gpus: [{ Name: name, Manufacturer: 'NVIDIA', Count: count, MemoryInfo: { SizeInMiB: mib } }] } });

describe('aws GPU normalization', () => {
  it('names EC2 GPUs as the other adapters do, with the family interconnect', () => {
    assert.deepEqual(gpu('p5.48xlarge', 'H100', 8, 81920), { count: 8, memory: { value: 80, unit: 'GiB' }, memoryDetails: '', networkDetails: 'SXM5', manufacturer: 'NVIDIA', name: 'H100', type: 'H100.SXM5' });
    assert.equal(gpu('p4d.24xlarge', 'A100', 8, 40960)?.type, 'A100.SXM4');
    assert.equal(gpu('p4de.24xlarge', 'A100', 8, 81920)?.memory.value, 80);
    assert.equal(gpu('p3.2xlarge', 'V100', 1, 16384)?.type, 'V100.SXM2');
    assert.equal(gpu('g5.xlarge', 'A10G', 1, 24576)?.type, 'A10G');
    assert.equal(gpu('g6.xlarge', 'L4', 1, 22888)?.memory.value, 22);
    assert.equal(gpu('g6e.xlarge', 'L40S', 1, 45776)?.name, 'L40S');
    assert.equal(awsGpu({ InstanceType: 'm5.xlarge' }), undefined);
  });
});

describe('aws catalog', () => {
  const rows = parseAwsCatalogCsv(replicaCatalogCsv());
  it('reads SkyPilot AWS rows by header, prices exact', () => {
    const r = rows.find((x) => x.instanceType === 'g6.xlarge' && x.region === 'us-east-1' && x.zone === 'use1-az2')!;
    assert.deepEqual(r.price, { amount: 8048, currency: 'USD', scale: 4 });
    assert.throws(() => parseAwsCatalogCsv('a,b\n1,2\n'), /SkyPilot AWS catalog/);
  });
  it('one type per zone, matched by zone ID, spot only where a zone has a price', () => {
    const types = awsInstanceTypes({
      region: 'us-east-1',
      zones: [{ zoneName: 'us-east-1a', zoneId: 'use1-az1' }, { zoneName: 'us-east-1b', zoneId: 'use1-az2' }],
      types: [{ InstanceType: 'g6.xlarge', VCpuInfo: { DefaultVCpus: 4 }, MemoryInfo: { SizeInMiB: 16384 }, ProcessorInfo: { SupportedArchitectures: ['x86_64'] }, SupportedUsageClasses: ['on-demand', 'spot'], GpuInfo: { Gpus: [{ Name: 'L4', Manufacturer: 'NVIDIA', Count: 1, MemoryInfo: { SizeInMiB: 22888 } }] } }],
      rows,
      spotPrices: new Map([[spotKey('g6.xlarge', 'us-east-1b'), { amount: 33, currency: 'USD', scale: 2 }]]),
    });
    assert.deepEqual(types.map((t) => t.id), ['us-east-1-us-east-1a-g6.xlarge', 'us-east-1-us-east-1b-g6.xlarge']);
    assert.deepEqual(types[0]!.supportedUsageClasses, ['on-demand']);
    assert.deepEqual(types[1]!.spotPrice, { amount: 33, currency: 'USD', scale: 2 });
    assert.equal(types[1]!.subLocation, 'us-east-1b');
  });
});

describe('aws regions', () => {
  it('every region of the table has an ISO country', () => {
    for (const r of Object.keys(AWS_REGIONS)) assert.match(awsRegionCountry(r) ?? '', /^[A-Z]{3}$/, r);
    assert.equal(awsRegionCountry('eu-central-1'), 'DEU');
    assert.equal(awsRegionCountry('ap-northeast-3'), 'JPN');
    assert.equal(awsRegionCountry('xx-nowhere-1'), undefined);
  });
});

describe('aws instances', () => {
  it('maps EC2 states and spot reclaim', () => {
    assert.equal(ec2Status({ State: { Name: 'shutting-down' } }).lifecycleStatus, 'terminating');
    const s = ec2Status({ State: { Name: 'terminated' }, StateReason: { Code: 'Server.SpotInstanceTermination', Message: 'Server.SpotInstanceTermination: Spot instance termination' } });
    assert.equal(s.interruption, 'preempted');
    assert.equal(ec2Status({ State: { Name: 'terminated' }, StateReason: { Code: 'Client.UserInitiatedShutdown' } }).interruption, undefined);
    assert.equal(ec2Status({ State: { Name: 'terminated' }, StateReason: { Code: 'Server.InternalError' } }).interruption, 'host-failure');
    assert.equal(transitionTime('User initiated (2026-12-03 15:04:05 GMT)'), '2026-12-03T15:04:05.000Z');
  });
  it('derives stable names for tokens, key pairs and groups', () => {
    assert.equal(clientTokenFor('wl-1-0'), 'wl-1-0');
    assert.equal(clientTokenFor('x'.repeat(80)).length <= 64, true);
    assert.equal(keyPairNameFor('ssh-ed25519 AAAA comment-a'), keyPairNameFor('ssh-ed25519 AAAA comment-b'));
    const perms = ingressPermissions({ ingressRules: [{ fromPort: 8000, toPort: 8000, ipRanges: ['203.0.113.0/24'] }], egressRules: [] });
    assert.deepEqual(perms.map((p) => `${p.IpProtocol}:${p.FromPort}`), ['tcp:22', 'tcp:8000', 'udp:8000']);
    assert.equal(securityGroupNameFor(perms), securityGroupNameFor(ingressPermissions({ ingressRules: [{ fromPort: 8000, toPort: 8000, ipRanges: ['203.0.113.0/24'] }], egressRules: [] })));
  });
});

describe('aws credential', () => {
  const keys = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
  it('validates options, naming the field', () => {
    assert.throws(() => new AwsCredential({ refId: 'a', regions: [] }), /regions: regions must list at least one AWS region/);
    assert.throws(() => new AwsCredential({ refId: 'a', regions: ['mars-1'] }), /regions\.0: regions entries are AWS region codes/);
    assert.throws(() => new AwsCredential({ refId: 'a', regions: ['us-east-1'], keys, profile: 'p' }), /profile: set keys or profile, not both/);
    assert.throws(() => new AwsCredential({ refId: 'a', regions: ['us-east-1'], testReplica: true, endpoint: 'https://ec2.us-east-1.amazonaws.com' }), /testReplica/);
    assert.throws(() => parseAwsStaticKeys('AKIA:secret'), /must be JSON/);
    assert.throws(() => parseAwsStaticKeys('{"accessKeyId":"lower"}'), /accessKeyId: accessKeyId must be an AWS access key ID/);
  });
  it('keeps the secret out of JSON and inspection', async () => {
    const c = new AwsCredential({ refId: 'a', regions: ['us-east-1'], keys });
    const { inspect } = await import('node:util');
    assert.ok(!JSON.stringify(c).includes(keys.secretAccessKey));
    assert.ok(!inspect(c, { depth: 5, showHidden: false }).includes(keys.secretAccessKey));
    assert.ok(!(await c.getTenantId()).includes(keys.accessKeyId));
    assert.equal(c.getApiType(), 'locational');
    await assert.rejects(c.makeClient('eu-west-1'), /not configured on connection a/);
  });
});
