/**
 * Compute Engine's catalog → the contract's instance types.
 *
 * - Shapes from `machineTypes.list` per zone (`guestCpus`, `memoryMb`, `accelerators`
 *   `[{guestAcceleratorType, guestAcceleratorCount}]`): accelerator-optimized machine types carry
 *   their GPUs (A3 H100, A2 A100, G2 L4); types without GPUs are left out.
 * - GPU normalization (`gcpGpu`): Compute's accelerator type names (`nvidia-h100-80gb`,
 *   `nvidia-tesla-a100`, `nvidia-a100-80gb`, `nvidia-l4`…) to the contract's model, memory and
 *   interconnect; when a machine type does not report accelerators, the family table
 *   (`a3-highgpu-8g` = 8× H100 80 GB SXM5, `a2-highgpu-Ng` = N× A100 40 GB SXM4, `a2-ultragpu-Ng`
 *   = N× A100 80 GB, `g2-standard-*` L4 ×1/2/4/8) from Google's GPU machine types page.
 * - Prices: Compute has no price API (the Cloud Billing Catalog is another service), so they come
 *   from SkyPilot's GCP catalog (`catalogs/v8/gcp/vms.csv` of skypilot-org/skypilot-catalog,
 *   header `InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice`).
 *   GCP bills an accelerator-optimized VM as its host VM (vCPUs + memory) plus its GPUs, and the
 *   catalog lists them apart: a host row (`a3-highgpu-8g`, no accelerator) and an accelerator row
 *   (no instance type, `H100`, count 8) per zone. An offer's price is their sum, on demand and spot
 *   alike (SkyPilot's `gcp_catalog.get_hourly_cost` + `get_accelerator_hourly_cost`); a zone
 *   missing either row is not offered, one missing either spot price offers no spot.
 * - One contract type per (region, zone, type): ID `<region>-<zone>-<type>`, subLocation the zone,
 *   so ZONE_RESOURCE_POOL_EXHAUSTED blocks one zone.
 */
import { parse } from 'csv-parse/sync';
import { fromJSON, moneyFromDecimal, sum as sumMoney, toJSON, type MoneyJSON } from '../../money/money.js';
import { bytes } from '../sdk/bytes.js';
import { gpuType } from '../sdk/gpu.js';
import { makeGenericInstanceTypeId } from '../sdk/ids.js';
import type { Gpu, InstanceType } from '../sdk/types.js';
import { GCP_PROVIDER_ID } from './api.js';

/** A GPU model as Compute names its accelerator type, and how SkyPilot's catalog names it. */
export interface GcpAccelerator {
  /** Compute's accelerator type (`acceleratorTypes.list` names, `guestAcceleratorType`). */
  acceleratorType: string;
  /** The contract's model name. */
  name: string;
  memoryGiB: number;
  networkDetails: string;
  /** `AcceleratorName` in SkyPilot's GCP catalog. */
  catalogName: string;
}

/** Compute accelerator types (Google's "GPU machine types" page and `acceleratorTypes.list`). */
export const GCP_ACCELERATORS: readonly GcpAccelerator[] = [
  { acceleratorType: 'nvidia-b200', name: 'B200', memoryGiB: 180, networkDetails: 'SXM6', catalogName: 'B200' },
  { acceleratorType: 'nvidia-h200-141gb', name: 'H200', memoryGiB: 141, networkDetails: 'SXM5', catalogName: 'H200' },
  { acceleratorType: 'nvidia-h100-80gb', name: 'H100', memoryGiB: 80, networkDetails: 'SXM5', catalogName: 'H100' },
  { acceleratorType: 'nvidia-h100-mega-80gb', name: 'H100', memoryGiB: 80, networkDetails: 'SXM5', catalogName: 'H100-MEGA' },
  { acceleratorType: 'nvidia-a100-80gb', name: 'A100', memoryGiB: 80, networkDetails: 'SXM4', catalogName: 'A100-80GB' },
  { acceleratorType: 'nvidia-tesla-a100', name: 'A100', memoryGiB: 40, networkDetails: 'SXM4', catalogName: 'A100' },
  { acceleratorType: 'nvidia-l4', name: 'L4', memoryGiB: 24, networkDetails: '', catalogName: 'L4' },
  { acceleratorType: 'nvidia-tesla-v100', name: 'V100', memoryGiB: 16, networkDetails: 'SXM2', catalogName: 'V100' },
  { acceleratorType: 'nvidia-tesla-t4', name: 'T4', memoryGiB: 16, networkDetails: '', catalogName: 'T4' },
];

/** GPUs of accelerator-optimized machine families, by name (for types that report no `accelerators`). */
const FAMILY_GPUS: readonly { re: RegExp; acceleratorType: string; count: (m: RegExpExecArray) => number }[] = [
  { re: /^a4-highgpu-(\d+)g$/, acceleratorType: 'nvidia-b200', count: (m) => Number(m[1]) },
  { re: /^a3-ultragpu-(\d+)g(-.*)?$/, acceleratorType: 'nvidia-h200-141gb', count: (m) => Number(m[1]) },
  { re: /^a3-megagpu-(\d+)g$/, acceleratorType: 'nvidia-h100-mega-80gb', count: (m) => Number(m[1]) },
  { re: /^a3-(?:highgpu|edgegpu)-(\d+)g(-.*)?$/, acceleratorType: 'nvidia-h100-80gb', count: (m) => Number(m[1]) },
  { re: /^a2-ultragpu-(\d+)g$/, acceleratorType: 'nvidia-a100-80gb', count: (m) => Number(m[1]) },
  { re: /^a2-(?:highgpu|megagpu)-(\d+)g$/, acceleratorType: 'nvidia-tesla-a100', count: (m) => Number(m[1]) },
  // G2: 1 L4 up to g2-standard-32, then 2, 4 and 8 (Google's G2 machine type table).
  { re: /^g2-standard-(\d+)$/, acceleratorType: 'nvidia-l4', count: (m) => ({ 24: 2, 48: 4, 96: 8 })[Number(m[1])] ?? 1 },
];

export function gcpAccelerator(acceleratorType: string): GcpAccelerator | undefined {
  return GCP_ACCELERATORS.find((a) => a.acceleratorType === acceleratorType);
}

/** The part of `MachineType` the catalog reads. */
export interface GceMachineType {
  name?: string | null;
  guestCpus?: number | null;
  memoryMb?: number | null;
  zone?: string | null;
  accelerators?: { guestAcceleratorType?: string | null; guestAcceleratorCount?: number | null }[] | null;
  deprecated?: { state?: string | null } | null;
}

/** The machine type's GPUs: `accelerators` when Compute reports them, else the family table. */
export function gcpGpu(mt: Pick<GceMachineType, 'name' | 'accelerators'>): (Gpu & { acceleratorType: string; catalogName: string }) | undefined {
  let type: string | undefined;
  let count = 0;
  const reported = (mt.accelerators ?? []).find((a) => a.guestAcceleratorType && (a.guestAcceleratorCount ?? 0) > 0);
  if (reported) {
    type = reported.guestAcceleratorType!;
    count = reported.guestAcceleratorCount!;
  } else {
    for (const f of FAMILY_GPUS) {
      const m = f.re.exec(mt.name ?? '');
      if (m) {
        type = f.acceleratorType;
        count = f.count(m);
        break;
      }
    }
  }
  const acc = type ? gcpAccelerator(type) : undefined;
  if (!acc || count < 1) return undefined;
  return {
    count,
    memory: bytes(acc.memoryGiB, 'GiB'),
    memoryDetails: '',
    networkDetails: acc.networkDetails,
    manufacturer: 'NVIDIA',
    name: acc.name,
    type: gpuType(acc.name, acc.networkDetails),
    acceleratorType: acc.acceleratorType,
    catalogName: acc.catalogName,
  };
}

/** One priced row of the catalog file: a host VM (instanceType set) or an accelerator (acceleratorName set). */
export interface GcpCatalogRow {
  instanceType: string;
  acceleratorName: string;
  acceleratorCount: number;
  region: string;
  zone: string;
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

/** Parses SkyPilot's GCP vms.csv text (by header name); rows without a region or zone are dropped. */
export function parseGcpCatalogCsv(text: string): GcpCatalogRow[] {
  const records = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true, relax_column_count: true }) as Record<string, string>[];
  const need = ['InstanceType', 'AcceleratorName', 'AcceleratorCount', 'Region', 'AvailabilityZone', 'Price', 'SpotPrice'];
  if (records.length > 0 && need.some((k) => !(k in records[0]!))) {
    throw new Error(`not a SkyPilot GCP catalog: the header must name ${need.join(', ')}`);
  }
  return records
    .filter((r) => r.Region && r.AvailabilityZone && (r.InstanceType || r.AcceleratorName))
    .map((r) => {
      const price = catalogPrice(r.Price);
      const spotPrice = catalogPrice(r.SpotPrice);
      return {
        instanceType: r.InstanceType ?? '',
        acceleratorName: r.InstanceType ? '' : (r.AcceleratorName ?? ''),
        acceleratorCount: r.InstanceType ? 0 : Math.round(Number(r.AcceleratorCount || '0')),
        region: r.Region!,
        zone: r.AvailabilityZone!,
        ...(price ? { price } : {}),
        ...(spotPrice ? { spotPrice } : {}),
      };
    });
}

function sum(a: MoneyJSON | undefined, b: MoneyJSON | undefined): MoneyJSON | undefined {
  if (!a || !b) return undefined;
  return toJSON(sumMoney([fromJSON(a), fromJSON(b)]));
}

/** Host VM + accelerators in one zone: on-demand and spot prices, from the catalog's two rows. */
export function gcpZonePrice(rows: readonly GcpCatalogRow[], machineType: string, gpu: { catalogName: string; count: number }, zone: string): { price?: MoneyJSON; spotPrice?: MoneyJSON } {
  const host = rows.find((r) => r.instanceType === machineType && r.zone === zone);
  const acc = rows.find((r) => !r.instanceType && r.acceleratorName === gpu.catalogName && r.acceleratorCount === gpu.count && r.zone === zone);
  const price = sum(host?.price, acc?.price);
  const spotPrice = sum(host?.spotPrice, acc?.spotPrice);
  return { ...(price ? { price } : {}), ...(spotPrice ? { spotPrice } : {}) };
}

/**
 * Persistent disk (balanced) for the boot disk: $0.100 per GB-month in us-central1
 * (cloud.google.com/compute/disks-image-pricing), per hour over Google's 730-hour month, rounded
 * up at 10^-8. Other regions cost somewhat more; not modelled.
 */
export const PD_BALANCED_PRICE_PER_GB_HOUR: MoneyJSON = { amount: 13699, currency: 'USD', scale: 8 };

/** Inputs for one region's types. */
export interface GcpRegionCatalogInput {
  region: string;
  /** Zones that are UP, with the machine types each lists. */
  zones: { zone: string; machineTypes: GceMachineType[] }[];
  rows: readonly GcpCatalogRow[];
}

/** One contract type per (zone, GPU machine type) the catalog prices in that zone. */
export function gcpInstanceTypes(input: GcpRegionCatalogInput): InstanceType[] {
  const out: InstanceType[] = [];
  for (const z of input.zones) {
    for (const mt of z.machineTypes) {
      const type = mt.name ?? '';
      const gpu = gcpGpu(mt);
      if (!type || !gpu || mt.deprecated?.state === 'DELETED' || mt.deprecated?.state === 'OBSOLETE') continue;
      const { price, spotPrice } = gcpZonePrice(input.rows, type, gpu, z.zone);
      if (!price) continue;
      const { acceleratorType: _a, catalogName: _c, ...contractGpu } = gpu;
      out.push({
        id: makeGenericInstanceTypeId({ location: input.region, availableAzs: [z.zone], type }),
        location: input.region,
        availableAzs: [z.zone],
        subLocation: z.zone,
        type,
        supportedGpus: [contractGpu],
        supportedStorage: [{ count: 1, size: bytes(0, 'GiB'), type: 'pd-balanced', minSize: bytes(10, 'GiB'), maxSize: bytes(65_536, 'GiB'), pricePerGbHour: PD_BALANCED_PRICE_PER_GB_HOUR, isEphemeral: false, isAdditionalDisk: false, isElastic: true }],
        memory: bytes(mt.memoryMb ?? 0, 'MiB'),
        vcpu: mt.guestCpus ?? 0,
        supportedArchitectures: ['x86_64'],
        supportedUsageClasses: spotPrice ? ['on-demand', 'spot'] : ['on-demand'],
        stoppable: true,
        rebootable: true,
        preemptible: spotPrice !== undefined,
        // Compute has no capacity listing: a zone offering the type may still say ZONE_RESOURCE_POOL_EXHAUSTED.
        isAvailable: true,
        basePrice: price,
        ...(spotPrice ? { spotPrice } : {}),
        provider: GCP_PROVIDER_ID,
        canModifyFirewallRules: false,
      });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
