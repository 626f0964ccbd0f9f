/**
 * RunPod's catalog as the contract's instance types and locations (pure functions).
 *
 * RunPod rents GPUs, not machine types: a pod is (GPU type, GPU count) in a data center. Each
 * (GPU type, count, data center) where the data center offers the GPU is one contract type:
 *
 * - type `{count}x_{gpuTypeId with spaces as _}`, e.g. `1x_NVIDIA_GeForce_RTX_4090` (reversible:
 *   RunPod's GPU type IDs contain no `_`; one that did would be left out rather than mangled);
 * - ID `{type}_{dataCenterId}`, e.g. `1x_NVIDIA_GeForce_RTX_4090_US-TX-3`;
 * - counts 1, 2, 4, 8 up to the type's `maxGpuCount`;
 * - prices per GPU (`securePrice`, and the spot floor `lowestPrice.minimumBidPrice`) × count;
 * - availability from the data center's stock status for that GPU type (High/Medium/Low);
 * - vCPUs and RAM: the minimum RunPod guarantees per GPU (`minVcpu`, `minMemory`) × count.
 */
import { moneyFromDecimal, multiply, toJSON, type Money } from '../../money/money.js';
import { bytes } from '../sdk/bytes.js';
import { gpuType, hostArchitectureForGpu, normalizeGpuName } from '../sdk/gpu.js';
import type { Gpu, InstanceType, Location, Manufacturer } from '../sdk/types.js';
import { RUNPOD_PROVIDER_ID, type RunPodCatalogData, type RunPodDataCenterWire, type RunPodGpuTypeWire } from './api.js';
import { runpodDataCenterCountry } from './dataCenters.js';

/** Container disk the adapter asks for when the create names no size (RunPod's templates default to 50 GB too). */
export const RUNPOD_DEFAULT_CONTAINER_DISK_GB = 50;
const GPU_COUNTS = [1, 2, 4, 8] as const;
const IN_STOCK = new Set(['high', 'medium', 'low']);

export function runpodTypeName(gpuTypeId: string, gpuCount: number): string {
  return `${gpuCount}x_${gpuTypeId.replace(/ /g, '_')}`;
}

export function runpodTypeId(type: string, dataCenterId: string): string {
  return `${type}_${dataCenterId}`;
}

/** The GPU type and count of a contract type name, or undefined if it is not one of ours. */
export function splitRunPodType(type: string): { gpuTypeId: string; gpuCount: number } | undefined {
  const m = /^([1-9]\d*)x_(.+)$/.exec(type);
  if (!m) return undefined;
  return { gpuCount: Number(m[1]), gpuTypeId: m[2]!.replace(/_/g, ' ') };
}

/** A RunPod price (a JSON float such as 0.69) as exact money, rounded half-even at 10^-8. */
export function runpodPrice(perGpu: number, count = 1): Money {
  const s = String(perGpu);
  return multiply(moneyFromDecimal(/e/i.test(s) ? perGpu.toFixed(8) : s), count);
}

const MANUFACTURERS: Record<string, Manufacturer> = { NVIDIA: 'NVIDIA', AMD: 'AMD', INTEL: 'Intel' };

/** RunPod's GPU type as the contract's GPU: the ID names the model ("NVIDIA H100 80GB HBM3"), the display name may add the form ("H100 SXM"). */
export function runpodGpu(t: Pick<RunPodGpuTypeWire, 'id' | 'displayName' | 'memoryInGb' | 'manufacturer'>, count: number): Gpu | undefined {
  const byId = normalizeGpuName(t.id);
  if (!byId.name) return undefined;
  const networkDetails = byId.networkDetails || normalizeGpuName(t.displayName).networkDetails;
  return {
    count,
    memory: bytes(t.memoryInGb || byId.memoryGiB || 0, 'GiB'),
    memoryDetails: byId.memoryDetails,
    networkDetails,
    manufacturer: MANUFACTURERS[(t.manufacturer ?? '').trim().toUpperCase()] ?? byId.manufacturer,
    name: byId.name,
    type: gpuType(byId.name, networkDetails),
  };
}

function inStock(stockStatus: string | null | undefined, available: boolean | null | undefined): boolean {
  return available !== false && IN_STOCK.has((stockStatus ?? '').toLowerCase());
}

function listedDataCenters(data: RunPodCatalogData): { dc: RunPodDataCenterWire; country: string }[] {
  const out: { dc: RunPodDataCenterWire; country: string }[] = [];
  for (const dc of data.dataCenters) {
    if (dc.listed === false) continue;
    const country = runpodDataCenterCountry(dc.id, dc.location);
    if (country) out.push({ dc, country });
  }
  return out;
}

/** Every (GPU type, count, data center) RunPod's Secure Cloud offers, priced. */
export function runpodInstanceTypes(data: RunPodCatalogData): InstanceType[] {
  const byId = new Map(data.gpuTypes.map((g) => [g.id, g]));
  const out: InstanceType[] = [];
  for (const { dc } of listedDataCenters(data)) {
    for (const a of dc.gpuAvailability ?? []) {
      const g = byId.get(a.gpuTypeId);
      if (!g || g.id.includes('_') || g.secureCloud === false || !g.securePrice) continue;
      const bid = g.lowestPrice?.minimumBidPrice || g.secureSpotPrice || 0;
      const available = inStock(a.stockStatus, a.available);
      for (const count of GPU_COUNTS.filter((n) => n <= (g.maxGpuCount ?? 1))) {
        const gpu = runpodGpu(g, count);
        if (!gpu) continue;
        const type = runpodTypeName(g.id, count);
        out.push({
          id: runpodTypeId(type, dc.id),
          location: dc.id,
          availableAzs: [],
          subLocation: '',
          type,
          supportedGpus: [gpu],
          supportedStorage: [
            { count: 1, size: bytes(RUNPOD_DEFAULT_CONTAINER_DISK_GB, 'GB'), type: 'container-disk', isEphemeral: true, isAdditionalDisk: false, isElastic: false },
          ],
          memory: bytes((g.lowestPrice?.minMemory ?? 0) * count, 'GiB'),
          vcpu: (g.lowestPrice?.minVcpu ?? 0) * count,
          supportedArchitectures: [hostArchitectureForGpu(gpu.name) ?? 'x86_64'],
          supportedUsageClasses: bid > 0 ? ['on-demand', 'spot'] : ['on-demand'],
          stoppable: false,
          rebootable: false,
          preemptible: bid > 0,
          isAvailable: available,
          basePrice: toJSON(runpodPrice(g.securePrice, count)),
          ...(bid > 0 ? { spotPrice: toJSON(runpodPrice(bid, count)) } : {}),
          provider: RUNPOD_PROVIDER_ID,
          cloud: 'secure',
          canModifyFirewallRules: false,
        });
      }
    }
  }
  return out;
}

/** Data centers with a known country; one is available while any GPU type is in stock there. */
export function runpodLocations(data: RunPodCatalogData): Location[] {
  return listedDataCenters(data)
    .map(({ dc, country }) => ({
      name: dc.id,
      description: dc.name || dc.id,
      available: (dc.gpuAvailability ?? []).some((a) => inStock(a.stockStatus, a.available)),
      priority: 0,
      country,
    }))
    .sort((x, y) => x.name.localeCompare(y.name));
}
