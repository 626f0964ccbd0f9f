/**
 * EC2's catalog → the contract's instance types.
 *
 * - Shapes from DescribeInstanceTypes (vCPUs, memory, architectures, usage classes, `GpuInfo`);
 *   only GPU types are kept.
 * - On-demand prices: EC2 has no price API (the Pricing API is a separate service, us-east-1
 *   only), so they come from SkyPilot's AWS catalog (`catalogs/v8/aws/vms.csv`, header
 *   `InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch`),
 *   read by header name. It also says in which zones a type is offered; its `AvailabilityZone`
 *   holds zone IDs (`use1-az1`: names differ per account) or names, both are matched.
 * - Spot prices: DescribeSpotPriceHistory, the newest `Linux/UNIX` price per (type, zone). A zone
 *   with no spot price offers no spot for that type.
 * - One contract type per (region, zone, type): ID `<region>-<zone>-<type>` (the SDK's generic ID),
 *   subLocation the zone, so routing can block a zone after InsufficientInstanceCapacity and spot
 *   prices (which differ by zone) are each an offer.
 */
import { parse } from 'csv-parse/sync';
import { moneyFromDecimal, toJSON, type MoneyJSON } from '../../money/money.js';
import { bytes } from '../sdk/bytes.js';
import { gpuType, normalizeGpuName } from '../sdk/gpu.js';
import { makeGenericInstanceTypeId } from '../sdk/ids.js';
import type { Architecture, Gpu, InstanceType, Manufacturer } from '../sdk/types.js';
import { AWS_PROVIDER_ID } from './api.js';

/**
 * gp3 root volumes: $0.08 per GB-month (aws.amazon.com/ebs/pricing, us-east-1), per hour over
 * AWS's 730-hour month, rounded up at 10^-8. Other regions cost somewhat more; not modelled.
 */
export const GP3_PRICE_PER_GB_HOUR: MoneyJSON = { amount: 10959, currency: 'USD', scale: 8 };

/** One priced (type, region, zone) row of the catalog file. */
export interface AwsCatalogRow {
  instanceType: string;
  region: string;
  /** A zone ID or name as the file has it; '' when the row names none. */
  zone: string;
  price?: MoneyJSON;
}

/** A positive decimal as exact money (6 decimals: catalogs carry float noise); else undefined. */
export function catalogPrice(raw: string | undefined): MoneyJSON | undefined {
  const s = (raw ?? '').trim();
  if (!/^\d+(\.\d+)?$/.test(s)) return undefined;
  const j = toJSON(moneyFromDecimal(s, 'USD', 6));
  return j.amount > 0 ? j : undefined;
}

/** Parses SkyPilot's AWS vms.csv text; rows without a type or region are dropped. */
export function parseAwsCatalogCsv(text: string): AwsCatalogRow[] {
  const records = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  if (records.length > 0 && !('InstanceType' in records[0] && 'Region' in records[0] && 'Price' in records[0])) {
    throw new Error('not a SkyPilot AWS catalog: the header must name InstanceType, Region and Price (and AvailabilityZone)');
  }
  return records
    .filter((r) => r.InstanceType && r.Region)
    .map((r) => {
      const price = catalogPrice(r.Price);
      return { instanceType: r.InstanceType, region: r.Region, zone: r.AvailabilityZone ?? '', ...(price ? { price } : {}) };
    });
}

/** Interconnect of a family's GPUs, which `GpuInfo` does not carry (AWS's accelerated computing pages). */
const FAMILY_NETWORK: Readonly<Record<string, string>> = {
  p5: 'SXM5',
  p5e: 'SXM5',
  p5en: 'SXM5',
  p4d: 'SXM4',
  p4de: 'SXM4',
  p3: 'SXM2',
  p3dn: 'SXM2',
};

export function awsFamily(instanceType: string): string {
  return instanceType.split('.')[0] ?? instanceType;
}

/** The shape of DescribeInstanceTypes output the catalog reads (SDK types, narrowed). */
export interface Ec2InstanceTypeInfo {
  InstanceType?: string;
  VCpuInfo?: { DefaultVCpus?: number };
  MemoryInfo?: { SizeInMiB?: number };
  ProcessorInfo?: { SupportedArchitectures?: string[] };
  SupportedUsageClasses?: string[];
  GpuInfo?: { Gpus?: { Name?: string; Manufacturer?: string; Count?: number; MemoryInfo?: { SizeInMiB?: number } }[] };
}

const MANUFACTURERS: Record<string, Manufacturer> = { NVIDIA: 'NVIDIA', AMD: 'AMD', INTEL: 'Intel', HABANA: 'Intel' };

/** `GpuInfo.Gpus[0]` as the contract's Gpu: "H100" ×8 at 81920 MiB on p5 → 8× H100.SXM5 80 GiB. */
export function awsGpu(info: Ec2InstanceTypeInfo): Gpu | undefined {
  const g = info.GpuInfo?.Gpus?.[0];
  if (!g?.Name || !g.Count || g.Count < 1) return undefined;
  const n = normalizeGpuName(g.Name);
  if (!n.name) return undefined;
  const networkDetails = n.networkDetails || FAMILY_NETWORK[awsFamily(info.InstanceType ?? '')] || '';
  const mib = g.MemoryInfo?.SizeInMiB ?? 0;
  return {
    count: g.Count,
    // EC2 reports MiB (81920 for an H100, 22888 for an A10G): whole GiB, rounded.
    memory: bytes(mib > 0 ? Math.round(mib / 1024) : (n.memoryGiB ?? 0), 'GiB'),
    memoryDetails: n.memoryDetails,
    networkDetails,
    manufacturer: MANUFACTURERS[(g.Manufacturer ?? '').toUpperCase()] ?? n.manufacturer,
    name: n.name,
    type: gpuType(n.name, networkDetails),
  };
}

function architectures(info: Ec2InstanceTypeInfo): Architecture[] {
  const out = new Set<Architecture>();
  for (const a of info.ProcessorInfo?.SupportedArchitectures ?? []) {
    if (a === 'x86_64') out.add('x86_64');
    else if (a === 'arm64') out.add('arm64');
  }
  return out.size ? [...out].sort() : ['unknown'];
}

export interface AwsZone {
  zoneName: string;
  zoneId: string;
}

/** Inputs for one region's types. */
export interface AwsRegionCatalogInput {
  region: string;
  zones: AwsZone[];
  types: Ec2InstanceTypeInfo[];
  rows: readonly AwsCatalogRow[];
  /** Newest spot price per `${type}\u0000${zoneName}`. */
  spotPrices: ReadonlyMap<string, MoneyJSON>;
}

export function spotKey(type: string, zoneName: string): string {
  return `${type}\u0000${zoneName}`;
}

/** One contract type per (zone, GPU type) the catalog prices in that zone. */
export function awsInstanceTypes(input: AwsRegionCatalogInput): InstanceType[] {
  const out: InstanceType[] = [];
  const rows = input.rows.filter((r) => r.region === input.region && r.price);
  for (const info of input.types) {
    const type = info.InstanceType;
    const gpu = awsGpu(info);
    if (!type || !gpu) continue;
    const typeRows = rows.filter((r) => r.instanceType === type);
    if (typeRows.length === 0) continue;
    const spotClass = (info.SupportedUsageClasses ?? []).includes('spot');
    for (const z of input.zones) {
      const row = typeRows.find((r) => r.zone === z.zoneId || r.zone === z.zoneName) ?? typeRows.find((r) => r.zone === '');
      if (!row?.price) continue;
      const spot = spotClass ? input.spotPrices.get(spotKey(type, z.zoneName)) : undefined;
      out.push({
        id: makeGenericInstanceTypeId({ location: input.region, availableAzs: [z.zoneName], type }),
        location: input.region,
        availableAzs: [z.zoneName],
        subLocation: z.zoneName,
        type,
        supportedGpus: [gpu],
        // EBS-only root disk; its size is chosen at create.
        supportedStorage: [{ count: 1, size: bytes(0, 'GiB'), type: 'ebs-gp3', minSize: bytes(8, 'GiB'), maxSize: bytes(16_384, 'GiB'), pricePerGbHour: GP3_PRICE_PER_GB_HOUR, isEphemeral: false, isAdditionalDisk: false, isElastic: true }],
        memory: bytes(info.MemoryInfo?.SizeInMiB ?? 0, 'MiB'),
        vcpu: info.VCpuInfo?.DefaultVCpus ?? 0,
        supportedArchitectures: architectures(info),
        supportedUsageClasses: spot ? ['on-demand', 'spot'] : ['on-demand'],
        stoppable: true,
        rebootable: true,
        preemptible: spot !== undefined,
        // EC2 has no capacity listing: a zone that offers the type may still answer InsufficientInstanceCapacity.
        isAvailable: true,
        basePrice: row.price,
        ...(spot ? { spotPrice: spot } : {}),
        provider: AWS_PROVIDER_ID,
        canModifyFirewallRules: true,
      });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
