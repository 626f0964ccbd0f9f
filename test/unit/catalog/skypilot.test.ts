/**
 * The SkyPilot catalog reader on every file in ../shared/data/skypilot-catalog (beside the clone),
 * plus the format's quirks on small inline files.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { moneyFromDecimal, toJSON } from '../../../src/money/money.js';
import { parseCatalog } from '../../../src/providers/local/daemon/catalog.js';
import { isAlpha3 } from '../../../src/providers/sdk/country.js';
import { catalogPrice, parseSkypilotCsv, readSkypilotCatalog, regionCountry, skypilotToLocalCatalog } from '../../../src/catalog/skypilot/index.js';
import { gpuMemoryGiB } from '../../../src/routing/gpuClass.js';
import { OfferSchema, type Offer } from '../../../src/routing/offer.js';
import { priceKey } from '../../../src/routing/rankOffers.js';
import { SKYPILOT_CATALOG_DIR } from '../../helpers/skypilotCatalog.js';

const CATALOG = SKYPILOT_CATALOG_DIR;
const SEEN = '2026-01-01T00:00:00.000Z';

/** Rows per file, as the shared MANIFEST describes the snapshot. */
const EXPECTED_ROWS: Record<string, number> = { cudo: 156, do: 38, fluidstack: 1, hyperbolic: 3, lambda: 408, nebius: 61, paperspace: 19, vast: 67, verda: 33 };

const catalog = readSkypilotCatalog(CATALOG, { seenAt: SEEN });
const byCloud = (cloud: string) => catalog.offers.filter((o) => o.provider === cloud);
const find = (cloud: string, type: string, region?: string, spot = false): Offer => {
  const o = catalog.offers.find((x) => x.provider === cloud && x.type === type && (region === undefined || x.location === region) && x.spot === spot);
  assert.ok(o, `${cloud} ${type} ${region ?? ''} ${spot ? 'spot' : ''}`);
  return o;
};

/** The CSV rows of one cloud, parsed independently of the reader. */
function rawRows(cloud: string): Record<string, string>[] {
  return parse(readFileSync(join(CATALOG, cloud, 'vms.csv'), 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
}
const positive = (s: string | undefined) => !!s && Number(s) > 0;

describe('SkyPilot reader on every shared catalog file', () => {
  it('reads every <cloud>/vms.csv in the directory, all rows, none skipped', () => {
    const dirs = readdirSync(CATALOG, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    assert.deepEqual(catalog.files.map((f) => f.cloud), dirs);
    assert.deepEqual(Object.fromEntries(catalog.files.map((f) => [f.cloud, f.rows])), EXPECTED_ROWS);
    assert.deepEqual(catalog.skipped, []);
  });

  it('one on-demand offer per row with a price, one spot offer per row with a positive SpotPrice', () => {
    for (const cloud of Object.keys(EXPECTED_ROWS)) {
      const rows = rawRows(cloud);
      const offers = byCloud(cloud);
      assert.equal(offers.filter((o) => !o.spot).length, rows.filter((r) => positive(r.Price)).length, `${cloud} on-demand`);
      assert.equal(offers.filter((o) => o.spot).length, rows.filter((r) => positive(r.SpotPrice)).length, `${cloud} spot`);
    }
    const spotByCloud = Object.fromEntries(Object.keys(EXPECTED_ROWS).map((c) => [c, byCloud(c).filter((o) => o.spot).length]));
    assert.deepEqual(spotByCloud, { cudo: 0, do: 0, fluidstack: 0, hyperbolic: 0, lambda: 0, nebius: 8, paperspace: 0, vast: 0, verda: 27 });
    assert.equal(catalog.offers.length, 816);
  });

  it('empty SpotPrice and vast\'s 0.00 mean no spot market; an empty Price with a SpotPrice is spot only', () => {
    assert.ok(rawRows('vast').every((r) => r.SpotPrice === '0.00'));
    assert.equal(byCloud('vast').filter((o) => o.spot).length, 0);
    const spotOnly = byCloud('verda').filter((o) => o.type === '2B300.60V');
    assert.deepEqual(spotOnly.map((o) => [o.spot, o.pricePerHour]), [[true, { amount: 4893, currency: 'USD', scale: 3 }]]);
  });

  it('every offer is a valid Offer with an alpha-3 country', () => {
    for (const o of catalog.offers) {
      assert.ok(isAlpha3(o.country), `${o.provider} ${o.location}: ${o.country}`);
      const r = OfferSchema.safeParse(o);
      assert.ok(r.success, `${o.provider} ${o.type}: ${r.error?.message}`);
      assert.equal(o.connection, `skypilot:${o.provider}`);
      assert.equal(o.seenAt, SEEN);
    }
  });

  it('prices are exact integers at scale <= 6: float noise rounded, every other digit kept', () => {
    const priceOf = new Map<string, string>();
    for (const cloud of Object.keys(EXPECTED_ROWS)) {
      for (const r of rawRows(cloud)) {
        const id = `${cloud}\u0000${r.Region}\u0000${r.AvailabilityZone ?? ''}\u0000${r.InstanceType}`;
        priceOf.set(`${id}\u0000od`, r.Price ?? '');
        priceOf.set(`${id}\u0000spot`, r.SpotPrice ?? '');
      }
    }
    for (const o of catalog.offers) {
      const p = o.pricePerHour;
      assert.ok(Number.isSafeInteger(p.amount) && p.amount > 0 && p.scale <= 6, JSON.stringify(p));
      assert.equal(p.currency, 'USD');
      const raw = priceOf.get(`${o.provider}\u0000${o.location}\u0000${o.subLocation}\u0000${o.type}\u0000${o.spot ? 'spot' : 'od'}`);
      assert.ok(raw, `${o.provider} ${o.type} ${o.location}`);
      assert.equal(priceKey(p), priceKey(toJSON(moneyFromDecimal(raw, 'USD', 6))), `${o.provider} ${o.type}: ${raw}`);
    }
    // Cudo's float noise: 0.36979999999999996 → 0.3698.
    assert.deepEqual(find('cudo', 'ice-lake-a40-compute_1x2v4gb', 'ca-montreal-3').pricePerHour, { amount: 3698, currency: 'USD', scale: 4 });
  });

  it('maps every region to its country: codes and names through the library, a table for the rest', () => {
    const regions = new Map(catalog.offers.map((o) => [`${o.provider} ${o.location}`, o.country]));
    const expect: Record<string, string> = {
      'vast Texas, US, NA': 'USA',
      'vast , CN, AS': 'CHN',
      'vast Hafnarfjarðarkaupstaður, IS, EU': 'ISL',
      'vast Georgia, US, NA': 'USA',
      'vast United Kingdom, GB, EU': 'GBR',
      'cudo se-stockholm-1': 'SWE',
      'cudo no-kristiansand-1': 'NOR',
      'cudo ca-montreal-3': 'CAN',
      'verda FIN-01': 'FIN',
      'fluidstack FINLAND': 'FIN',
      'lambda us-east-1': 'USA',
      'lambda me-west-1': 'ISR',
      'lambda europe-central-1': 'DEU',
      'lambda europe-south-1': 'ITA',
      'lambda australia-east-1': 'AUS',
      'lambda asia-northeast-2': 'JPN',
      'lambda asia-south-1': 'IND',
      'nebius eu-north1': 'FIN',
      'nebius eu-west1': 'FRA',
      'nebius us-central1': 'USA',
      'do tor1': 'CAN',
      'do nyc1': 'USA',
      'paperspace East Coast (NY2)': 'USA',
      'hyperbolic default': 'USA',
    };
    for (const [k, v] of Object.entries(expect)) assert.equal(regions.get(k), v, k);
  });

  it('GPUs: normalized names, form factors, per-GPU memory despite each cloud\'s GpuInfo quirk', () => {
    const g = (o: Offer) => [o.gpu!.name, o.gpu!.networkDetails, o.gpu!.count, gpuMemoryGiB(o.gpu!.memory)];
    // Lambda's TotalGpuMemoryInMiB is one GPU's memory; it is not divided by 8.
    assert.deepEqual(g(find('lambda', 'gpu_8x_h100_sxm5', 'us-east-1')), ['H100', 'SXM5', 8, 80]);
    assert.deepEqual(g(find('lambda', 'gpu_1x_h100_pcie')), ['H100', 'PCIe', 1, 80]);
    assert.deepEqual(g(find('lambda', 'gpu_1x_a6000')), ['RTXA6000', '', 1, 48]);
    assert.deepEqual(g(find('lambda', 'gpu_8x_a100_80gb_sxm4')), ['A100', 'SXM4', 8, 80]);
    // Vast's GpuInfo SizeInMiB is the total of the row's GPUs.
    assert.deepEqual(g(find('vast', '2x-H200-32-65536', 'France, FR, EU')), ['H200', '', 2, 140]);
    assert.deepEqual(g(find('vast', '8x-H100_SXM-32-65536')), ['H100', 'SXM', 8, 80]);
    assert.deepEqual(g(find('vast', '1x-H100_NVL-32-65536')), ['H100', 'NVL', 1, 94]);
    assert.deepEqual(g(find('cudo', 'sapphire-rapids-h100_8x64v128gb', 'ca-montreal-3')), ['H100', 'SXM', 8, 80]);
    assert.deepEqual(g(find('do', 'gpu-h100x8-640gb', 'tor1')), ['H100', '', 8, 80]);
    assert.deepEqual(g(find('fluidstack', 'H100_NVLINK_80GB::8')), ['H100', 'NVLink', 8, 80]);
    assert.deepEqual(g(find('verda', '1RTX6000ADA.10V')), ['RTX6000Ada', '', 1, 48]);
    assert.deepEqual(g(find('nebius', 'gpu-h200-sxm_8gpu-128vcpu-1600gb')), ['H200', 'SXM', 8, 141]);
    assert.deepEqual(g(find('paperspace', 'A100-80Gx8')), ['A100', '', 8, 80]);
    assert.equal(find('hyperbolic', '1x-H100-75-722').gpu!.memoryDetails, 'HBM3');
    assert.equal(find('hyperbolic', '1x-H100-75-722').diskGiB, 800);
    // CPU-only rows have no GPU; the counts of GPU rows match AcceleratorCount.
    assert.equal(find('do', 's-4vcpu-8gb', 'nyc1').gpu, undefined);
    for (const cloud of Object.keys(EXPECTED_ROWS)) {
      const withGpu = rawRows(cloud).filter((r) => r.AcceleratorName && Number(r.AcceleratorCount) > 0);
      const offers = byCloud(cloud).filter((o) => !o.spot || !positive(rawRows(cloud).find((r) => r.InstanceType === o.type && r.Region === o.location)?.Price));
      assert.equal(offers.filter((o) => o.gpu).length, withGpu.length, cloud);
    }
  });
});

describe('SkyPilot reader on quirky inline files', () => {
  it('finds columns by header name in any order, CRLF line ends', () => {
    const a = 'InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Region,SpotPrice,Price,AvailabilityZone,GpuInfo\r\n1x_H100_SECURE,H100,1,16,64,US,2.39,2.39,US-TX-3,\r\n';
    const b = 'Price,Region,InstanceType,SpotPrice,vCPUs,MemoryGiB,AcceleratorCount,AcceleratorName\n2.39,US,1x_H100_SECURE,2.39,16,64,1,H100\n';
    const ra = parseSkypilotCsv(a, 'runpod', { seenAt: SEEN });
    const rb = parseSkypilotCsv(b, 'runpod', { seenAt: SEEN });
    assert.equal(ra.offers.length, 2);
    assert.deepEqual(ra.offers.map((o) => [o.country, o.subLocation, o.spot]), [['USA', 'US-TX-3', false], ['USA', 'US-TX-3', true]]);
    assert.deepEqual(rb.offers.map((o) => [o.country, o.spot, o.gpu!.name, o.pricePerHour.amount]), [['USA', false, 'H100', 239], ['USA', true, 'H100', 239]]);
  });

  it('skips and reports rows it cannot place: no instance type, no price, no known country', () => {
    const csv = [
      'InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Region,AvailabilityZone,Price,SpotPrice',
      ',A100,1,,,,us-east-1,us-east-1a,2.93,1.17',
      'gpu_1x_x,,,12,85,,us-east-1,us-east-1a,,',
      'cpu_8x,,,8,30,,mars-north1,mars-north1-a,0.38,0.08',
    ].join('\n');
    const r = parseSkypilotCsv(csv, 'lambda', { seenAt: SEEN });
    assert.deepEqual(r.offers, []);
    assert.deepEqual(r.skipped.map((s) => [s.line, s.reason]), [
      [2, 'no instance type (an accelerator-only row)'],
      [3, 'no price'],
      [4, 'no known country for region "mars-north1"'],
    ]);
  });

  it('catalogPrice: empty, zero, negative, garbage and sentinel prices are no market', () => {
    for (const s of ['', '0', '0.00', '-1', 'n/a', '99999999', undefined]) assert.equal(catalogPrice(s), undefined, String(s));
    assert.deepEqual(catalogPrice('0.36979999999999996'), { amount: 3698, currency: 'USD', scale: 4 });
    assert.deepEqual(catalogPrice('23.92'), { amount: 2392, currency: 'USD', scale: 2 });
    assert.deepEqual(catalogPrice('2.0'), { amount: 20, currency: 'USD', scale: 1 });
    assert.deepEqual(catalogPrice('0.000123'), { amount: 123, currency: 'USD', scale: 6 });
  });
});

describe('regionCountry', () => {
  it('reads codes only where the provider puts them: "me" is the Middle East, vast\'s "NA" North America', () => {
    assert.equal(regionCountry('lambda', 'me-west-1')?.country, 'ISR');
    assert.equal(regionCountry('vast', 'Windhoek, NA, AF')?.country, 'NAM');
    assert.equal(regionCountry('vast', 'Texas, US, NA')?.country, 'USA');
    assert.deepEqual(regionCountry('cudo', 'se-stockholm-1'), { country: 'SWE', source: 'code' });
    assert.deepEqual(regionCountry('verda', 'FIN-01'), { country: 'FIN', source: 'code' });
    assert.deepEqual(regionCountry('verda', 'ICE-01'), { country: 'ISL', source: 'table' });
    assert.deepEqual(regionCountry('fluidstack', 'NORWAY'), { country: 'NOR', source: 'name' });
    assert.deepEqual(regionCountry('lambda', 'australia-east-1'), { country: 'AUS', source: 'name' });
    assert.deepEqual(regionCountry('lambda', 'us-south-3'), { country: 'USA', source: 'table' });
    assert.deepEqual(regionCountry('someone', 'DE'), { country: 'DEU', source: 'code' });
    assert.equal(regionCountry('someone', 'us-east-1'), undefined, 'no guessing for unknown providers');
    assert.equal(regionCountry('lambda', ''), undefined);
  });
});

describe('SkyPilot → local cloud catalog', () => {
  it('a valid local catalog: every region with a country, every GPU type with prices from the catalog', () => {
    const { catalog: input, skipped } = skypilotToLocalCatalog(CATALOG);
    const local = parseCatalog(input, 'converted');
    assert.ok(local.regions.length >= 60, `${local.regions.length} regions`);
    assert.ok(local.instanceTypes.length >= 200, `${local.instanceTypes.length} types`);
    for (const r of local.regions) assert.ok(isAlpha3(r.country));
    assert.ok(local.instanceTypes.every((t) => t.gpu), 'GPU types only by default');
    const h100 = local.instanceTypes.find((t) => t.type === 'lambda.gpu_8x_h100_sxm5')!;
    assert.equal(h100.pricePerHour, '31.92');
    assert.deepEqual(h100.gpu, { count: 8, name: 'H100', memoryGiB: 80, networkDetails: 'SXM5', manufacturer: 'NVIDIA' });
    assert.ok('lambda-us-east-1' in h100.capacity && h100.capacity['lambda-us-east-1'] === 2);
    assert.equal(local.regions.find((r) => r.name === 'vast-texas-us-na')?.country, 'USA');
    const spot = local.instanceTypes.find((t) => t.type === 'nebius.gpu-h100-sxm_8gpu-128vcpu-1600gb')!;
    assert.equal(spot.spotPricePerHour, '10.00');
    // Every converted (type, region) price is the catalog price of that row.
    const offers = readSkypilotCatalog(CATALOG).offers.filter((o) => !o.spot);
    const regionName = new Map(local.regions.map((r) => [r.name, r.description]));
    for (const t of local.instanceTypes) {
      for (const region of Object.keys(t.capacity)) {
        const [cloud, ...loc] = regionName.get(region)!.split(' ');
        const o = offers.find((x) => x.provider === cloud && x.location === loc.join(' ') && t.type.replace(/\.p\d+$/, '') === `${cloud}.${x.type}`.replace(/[^A-Za-z0-9_.-]+/g, '_'));
        assert.ok(o, `${t.type} ${region}`);
        assert.equal(priceKey(toJSON(moneyFromDecimal(t.pricePerHour))), priceKey(o.pricePerHour), `${t.type} ${region}`);
      }
    }
    assert.ok(skipped.some((s) => /unknown memory/.test(s.reason)));
    assert.ok(skipped.some((s) => /spot price only/.test(s.reason)));
  });

  it('options: capacity, CPU-only types, clouds', () => {
    const { catalog: input } = skypilotToLocalCatalog(CATALOG, { capacity: 5, includeCpuOnly: true, clouds: ['do'] });
    const local = parseCatalog(input, 'converted');
    assert.ok(local.regions.every((r) => r.name.startsWith('do-')));
    assert.ok(local.instanceTypes.some((t) => !t.gpu));
    assert.ok(local.instanceTypes.every((t) => Object.values(t.capacity).every((c) => c === 5)));
  });
});
