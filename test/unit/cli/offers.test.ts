/** `gpuflow offers` and `gpuflow catalog seed-local` against the shared SkyPilot catalog, as a user runs them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { constraintsFromFlags, parseGpuOption } from '../../../src/cli/offers.js';
import { moneyFromDecimal, toJSON } from '../../../src/money/money.js';
import { loadCatalogFile } from '../../../src/providers/local/daemon/catalog.js';
import { isAlpha3 } from '../../../src/providers/sdk/country.js';
import { priceKey } from '../../../src/routing/rankOffers.js';
import { SKYPILOT_CATALOG_DIR } from '../../helpers/skypilotCatalog.js';

const run = promisify(execFile);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CATALOG = SKYPILOT_CATALOG_DIR;

async function gpuflow(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: REPO, timeout: 60_000, env: { ...process.env, GPUFLOW_HOME: join(tmpdir(), 'gpuflow-offers-test-none') } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

interface JsonOffer {
  provider: string;
  instanceTypeId: string;
  type: string;
  location: string;
  country: string;
  gpu: { name: string; count: number; memoryGiB: number; interconnect: string };
  spot: boolean;
  pricePerHour: string;
}

describe('gpuflow offers --catalog', () => {
  it('--gpu H100:8 --json: an array of 8x H100 offers, cheapest first, with the documented fields', async () => {
    const r = await gpuflow('offers', '--catalog', CATALOG, '--gpu', 'H100:8', '--json');
    assert.equal(r.code, 0, r.stderr);
    const offers = JSON.parse(r.stdout) as JsonOffer[];
    assert.ok(Array.isArray(offers) && offers.length >= 20, `${offers.length} offers`);
    for (const o of offers) {
      for (const k of ['provider', 'instanceTypeId', 'type', 'location', 'country', 'gpu', 'spot', 'pricePerHour'] as const) assert.ok(k in o, k);
      assert.ok(isAlpha3(o.country), o.country);
      assert.equal(o.gpu.name, 'H100');
      assert.equal(o.gpu.count, 8);
      assert.equal(typeof o.gpu.memoryGiB, 'number');
      assert.equal(typeof o.gpu.interconnect, 'string');
      assert.equal(o.spot, false, 'spot defaults to never, as in a workload spec');
      assert.match(o.pricePerHour, /^\d+\.\d{2,6}$/);
    }
    const keys = offers.map((o) => priceKey(toJSON(moneyFromDecimal(o.pricePerHour))));
    for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1]! <= keys[i]!, 'cheapest first');
    assert.deepEqual([offers[0]!.provider, offers[0]!.country, offers[0]!.pricePerHour], ['cudo', 'NOR', '15.3248']);
  });

  it('table with --spot allow --country EU --explain: spot wins when cheaper, the rest explained', async () => {
    const r = await gpuflow('offers', '--catalog', CATALOG, '--gpu', 'H100:8', '--spot', 'allow', '--country', 'EU', '--explain', '--limit', '3');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^5 of 816 offers match \(H100:8, spot allow\)/);
    assert.match(r.stdout, /#\s+PROVIDER\s+REGION\s+COUNTRY\s+INSTANCE\s+GPU\s+MEM\s+vCPU\s+RAM\s+SPOT\s+PRICE\/h/);
    assert.match(r.stdout, /1\s+nebius\s+eu-north1\s+FIN\s+gpu-h100-sxm_8gpu-128vcpu-1600gb\s+8x H100\.SXM\s+80GiB\s+128\s+1600GiB\s+spot\s+\$10\.00/);
    assert.match(r.stdout, /not chosen: 811 offer\(s\)/);
    assert.match(r.stdout, /country \(22\)\n\s+11× country USA not in \[EU\]/);
    assert.match(r.stdout, /GPU count 1 is not 8/);
  });

  it('--json --explain: { offers, rejected } grouped by constraint', async () => {
    const r = await gpuflow('offers', '--catalog', CATALOG, '--gpu', 'H100:8', '--max-price', '20', '--json', '--explain');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { offers: JsonOffer[]; matched: number; considered: number; rejected: { kind: string; count: number; reasons: { reason: string }[] }[] };
    assert.equal(out.considered, 816);
    assert.equal(out.offers.length, out.matched);
    assert.ok(out.offers.every((o) => Number(o.pricePerHour) <= 20));
    const price = out.rejected.find((k) => k.kind === 'price')!;
    assert.match(price.reasons[0]!.reason, /^price \d+\.\d{2,}\/h over max 20\.00\/h$/);
  });

  it('no match: exit 1 and the reasons; bad flags name the fix', async () => {
    const none = await gpuflow('offers', '--catalog', CATALOG, '--gpu', 'H100:8', '--country', 'BRA');
    assert.equal(none.code, 1);
    assert.match(none.stdout, /^0 of 816 offers match/);
    const bad = await gpuflow('offers', '--catalog', CATALOG, '--country', 'Europe');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /"Europe" is not an ISO 3166-1 country code/);
  });
});

describe('gpuflow catalog seed-local', () => {
  it('writes a local-cloud catalog the daemon loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-seed-'));
    try {
      const out = join(dir, 'catalog.yaml');
      const r = await gpuflow('catalog', 'seed-local', '--from', CATALOG, '--out', out, '--capacity', '3');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /wrote .*catalog\.yaml: \d+ regions, \d+ instance types/);
      const c = loadCatalogFile(out);
      assert.ok(c.regions.some((x) => x.name === 'lambda-us-east-1' && x.country === 'USA'));
      assert.ok(c.instanceTypes.every((t) => Object.values(t.capacity).every((n) => n === 3)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('offers flags', () => {
  it('parseGpuOption: models, counts and ranges', () => {
    assert.deepEqual(parseGpuOption('H100:8'), { classes: ['H100'], count: 8 });
    assert.deepEqual(parseGpuOption('H100|A100:1-8'), { classes: ['H100', 'A100'], count: { min: 1, max: 8 } });
    assert.deepEqual(parseGpuOption('A100-80GB:4+'), { classes: ['A100-80GB'], count: { min: 4, max: 64 } });
    assert.deepEqual(parseGpuOption('H100 SXM'), { classes: ['H100 SXM'] });
    assert.throws(() => parseGpuOption('H100:8-2'), /MIN <= MAX/);
  });

  it('flags become validated constraints, over a spec file when given', () => {
    const base = { region: [], country: [], provider: [], denyProvider: [], prefer: [], interconnect: [], connections: '' };
    assert.deepEqual(constraintsFromFlags(base), { gpuClasses: ['*'], gpuCount: { min: 1, max: 64 }, spot: 'never' });
    const c = constraintsFromFlags({ ...base, gpu: { classes: ['H100'] }, spot: 'allow', country: ['de', 'EU'], maxPricePerGpu: '2.5', minVcpu: '16', interconnect: ['sxm'] });
    assert.deepEqual(c.countries, ['DEU', 'EU']);
    assert.deepEqual(c.gpuCount, { min: 1, max: 64 });
    assert.deepEqual(c.gpuInterconnect, ['SXM']);
    assert.deepEqual(c.maxPricePerGpuHour, { amount: 25, currency: 'USD', scale: 1 });
    assert.equal(c.minVcpu, 16);
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-spec-'));
    try {
      const spec = join(dir, 'spec.yaml');
      writeFileSync(spec, 'name: train\ncommand: python train.py\ngpu: { classes: [A100], count: 4 }\nspot: only\nplacement: { countries: [FI] }\n');
      const s = constraintsFromFlags({ ...base, spec, country: ['SE'] });
      assert.deepEqual([s.gpuClasses, s.gpuCount, s.spot, s.countries], [['A100'], 4, 'only', ['SWE']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
