/**
 * Nebius's GPU offers as the contract's instance types. Compute has no price API, so prices come
 * from a price table: SkyPilot's Nebius catalog (data/skypilot-catalog/nebius/vms.csv, provenance in
 * data/skypilot-catalog/MANIFEST.md), which records Nebius's published on-demand per-hour prices
 * (nebius.com/prices; in the file e.g. H100 SXM $2.95 per GPU-hour, H200 SXM $3.50, B200 $5.50)
 * and, for H100/H200, the preemptible price ($1.25, $1.45 per GPU-hour). A row is `<platform>_<preset>` (e.g. `gpu-h100-sxm_8gpu-128vcpu-1600gb`),
 * which is what Compute's `ResourcesSpec {platform, preset}` takes; the contract type keeps that
 * name. CPU-only rows are left out (gpuflow places GPU workloads).
 */
import { parse } from 'csv-parse/sync';
import { join } from 'node:path';
import { moneyFromDecimal, toJSON, type MoneyJSON } from '../../money/money.js';
import { bytes } from '../sdk/bytes.js';
import { gpuFromNormalizedName, normalizeGpuName } from '../sdk/gpu.js';
import { makeGenericInstanceTypeId } from '../sdk/ids.js';
import type { Gpu, InstanceType } from '../sdk/types.js';
import { NEBIUS_PROVIDER_ID } from './api.js';

export const DEFAULT_NEBIUS_PRICE_FILE = join(import.meta.dirname, '..', '..', '..', 'data', 'skypilot-catalog', 'nebius', 'vms.csv');

/**
 * Network SSD for the boot disk: $0.071 per GiB-month over a 730-hour month, rounded up at 10^-8.
 * An estimate (nebius.com/prices lists Network SSD per GiB-month; this figure was not re-read
 * against the page here): it only adds the boot disk to an offer's total.
 */
export const NETWORK_SSD_PRICE_PER_GIB_HOUR: MoneyJSON = { amount: 9727, currency: 'USD', scale: 8 };

export interface NebiusPriceRow {
  platform: string;
  preset: string;
  acceleratorName: string;
  gpuCount: number;
  vcpu: number;
  memoryGiB: number;
  region: string;
  price: MoneyJSON;
  /** Preemptible price; absent when Nebius offers no preemptible instance of the row. */
  spotPrice?: MoneyJSON;
}

function money(raw: string | undefined): MoneyJSON | undefined {
  const s = (raw ?? '').trim();
  if (!/^\d+(\.\d+)?$/.test(s)) return undefined;
  const j = toJSON(moneyFromDecimal(s, 'USD', 6));
  return j.amount > 0 ? j : undefined;
}

/** `gpu-h100-sxm_1gpu-16vcpu-200gb` → its platform and preset; undefined for another shape. */
export function splitNebiusType(type: string): { platform: string; preset: string } | undefined {
  const m = /^([a-z0-9-]+)_(\d+gpu-\d+vcpu-\d+gb|\d+vcpu-\d+gb)$/.exec(type);
  return m ? { platform: m[1]!, preset: m[2]! } : undefined;
}

/** Parses the price table (by header name); GPU rows with a price only. */
export function parseNebiusPriceCsv(text: string): NebiusPriceRow[] {
  const records = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  const need = ['InstanceType', 'AcceleratorName', 'AcceleratorCount', 'vCPUs', 'MemoryGiB', 'Price', 'Region', 'SpotPrice'];
  if (records.length > 0 && need.some((k) => !(k in records[0]!))) throw new Error(`not a SkyPilot Nebius catalog: the header must name ${need.join(', ')}`);
  const out: NebiusPriceRow[] = [];
  for (const r of records) {
    const parts = splitNebiusType(r.InstanceType ?? '');
    const price = money(r.Price);
    const gpuCount = Math.round(Number(r.AcceleratorCount || '0'));
    if (!parts || !price || !r.Region || !r.AcceleratorName || gpuCount < 1) continue;
    const spotPrice = money(r.SpotPrice);
    out.push({ ...parts, acceleratorName: r.AcceleratorName, gpuCount, vcpu: Number(r.vCPUs), memoryGiB: Number(r.MemoryGiB), region: r.Region, price, ...(spotPrice ? { spotPrice } : {}) });
  }
  return out;
}

/**
 * The contract's GPU of a platform: the catalog's model name with the platform's form factor
 * ("gpu-h100-sxm" → H100 SXM, 80 GiB; "gpu-l40s-a" → L40S, 48 GiB), memory from the known-model table.
 */
export function nebiusGpu(platform: string, acceleratorName: string, count: number): Gpu | undefined {
  const form = /-sxm\b/.test(platform) ? ' SXM' : /-pcie\b/.test(platform) ? ' PCIe' : '';
  return gpuFromNormalizedName(count, normalizeGpuName(`${acceleratorName}${form}`));
}

/** One contract type per (region, platform_preset) row of the price table. */
export function nebiusInstanceTypes(rows: readonly NebiusPriceRow[], regions: readonly string[]): InstanceType[] {
  const out: InstanceType[] = [];
  for (const r of rows) {
    if (!regions.includes(r.region)) continue;
    const gpu = nebiusGpu(r.platform, r.acceleratorName, r.gpuCount);
    if (!gpu) continue;
    const type = `${r.platform}_${r.preset}`;
    out.push({
      id: makeGenericInstanceTypeId({ location: r.region, availableAzs: [], type }),
      location: r.region,
      availableAzs: [],
      subLocation: '',
      type,
      supportedGpus: [gpu],
      supportedStorage: [{ count: 1, size: bytes(0, 'GiB'), type: 'network-ssd', minSize: bytes(20, 'GiB'), maxSize: bytes(8192, 'GiB'), pricePerGbHour: NETWORK_SSD_PRICE_PER_GIB_HOUR, isEphemeral: false, isAdditionalDisk: false, isElastic: true }],
      memory: bytes(r.memoryGiB, 'GiB'),
      vcpu: r.vcpu,
      supportedArchitectures: ['x86_64'],
      supportedUsageClasses: r.spotPrice ? ['on-demand', 'spot'] : ['on-demand'],
      stoppable: true,
      rebootable: false,
      preemptible: r.spotPrice !== undefined,
      // Compute has no capacity listing: a create may still fail with RESOURCE_EXHAUSTED.
      isAvailable: true,
      basePrice: r.price,
      ...(r.spotPrice ? { spotPrice: r.spotPrice } : {}),
      provider: NEBIUS_PROVIDER_ID,
      canModifyFirewallRules: false,
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
