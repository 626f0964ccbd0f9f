/**
 * GCP GPU normalization (machine types → the contract's GPUs) and the host VM + accelerator
 * pricing from SkyPilot's GCP catalog format, on rows of the real file.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { toDecimalString } from '../../../../src/money/money.js';
import { gcpGpu, gcpInstanceTypes, gcpZonePrice, parseGcpCatalogCsv } from '../../../../src/providers/gcp/index.js';

it('normalizes the accelerator-optimized families by name: A3 H100, A2 A100 40/80 GB, G2 L4', () => {
  const cases: [string, string, number, number, string][] = [
    ['a3-highgpu-8g', 'H100', 8, 80, 'H100.SXM5'],
    ['a3-highgpu-1g', 'H100', 1, 80, 'H100.SXM5'],
    ['a3-megagpu-8g', 'H100', 8, 80, 'H100.SXM5'],
    ['a2-highgpu-4g', 'A100', 4, 40, 'A100.SXM4'],
    ['a2-megagpu-16g', 'A100', 16, 40, 'A100.SXM4'],
    ['a2-ultragpu-1g', 'A100', 1, 80, 'A100.SXM4'],
    ['g2-standard-4', 'L4', 1, 24, 'L4'],
    ['g2-standard-32', 'L4', 1, 24, 'L4'],
    ['g2-standard-24', 'L4', 2, 24, 'L4'],
    ['g2-standard-48', 'L4', 4, 24, 'L4'],
    ['g2-standard-96', 'L4', 8, 24, 'L4'],
  ];
  for (const [name, model, count, gib, type] of cases) {
    const g = gcpGpu({ name });
    assert.ok(g, name);
    assert.deepEqual([g.name, g.count, g.memory, g.type, g.manufacturer], [model, count, { value: gib, unit: 'GiB' }, type, 'NVIDIA'], name);
  }
  assert.equal(gcpGpu({ name: 'n2-standard-4' }), undefined);
  assert.equal(gcpGpu({ name: 'e2-medium', accelerators: [] }), undefined);
});

it('prefers the accelerators Compute reports over the family table', () => {
  const g = gcpGpu({ name: 'a3-highgpu-8g', accelerators: [{ guestAcceleratorType: 'nvidia-h100-80gb', guestAcceleratorCount: 4 }] });
  assert.equal(g?.count, 4);
  assert.equal(gcpGpu({ name: 'custom-x', accelerators: [{ guestAcceleratorType: 'nvidia-l4', guestAcceleratorCount: 1 }] })?.name, 'L4');
  assert.equal(gcpGpu({ name: 'custom-y', accelerators: [{ guestAcceleratorType: 'nvidia-unknown-gpu', guestAcceleratorCount: 1 }] }), undefined);
});

// The header and the a2-highgpu-1g us-central1 host rows are verbatim from skypilot-org/skypilot-catalog
// catalogs/v8/gcp/vms.csv (commit 006059e0f18acb1341e22a27751e9f80df6ba92f); the accelerator rows
// (InstanceType empty, as that file writes them) carry made-up prices.
const CSV = [
  'InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice',
  'a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-a,0.73948,0.36975',
  'a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-b,0.73948,0.36975',
  'a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-c,0.73948,0.36975',
  ',,,A100,1,A100,us-central1,us-central1-a,2.933908,1.173',
  ',,,A100,1,A100,us-central1,us-central1-b,2.933908,',
  ',,,A100,2,A100,us-central1,us-central1-c,5.867816,2.346',
].join('\r\n');

it('prices a GPU VM as its host VM row plus its accelerator row, per zone, exactly', () => {
  const rows = parseGcpCatalogCsv(CSV);
  assert.equal(rows.length, 6);
  const a = gcpZonePrice(rows, 'a2-highgpu-1g', { catalogName: 'A100', count: 1 }, 'us-central1-a');
  // 0.73948 + 2.933908 = 3.673388; 0.36975 + 1.173 = 1.54275
  assert.equal(toDecimalString(a.price!), '3.673388');
  assert.equal(toDecimalString(a.spotPrice!), '1.54275');
  assert.equal(a.price!.currency, 'USD');
  // No accelerator spot price: no spot in that zone.
  const b = gcpZonePrice(rows, 'a2-highgpu-1g', { catalogName: 'A100', count: 1 }, 'us-central1-b');
  assert.ok(b.price);
  assert.equal(b.spotPrice, undefined);
  // The accelerator row must be for the machine's GPU count: none for 1 in zone c.
  assert.deepEqual(gcpZonePrice(rows, 'a2-highgpu-1g', { catalogName: 'A100', count: 1 }, 'us-central1-c'), {});
});

it('makes one offer per zone the catalog prices, zone as the sub-location', () => {
  const rows = parseGcpCatalogCsv(CSV);
  const mt = { name: 'a2-highgpu-1g', guestCpus: 12, memoryMb: 87_040, accelerators: [{ guestAcceleratorType: 'nvidia-tesla-a100', guestAcceleratorCount: 1 }] };
  const types = gcpInstanceTypes({ region: 'us-central1', rows, zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'].map((zone) => ({ zone, machineTypes: [mt] })) });
  assert.deepEqual(
    types.map((t) => [t.id, t.subLocation, t.supportedUsageClasses.join('+')]),
    [
      ['us-central1-us-central1-a-a2-highgpu-1g', 'us-central1-a', 'on-demand+spot'],
      ['us-central1-us-central1-b-a2-highgpu-1g', 'us-central1-b', 'on-demand'],
    ],
  );
  assert.equal(types[0]!.supportedGpus[0]!.type, 'A100.SXM4');
  assert.equal(types[0]!.vcpu, 12);
});

it('refuses a file that is not a SkyPilot GCP catalog', () => {
  assert.throws(() => parseGcpCatalogCsv('InstanceType,Price\nx,1\n'), /not a SkyPilot GCP catalog/);
});
