/**
 * Shadeform's catalog → the contract's InstanceType and Location (pure): one instance type per
 * (underlying cloud, Shadeform type, region).
 */
import { moneyFromMinor, toJSON } from '../../money/money.js';
import { bytes } from '../sdk/bytes.js';
import { gpuType, hostArchitectureForGpu, normalizeGpuName } from '../sdk/gpu.js';
import { type Gpu, type InstanceType, type Location, type Manufacturer } from '../sdk/types.js';
import { SHADEFORM_PROVIDER_ID, type ShadeformInstanceTypeWire } from './api.js';
import { shadeformRegionCountry } from './regions.js';

/** `{cloud}_{shade_instance_type}`: the contract's instance type name. */
export function shadeformTypeName(cloud: string, shadeInstanceType: string): string {
  return `${cloud}_${shadeInstanceType}`;
}

/** `{cloud}_{shade_instance_type}_{region}`: unique across regions and stable. */
export function shadeformTypeId(cloud: string, shadeInstanceType: string, region: string): string {
  return `${shadeformTypeName(cloud, shadeInstanceType)}_${region}`;
}

/** Splits a contract type name at the first "_" (cloud names have none; shade types may). */
export function splitShadeformType(type: string): { cloud: string; shadeInstanceType: string } | undefined {
  const i = type.indexOf('_');
  if (i <= 0 || i === type.length - 1) return undefined;
  return { cloud: type.slice(0, i), shadeInstanceType: type.slice(i + 1) };
}

const INTERCONNECTS: Record<string, string> = { PCIE: 'PCIe', NVLINK: 'NVLink', NVL: 'NVL', SXM: 'SXM', SXM2: 'SXM2', SXM3: 'SXM3', SXM4: 'SXM4', SXM5: 'SXM5', SXM6: 'SXM6' };
const MANUFACTURERS: Record<string, Manufacturer> = { NVIDIA: 'NVIDIA', AMD: 'AMD', INTEL: 'Intel' };

export function shadeformGpu(c: { num_gpus: number; gpu_type: string; interconnect: string; vram_per_gpu_in_gb: number; gpu_manufacturer: string }): Gpu | undefined {
  if (c.num_gpus <= 0) return undefined;
  const n = normalizeGpuName(c.gpu_type); // "A100_80G" → A100 (80 GiB), "A6000" → RTXA6000
  if (!n.name) return undefined;
  const ic = c.interconnect.trim();
  const networkDetails = ic ? (INTERCONNECTS[ic.toUpperCase()] ?? ic) : n.networkDetails;
  return {
    count: c.num_gpus,
    memory: bytes(c.vram_per_gpu_in_gb || n.memoryGiB || 0, 'GiB'),
    memoryDetails: n.memoryDetails,
    networkDetails,
    manufacturer: MANUFACTURERS[c.gpu_manufacturer.trim().toUpperCase()] ?? n.manufacturer,
    name: n.name,
    type: gpuType(n.name, networkDetails),
  };
}

/** Shadeform's partner marketplace shows as cloud "excesssupply": that is Shadeform itself (Brev). */
function cloudLabel(cloud: string): string {
  return cloud === 'excesssupply' ? SHADEFORM_PROVIDER_ID : cloud;
}

function deployTimeMs(t: ShadeformInstanceTypeWire): number | undefined {
  const min = t.boot_time?.min_boot_in_sec ?? undefined;
  const max = t.boot_time?.max_boot_in_sec ?? undefined;
  if (min !== undefined && max !== undefined) return Math.round(((min + max) / 2) * 1000);
  const one = min ?? max;
  return one !== undefined ? one * 1000 : undefined;
}

/** One contract instance type per (Shadeform type, region); regions with no known country are left out. */
export function shadeformInstanceTypes(types: ShadeformInstanceTypeWire[]): InstanceType[] {
  const out: InstanceType[] = [];
  for (const t of types) {
    const gpu = shadeformGpu(t.configuration);
    const arch = (gpu && hostArchitectureForGpu(gpu.name)) ?? 'x86_64';
    const deploy = deployTimeMs(t);
    for (const a of t.availability) {
      if (!shadeformRegionCountry(a.region, a.display_name)) continue;
      out.push({
        id: shadeformTypeId(t.cloud, t.shade_instance_type, a.region),
        location: a.region,
        availableAzs: [],
        subLocation: '',
        type: shadeformTypeName(t.cloud, t.shade_instance_type),
        supportedGpus: gpu ? [gpu] : [],
        supportedStorage: [
          { count: 1, size: bytes(t.configuration.storage_in_gb, 'GB'), type: 'ssd', isEphemeral: false, isAdditionalDisk: false, isElastic: false },
        ],
        memory: bytes(t.configuration.memory_in_gb, 'GiB'),
        vcpu: t.configuration.vcpus,
        supportedArchitectures: [arch],
        supportedUsageClasses: ['on-demand'],
        stoppable: false,
        rebootable: true,
        preemptible: false,
        isAvailable: a.available,
        basePrice: toJSON(moneyFromMinor(t.hourly_price, 'USD')),
        ...(deploy !== undefined ? { estimatedDeployTimeMs: deploy } : {}),
        provider: SHADEFORM_PROVIDER_ID,
        cloud: cloudLabel(t.cloud),
        canModifyFirewallRules: false,
      });
    }
  }
  return out;
}

/** Regions from the catalog's availability lists; a region is available if any type is available there. */
export function shadeformLocations(types: ShadeformInstanceTypeWire[]): Location[] {
  const byName = new Map<string, Location>();
  for (const t of types) {
    for (const a of t.availability) {
      const country = shadeformRegionCountry(a.region, a.display_name);
      if (!country) continue;
      const seen = byName.get(a.region);
      if (seen) seen.available ||= a.available;
      else byName.set(a.region, { name: a.region, description: a.display_name, available: a.available, priority: 0, country });
    }
  }
  return [...byName.values()].sort((x, y) => x.name.localeCompare(y.name));
}
