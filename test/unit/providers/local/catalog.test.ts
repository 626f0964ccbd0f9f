import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  DEFAULT_CATALOG_INPUT,
  defaultCatalog,
  instanceTypesOf,
  loadCatalogFile,
  locationsOf,
  parseCatalog,
  readGpuDescription,
  resolveGpu,
} from '../../../../src/providers/local/daemon/catalog.js';
import { InstanceTypeSchema, LocationSchema } from '../../../../src/providers/sdk/types.js';

describe('local cloud catalog', () => {
  it('parses Lambda-style GPU descriptions', () => {
    assert.deepEqual(readGpuDescription('1x H100 (80 GB SXM5)'), { count: 1, name: 'H100', memoryGiB: 80, networkDetails: 'SXM5', manufacturer: 'NVIDIA', memoryDetails: '' });
    assert.deepEqual(readGpuDescription('8x Tesla V100 (16 GB)'), { count: 8, name: 'V100', memoryGiB: 16, networkDetails: '', manufacturer: 'NVIDIA', memoryDetails: '' });
    assert.deepEqual(readGpuDescription('2x RTX 4090 (24 GB PCIe)'), { count: 2, name: 'RTX4090', memoryGiB: 24, networkDetails: 'PCIe', manufacturer: 'NVIDIA', memoryDetails: '' });
    assert.throws(() => readGpuDescription('an H100'), /write it like "1x H100 \(80 GB SXM5\)"/);
  });

  it('explicit gpu fields override the description', () => {
    const g = resolveGpu({
      type: 't', gpuDescription: '1x A100 (40 GB SXM4)', gpu: { count: 4, memoryDetails: 'HBM2e' },
      vcpu: 1, memoryGiB: 1, diskGiB: 1, pricePerHour: '1', currency: 'USD', capacity: { a: 1 },
    });
    assert.deepEqual(g, {
      count: 4, memory: { value: 40, unit: 'GiB' }, memoryDetails: 'HBM2e', networkDetails: 'SXM4', manufacturer: 'NVIDIA',
      name: 'A100', type: 'A100.SXM4', productName: 'NVIDIA A100 40GB',
    });
  });

  it('the built-in catalog has 3 regions in 3 countries and 4 types, one InstanceType per (type, region)', () => {
    const c = defaultCatalog();
    assert.deepEqual(c.regions.map((r) => r.country), ['USA', 'DEU', 'FIN']);
    assert.equal(c.instanceTypes.length, 4);
    assert.equal(c.bootDelayMs, 1500);
    assert.equal(c.instancePollMs, 1000);
    for (const l of locationsOf(c)) LocationSchema.parse(l);
    const types = instanceTypesOf(c, () => true);
    assert.equal(types.length, c.instanceTypes.reduce((n, t) => n + Object.keys(t.capacity).length, 0));
    assert.equal(new Set(types.map((t) => t.id)).size, types.length);
    for (const t of types) {
      InstanceTypeSchema.parse(t);
      assert.equal(t.id, `${t.location}-noSub-${t.type}`);
      assert.equal(t.provider, 'local');
      assert.ok(t.basePrice);
    }
    const h100 = types.find((t) => t.id === 'us-east-noSub-gpu_1x_h100_sxm5')!;
    assert.deepEqual(h100.basePrice, { amount: 249, currency: 'USD', scale: 2 });
    assert.deepEqual(h100.spotPrice, { amount: 129, currency: 'USD', scale: 2 });
    assert.equal(h100.supportedGpus[0].type, 'H100.SXM5');
    const l4 = types.find((t) => t.type === 'gpu_1x_l4')!;
    assert.equal(l4.spotPrice, undefined);
    assert.equal(l4.preemptible, false);
    assert.deepEqual(instanceTypesOf(c, () => false).map((t) => t.isAvailable), types.map(() => false));
  });

  it('loads YAML, accepting a price written as a YAML number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-catalog-'));
    try {
      const file = join(dir, 'catalog.yaml');
      writeFileSync(
        file,
        [
          'regions:',
          '  - { name: lab, description: Lab, country: CHE }',
          'instanceTypes:',
          '  - type: gpu_1x_t4',
          '    gpuDescription: 1x T4 (16 GB PCIe)',
          '    vcpu: 4',
          '    memoryGiB: 16',
          '    diskGiB: 50',
          '    pricePerHour: 0.35',
          '    spotPricePerHour: "0.1234"',
          '    capacity: { lab: 3 }',
          'bootDelayMs: 10',
        ].join('\n'),
      );
      const c = loadCatalogFile(file);
      assert.equal(c.instanceTypes[0].pricePerHour, '0.35');
      assert.equal(c.instanceTypePollMs, 60_000);
      const [t] = instanceTypesOf(c, () => true);
      assert.deepEqual(t.basePrice, { amount: 35, currency: 'USD', scale: 2 });
      assert.deepEqual(t.spotPrice, { amount: 1234, currency: 'USD', scale: 4 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad catalogs with messages that point at the field', () => {
    const bad = structuredClone(DEFAULT_CATALOG_INPUT);
    bad.regions[0].country = 'US';
    bad.instanceTypes[0].capacity = { mars: 1 };
    bad.instanceTypes[1].type = bad.instanceTypes[2].type;
    bad.instanceTypes[3].pricePerHour = '-1';
    bad.instanceTypes[3].gpuDescription = 'some GPU';
    assert.throws(
      () => parseCatalog(bad),
      (e: Error) =>
        /regions\.0\.country: country must be an upper-case ISO 3166-1 alpha-3/.test(e.message) &&
        /instanceTypes\.0\.capacity\.mars: unknown region "mars"/.test(e.message) &&
        /duplicate instance type "gpu_1x_rtx4090"/.test(e.message) &&
        /instanceTypes\.3\.pricePerHour: price must be a non-negative decimal/.test(e.message) &&
        /instanceTypes\.3\.gpuDescription: cannot read GPU description "some GPU"/.test(e.message),
    );
  });
});
