/** The price table → instance types, GPU normalization and money (src/providers/nebius/catalog.ts). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { fromJSON, moneyFromDecimal, toJSON } from '../../../../src/money/money.js';
import { DEFAULT_NEBIUS_PRICE_FILE, nebiusGpu, nebiusInstanceTypes, parseNebiusPriceCsv, splitNebiusType } from '../../../../src/providers/nebius/index.js';
import { InstanceTypeSchema } from '../../../../src/providers/sdk/types.js';

const rows = parseNebiusPriceCsv(readFileSync(DEFAULT_NEBIUS_PRICE_FILE, 'utf8'));
const same = (a: unknown, decimal: string) => assert.deepEqual(toJSON(fromJSON(a as never)), toJSON(moneyFromDecimal(decimal, 'USD', 6)));

it('splits <platform>_<preset> and refuses other shapes', () => {
  assert.deepEqual(splitNebiusType('gpu-h100-sxm_8gpu-128vcpu-1600gb'), { platform: 'gpu-h100-sxm', preset: '8gpu-128vcpu-1600gb' });
  assert.deepEqual(splitNebiusType('gpu-l40s-a_1gpu-8vcpu-32gb'), { platform: 'gpu-l40s-a', preset: '1gpu-8vcpu-32gb' });
  assert.equal(splitNebiusType('gpu-h100-sxm'), undefined);
  assert.equal(splitNebiusType('H100:8'), undefined);
});

it('keeps GPU rows only, with exact prices and the preemptible price where listed', () => {
  assert.ok(rows.length > 10);
  assert.ok(rows.every((r) => r.gpuCount >= 1 && r.platform.startsWith('gpu-')));
  const h100x8 = rows.find((r) => r.platform === 'gpu-h100-sxm' && r.preset === '8gpu-128vcpu-1600gb' && r.region === 'eu-north1')!;
  same(h100x8.price, '23.60');
  same(h100x8.spotPrice, '10.00');
  const l40s = rows.find((r) => r.platform === 'gpu-l40s-a' && r.preset === '1gpu-8vcpu-32gb')!;
  same(l40s.price, '1.5484');
  assert.equal(l40s.spotPrice, undefined);
});

it('normalizes platforms to GPU models: form factor from the platform, memory from the model table', () => {
  const h100 = nebiusGpu('gpu-h100-sxm', 'H100', 8)!;
  assert.equal(h100.type, 'H100.SXM');
  assert.equal(h100.count, 8);
  assert.deepEqual(h100.memory, { value: 80, unit: 'GiB' });
  assert.equal(nebiusGpu('gpu-h200-sxm', 'H200', 1)!.type, 'H200.SXM');
  assert.equal(nebiusGpu('gpu-l40s-d', 'L40S', 2)!.type, 'L40S');
  assert.equal(nebiusGpu('gpu-b200-sxm', 'B200', 8)!.manufacturer, 'NVIDIA');
});

it('instance types of the configured regions only, valid, spot only where a preemptible price exists', () => {
  const types = nebiusInstanceTypes(rows, ['eu-west1']);
  assert.deepEqual(types.map((t) => t.type).sort(), ['gpu-h200-sxm_1gpu-16vcpu-200gb', 'gpu-h200-sxm_8gpu-128vcpu-1600gb']);
  for (const t of nebiusInstanceTypes(rows, ['eu-north1', 'eu-west1', 'us-central1'])) {
    InstanceTypeSchema.parse(t);
    assert.equal(t.preemptible, t.spotPrice !== undefined);
    assert.deepEqual(t.supportedUsageClasses, t.spotPrice ? ['on-demand', 'spot'] : ['on-demand']);
  }
  const b200 = nebiusInstanceTypes(rows, ['us-central1']).find((t) => t.type.startsWith('gpu-b200'))!;
  same(b200.basePrice, '44.00');
  assert.equal(b200.id, 'us-central1-noSub-gpu-b200-sxm_8gpu-160vcpu-1792gb');
});

it('refuses a file that is not a SkyPilot Nebius catalog, naming the header it needs', () => {
  assert.throws(() => parseNebiusPriceCsv('a,b\n1,2\n'), /header must name InstanceType/);
});
