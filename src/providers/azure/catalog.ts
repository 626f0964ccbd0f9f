/**
 * Azure's catalog → the contract's instance types.
 *
 * - Shapes from the Resource SKUs API (`GET /subscriptions/{id}/providers/Microsoft.Compute/skus`,
 *   `resourceType: virtualMachines`): `capabilities` vCPUs and MemoryGB, and `restrictions` (a
 *   `Location` restriction, e.g. `NotAvailableForSubscription`, makes the size unavailable there).
 * - GPU normalization (`azureGpu`): the size name says the GPU, after Azure's GPU size pages
 *   ("ND H100 v5", "NC A100 v4", "NVadsA10 v5", "ND MI300X v5", "NCasT4_v3", "NCv3"...), since the
 *   SKU API reports only a GPU count. Sizes with a fraction of a GPU (NVadsA10 v5 below NV36ads,
 *   NCads A10 v4 below NC32ads) are left out: the contract counts whole GPUs.
 * - Prices: ARM has no price API (Azure's Retail Prices API is a separate, unauthenticated
 *   service), so they come from a price file with SkyPilot's Azure catalog header
 *   (`InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,Generation`,
 *   catalogs/v*\/azure/vms.csv of skypilot-org/skypilot-catalog); data/azure/vms.csv by default
 *   (provenance in data/azure/README.md). A size without an on-demand price in a region is not offered.
 * - Offers are per region (subLocation ""): the adapter creates regional VMs (no zone pinning), so
 *   AllocationFailed blocks the region.
 */
import { parse } from 'csv-parse/sync';
import { moneyFromDecimal, toJSON, type MoneyJSON } from '../../money/money.js';
import { bytes } from '../sdk/bytes.js';
import { gpuType } from '../sdk/gpu.js';
import { makeGenericInstanceTypeId } from '../sdk/ids.js';
import type { Gpu, InstanceType, Manufacturer } from '../sdk/types.js';
import { AZURE_PROVIDER_ID } from './api.js';

interface GpuModel {
  name: string;
  memoryGiB: number;
  networkDetails: string;
  manufacturer: Manufacturer;
}

const H100_SXM: GpuModel = { name: 'H100', memoryGiB: 80, networkDetails: 'SXM5', manufacturer: 'NVIDIA' };
const H100_NVL: GpuModel = { name: 'H100', memoryGiB: 94, networkDetails: 'NVL', manufacturer: 'NVIDIA' };
const H200_SXM: GpuModel = { name: 'H200', memoryGiB: 141, networkDetails: 'SXM5', manufacturer: 'NVIDIA' };
const A100_80_SXM: GpuModel = { name: 'A100', memoryGiB: 80, networkDetails: 'SXM4', manufacturer: 'NVIDIA' };
const A100_40_SXM: GpuModel = { name: 'A100', memoryGiB: 40, networkDetails: 'SXM4', manufacturer: 'NVIDIA' };
const A100_80_PCIE: GpuModel = { name: 'A100', memoryGiB: 80, networkDetails: 'PCIe', manufacturer: 'NVIDIA' };
const A10: GpuModel = { name: 'A10', memoryGiB: 24, networkDetails: '', manufacturer: 'NVIDIA' };
const T4: GpuModel = { name: 'T4', memoryGiB: 16, networkDetails: '', manufacturer: 'NVIDIA' };
const V100_16: GpuModel = { name: 'V100', memoryGiB: 16, networkDetails: 'PCIe', manufacturer: 'NVIDIA' };
const V100_32_SXM: GpuModel = { name: 'V100', memoryGiB: 32, networkDetails: 'SXM2', manufacturer: 'NVIDIA' };
const MI300X: GpuModel = { name: 'MI300X', memoryGiB: 192, networkDetails: 'OAM', manufacturer: 'AMD' };

/** GPU sizes by name → model and whole-GPU count (Azure's GPU-accelerated VM size pages). */
const SIZE_GPUS: readonly { re: RegExp; model: GpuModel; count: (m: RegExpExecArray) => number }[] = [
  { re: /^Standard_ND96isr_H100_v5$/, model: H100_SXM, count: () => 8 },
  { re: /^Standard_ND96isr_H200_v5$/, model: H200_SXM, count: () => 8 },
  { re: /^Standard_ND96isr_MI300X_v5$/, model: MI300X, count: () => 8 },
  { re: /^Standard_NC40ads_H100_v5$/, model: H100_NVL, count: () => 1 },
  { re: /^Standard_NC80adis_H100_v5$/, model: H100_NVL, count: () => 2 },
  { re: /^Standard_ND96amsr_A100_v4$/, model: A100_80_SXM, count: () => 8 },
  { re: /^Standard_ND96asr_v4$/, model: A100_40_SXM, count: () => 8 },
  // NC A100 v4: 24 vCPUs per A100 80 GB PCIe.
  { re: /^Standard_NC(24|48|96)ads_A100_v4$/, model: A100_80_PCIE, count: (m) => Number(m[1]) / 24 },
  // NVadsA10 v5: NV36ads = 1 A10, NV72ads = 2 (smaller sizes are GPU partitions).
  { re: /^Standard_NV(36|72)ads_A10_v5$/, model: A10, count: (m) => Number(m[1]) / 36 },
  // NCads A10 v4: NC32ads = 1 A10 (NC8ads/NC16ads are partitions).
  { re: /^Standard_NC32ads_A10_v4$/, model: A10, count: () => 1 },
  // NCasT4_v3: one T4 up to NC16as, four on NC64as.
  { re: /^Standard_NC(4|8|16|64)as_T4_v3$/, model: T4, count: (m) => (m[1] === '64' ? 4 : 1) },
  // NCv3: 6 vCPUs per V100 16 GB; NDv2: 8 V100 32 GB SXM2.
  { re: /^Standard_NC(6|12|24)s_v3$/, model: V100_16, count: (m) => Number(m[1]) / 6 },
  { re: /^Standard_ND40rs_v2$/, model: V100_32_SXM, count: () => 8 },
];

/** The size's GPUs, or undefined for a size without whole GPUs (or one the table does not know). */
export function azureGpu(size: string): Gpu | undefined {
  for (const s of SIZE_GPUS) {
    const m = s.re.exec(size);
    if (!m) continue;
    const count = s.count(m);
    if (!Number.isInteger(count) || count < 1) return undefined;
    return { count, memory: bytes(s.model.memoryGiB, 'GiB'), memoryDetails: '', networkDetails: s.model.networkDetails, manufacturer: s.model.manufacturer, name: s.model.name, type: gpuType(s.model.name, s.model.networkDetails) };
  }
  return undefined;
}

/** One priced row of the price file. */
export interface AzurePriceRow {
  instanceType: string;
  region: string;
  price?: MoneyJSON;
  spotPrice?: MoneyJSON;
}

/** A positive decimal as exact money (6 decimals: catalogs carry float noise); else undefined. */
export function catalogPrice(raw: string | undefined): MoneyJSON | undefined {
  const s = (raw ?? '').trim();
  if (!/^\d+(\.\d+)?$/.test(s)) return undefined;
  const j = toJSON(moneyFromDecimal(s, 'USD', 6));
  return j.amount > 0 ? j : undefined;
}

/** Parses a price file with SkyPilot's Azure catalog header (by header name). */
export function parseAzurePriceCsv(text: string): AzurePriceRow[] {
  const records = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true, relax_column_count: true, comment: '#' }) as Record<string, string>[];
  const need = ['InstanceType', 'Region', 'Price', 'SpotPrice'];
  if (records.length > 0 && need.some((k) => !(k in records[0]!))) throw new Error(`not an Azure price catalog: the header must name ${need.join(', ')} (SkyPilot's Azure vms.csv layout)`);
  return records
    .filter((r) => r.InstanceType && r.Region)
    .map((r) => {
      const price = catalogPrice(r.Price);
      const spotPrice = catalogPrice(r.SpotPrice);
      return { instanceType: r.InstanceType!, region: r.Region!, ...(price ? { price } : {}), ...(spotPrice ? { spotPrice } : {}) };
    });
}

/** The part of a Resource SKU the catalog reads (`ResourceSku` in the Compute spec). */
export interface AzureResourceSku {
  resourceType?: string;
  name?: string;
  locations?: string[];
  capabilities?: { name?: string; value?: string }[];
  restrictions?: { type?: string; values?: string[]; reasonCode?: string }[];
}

function capability(s: AzureResourceSku, name: string): number {
  const v = Number(s.capabilities?.find((c) => c.name === name)?.value ?? NaN);
  return Number.isFinite(v) ? v : 0;
}

/**
 * Premium SSD managed disk for the OS disk: P10 (128 GiB) is $19.71 a month in eastus (Azure
 * "Managed Disks pricing"), per GiB-hour over Azure's 730-hour month, rounded up at 10^-8. Other
 * regions and tiers differ; not modelled.
 */
export const PREMIUM_SSD_PRICE_PER_GB_HOUR: MoneyJSON = { amount: 21093, currency: 'USD', scale: 8 };

/** One contract type per (region, GPU size) the price file prices there and the SKU API lists. */
export function azureInstanceTypes(input: { region: string; skus: readonly AzureResourceSku[]; prices: readonly AzurePriceRow[] }): InstanceType[] {
  const out: InstanceType[] = [];
  for (const sku of input.skus) {
    const type = sku.name ?? '';
    if (sku.resourceType !== 'virtualMachines' || !(sku.locations ?? []).some((l) => l.toLowerCase() === input.region)) continue;
    const gpu = azureGpu(type);
    const row = input.prices.find((r) => r.instanceType === type && r.region === input.region);
    if (!gpu || !row?.price) continue;
    const restricted = (sku.restrictions ?? []).some((r) => r.type === 'Location' && (r.values ?? []).some((v) => v.toLowerCase() === input.region));
    out.push({
      id: makeGenericInstanceTypeId({ location: input.region, availableAzs: [], type }),
      location: input.region,
      availableAzs: [],
      subLocation: '',
      type,
      supportedGpus: [gpu],
      supportedStorage: [{ count: 1, size: bytes(0, 'GiB'), type: 'Premium_LRS', minSize: bytes(30, 'GiB'), maxSize: bytes(4095, 'GiB'), pricePerGbHour: PREMIUM_SSD_PRICE_PER_GB_HOUR, isEphemeral: false, isAdditionalDisk: false, isElastic: true }],
      memory: bytes(capability(sku, 'MemoryGB'), 'GiB'),
      vcpu: capability(sku, 'vCPUs'),
      supportedArchitectures: ['x86_64'],
      supportedUsageClasses: row.spotPrice ? ['on-demand', 'spot'] : ['on-demand'],
      stoppable: true,
      rebootable: true,
      preemptible: row.spotPrice !== undefined,
      // A size the subscription may not use there; otherwise Azure has no capacity listing (AllocationFailed comes at create).
      isAvailable: !restricted,
      basePrice: row.price,
      ...(row.spotPrice ? { spotPrice: row.spotPrice } : {}),
      provider: AZURE_PROVIDER_ID,
      canModifyFirewallRules: false,
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
