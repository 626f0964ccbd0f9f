/**
 * SkyPilot catalogs (github.com/skypilot-org/skypilot-catalog, `<cloud>/vms.csv`) as offers.
 *
 * Columns are found by header name: their order differs per cloud. What each row becomes:
 * - one on-demand offer when `Price` is a positive number, one spot offer when `SpotPrice` is
 *   (an empty SpotPrice, or vast's `0.00`, means no spot market; an absurd sentinel such as
 *   primeintellect's 99999999 is no market either);
 * - GPU from `AcceleratorName` (normalized by the provider SDK, so "H100-SXM", "A6000",
 *   "RTX-6000-Ada" compare with every other source), form factor from the accelerator, the
 *   GpuInfo name or the instance type name ("gpu_8x_h100_sxm5"), memory per GPU from `GpuInfo`
 *   (vast writes the total of all GPUs there; Lambda's and DigitalOcean's `TotalGpuMemoryInMiB`
 *   is one GPU's, so the per-GPU `SizeInMiB` is used);
 * - prices exact (dinero), rounded half-even to 6 decimals to drop float noise
 *   ("0.36979999999999996" → 0.3698);
 * - country from the region (see regions.ts); rows whose region has no known country are skipped
 *   and reported, as are rows with no instance type (GCP's separate accelerator rows) or no price.
 * Provider is the cloud (directory) name; connection is `skypilot:<cloud>`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { moneyFromDecimal, toJSON, type MoneyJSON } from '../../money/money.js';
import { bytes } from '../../providers/sdk/bytes.js';
import { gpuType, normalizeGpuName } from '../../providers/sdk/gpu.js';
import type { Gpu } from '../../providers/sdk/types.js';
import type { Offer } from '../../routing/offer.js';
import { regionCountry } from './regions.js';

export const SKYPILOT_CONNECTION_PREFIX = 'skypilot:';

/** Clouds whose GpuInfo `SizeInMiB` is the memory of all the row's GPUs together. */
const GPU_INFO_SIZE_IS_TOTAL = new Set(['vast']);

/** Prices at or above this are sentinels ("no market"), not prices. */
const SENTINEL_PRICE = 1_000_000;

/** Decimals kept from catalog prices; the rest is float noise. */
const PRICE_DECIMALS = 6;

export interface SkippedRow {
  cloud: string;
  /** 1-based line in the file (the header is line 1). */
  line: number;
  instanceType: string;
  region: string;
  reason: string;
}

export interface SkypilotCatalog {
  offers: Offer[];
  skipped: SkippedRow[];
  /** Files read, with their row counts. */
  files: { cloud: string; path: string; rows: number }[];
}

export interface ReadOptions {
  /** When the offers were seen (ISO time); default: now. */
  seenAt?: string;
}

/** A catalog price, exact: undefined for empty, zero, negative, non-numeric or sentinel values. */
export function catalogPrice(raw: string | undefined): MoneyJSON | undefined {
  const s = (raw ?? '').trim();
  if (!/^\d+(\.\d+)?$/.test(s)) return undefined;
  const j = toJSON(moneyFromDecimal(s, 'USD', PRICE_DECIMALS));
  if (j.amount <= 0) return undefined;
  // Trim trailing zeros so 0.369800 is 0.3698 (same value, shorter).
  let { amount, scale } = j;
  while (scale > 2 && amount % 10 === 0) {
    amount /= 10;
    scale--;
  }
  if (amount / 10 ** scale >= SENTINEL_PRICE) return undefined;
  return { amount, currency: 'USD', scale };
}

function num(raw: string | undefined): number | undefined {
  const s = (raw ?? '').trim();
  if (s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

interface GpuInfo {
  name?: string;
  sizeMiB?: number;
  totalMiB?: number;
}

/** GpuInfo is a Python dict repr (single quotes) or JSON, keys in either case; only three fields matter. */
function parseGpuInfo(raw: string | undefined): GpuInfo {
  if (!raw || !raw.includes('{')) return raw ? { name: raw.trim() } : {};
  const name = /['"]name['"]\s*:\s*['"]([^'"]+)['"]/i.exec(raw)?.[1];
  const size = /['"]sizeinmib['"]\s*:\s*([\d.]+)/i.exec(raw)?.[1];
  const total = /['"]totalgpumemoryinmib['"]\s*:\s*([\d.]+)/i.exec(raw)?.[1];
  return {
    ...(name ? { name } : {}),
    ...(size ? { sizeMiB: Number(size) } : {}),
    ...(total ? { totalMiB: Number(total) } : {}),
  };
}

const gpuNameCache = new Map<string, ReturnType<typeof normalizeGpuName>>();
function normalized(name: string): ReturnType<typeof normalizeGpuName> {
  let n = gpuNameCache.get(name);
  if (!n) {
    n = normalizeGpuName(name);
    gpuNameCache.set(name, n);
  }
  return n;
}

function gpuOf(cloud: string, row: Record<string, string>): Gpu | undefined {
  const acc = (row.AcceleratorName ?? '').trim();
  const count = num(row.AcceleratorCount);
  if (!acc || !count || count < 1 || !Number.isInteger(count)) return undefined;
  const n = normalized(acc);
  if (!n.name) return undefined;
  const info = parseGpuInfo(row.GpuInfo);
  const fromInfo = info.name ? normalized(info.name) : undefined;
  const fromType = normalized(row.InstanceType ?? '');
  const networkDetails = n.networkDetails || fromInfo?.networkDetails || fromType.networkDetails;
  let perGpuMiB: number | undefined;
  if (info.sizeMiB) perGpuMiB = GPU_INFO_SIZE_IS_TOTAL.has(cloud) ? info.sizeMiB / count : info.sizeMiB;
  const memory = perGpuMiB
    ? bytes(Math.round(perGpuMiB), 'MiB')
    : bytes(n.memoryGiB ?? fromInfo?.memoryGiB ?? 0, 'GiB');
  return {
    count,
    memory,
    memoryDetails: n.memoryDetails || fromInfo?.memoryDetails || '',
    networkDetails,
    manufacturer: n.manufacturer,
    name: n.name,
    type: gpuType(n.name, networkDetails),
  };
}

/** Offers from one vms.csv text. `cloud` is the provider name (the catalog's directory name). */
export function parseSkypilotCsv(text: string, cloud: string, opts: ReadOptions = {}): { offers: Offer[]; skipped: SkippedRow[]; rows: number } {
  const seenAt = opts.seenAt ?? new Date().toISOString();
  const rows = parse(text, { columns: true, skip_empty_lines: true, bom: true, trim: false, relax_column_count: true }) as Record<string, string>[];
  const offers: Offer[] = [];
  const skipped: SkippedRow[] = [];
  const connection = `${SKYPILOT_CONNECTION_PREFIX}${cloud}`;
  const countryMemo = new Map<string, string | undefined>();
  rows.forEach((row, i) => {
    const line = i + 2;
    const type = (row.InstanceType ?? '').trim();
    const region = (row.Region ?? '').trim();
    const skip = (reason: string) => skipped.push({ cloud, line, instanceType: type, region, reason });
    if (!type) return skip('no instance type (an accelerator-only row)');
    if (!region) return skip('no region');
    let country = countryMemo.get(region);
    if (!countryMemo.has(region)) {
      country = regionCountry(cloud, region)?.country;
      countryMemo.set(region, country);
    }
    if (!country) return skip(`no known country for region "${region}"`);
    const onDemand = catalogPrice(row.Price);
    const spot = catalogPrice(row.SpotPrice);
    if (!onDemand && !spot) return skip('no price');
    const zone = (row.AvailabilityZone ?? '').trim();
    const gpu = gpuOf(cloud, row);
    const disk = num(row.StorageGiB);
    const base = {
      connection,
      provider: cloud,
      instanceTypeId: `${region}-${zone || 'noSub'}-${type}`,
      type,
      location: region,
      subLocation: zone,
      country,
      locationPriority: 0,
      ...(gpu ? { gpu } : {}),
      vcpu: Math.floor(num(row.vCPUs) ?? 0),
      memoryGiB: num(row.MemoryGiB) ?? 0,
      ...(disk !== undefined ? { diskGiB: disk } : {}),
      available: true,
      seenAt,
    };
    if (onDemand) offers.push({ ...base, spot: false, pricePerHour: onDemand });
    if (spot) offers.push({ ...base, spot: true, pricePerHour: spot });
  });
  return { offers, skipped, rows: rows.length };
}

/** The vms.csv files of a SkyPilot catalog directory: `DIR/<cloud>/vms.csv`, or DIR itself being one cloud's directory. */
export function skypilotCatalogFiles(dir: string): { cloud: string; path: string }[] {
  const own = join(dir, 'vms.csv');
  if (safeIsFile(own)) return [{ cloud: dir.replace(/[/\\]+$/, '').split(/[/\\]/).pop()!, path: own }];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && safeIsFile(join(dir, e.name, 'vms.csv')))
    .map((e) => ({ cloud: e.name, path: join(dir, e.name, 'vms.csv') }))
    .sort((a, b) => (a.cloud < b.cloud ? -1 : a.cloud > b.cloud ? 1 : 0));
}

function safeIsFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Reads every `<cloud>/vms.csv` under `dir`. Throws when there is none. */
export function readSkypilotCatalog(dir: string, opts: ReadOptions = {}): SkypilotCatalog {
  const files = skypilotCatalogFiles(dir);
  if (files.length === 0) throw new Error(`no SkyPilot catalog in ${dir}: expected ${join(dir, '<cloud>', 'vms.csv')}`);
  const seenAt = opts.seenAt ?? new Date().toISOString();
  const out: SkypilotCatalog = { offers: [], skipped: [], files: [] };
  for (const f of files) {
    let parsed;
    try {
      parsed = parseSkypilotCsv(readFileSync(f.path, 'utf8'), f.cloud, { seenAt });
    } catch (e) {
      throw new Error(`cannot read SkyPilot catalog ${f.path}: ${(e as Error).message}`, { cause: e });
    }
    for (const o of parsed.offers) out.offers.push(o);
    for (const s of parsed.skipped) out.skipped.push(s);
    out.files.push({ ...f, rows: parsed.rows });
  }
  return out;
}
