/**
 * Lambda's catalog → the contract's InstanceType and Location (pure). `GET /instance-types` gives
 * every type once with the regions that have capacity now; the contract wants one instance type per
 * (type, region), so each type is listed in every known region (shared/notes/brev-sdk-v1.md §6:
 * Brev did the same), available where Lambda says so.
 */
import { moneyFromMinor, toJSON } from '../../money/money.js';
import { bytes } from '../sdk/bytes.js';
import { hostArchitectureForGpu, parseGpuDescription } from '../sdk/gpu.js';
import { makeGenericInstanceTypeId } from '../sdk/ids.js';
import { type Gpu, type InstanceType, type Location } from '../sdk/types.js';
import { LAMBDA_PROVIDER_ID, type LambdaInstanceTypesWire, type LambdaRegionWire } from './api.js';
import { LAMBDA_REGIONS, lambdaRegion, lambdaRegionCountry } from './regions.js';

/** Every region we know (table order), then regions Lambda reports that the table lacks but whose country is known. */
function regionsOf(data: LambdaInstanceTypesWire | undefined): LambdaRegionWire[] {
  const out: LambdaRegionWire[] = LAMBDA_REGIONS.map((r) => ({ name: r.name, description: r.description }));
  const seen = new Set(out.map((r) => r.name));
  const extra: LambdaRegionWire[] = [];
  for (const item of Object.values(data ?? {})) {
    for (const r of item.regions_with_capacity_available) {
      if (seen.has(r.name) || !lambdaRegionCountry(r.name)) continue;
      seen.add(r.name);
      extra.push(r);
    }
  }
  return [...out, ...extra.sort((a, b) => a.name.localeCompare(b.name))];
}

export function lambdaLocations(data?: LambdaInstanceTypesWire): Location[] {
  return regionsOf(data).map((r) => ({
    name: r.name,
    description: lambdaRegion(r.name)?.description ?? r.description,
    available: true,
    priority: 0,
    country: lambdaRegionCountry(r.name)!,
  }));
}

/** The GPU of a Lambda type from its description ("8x Tesla V100 (16 GB)"); none for CPU types. */
export function lambdaGpu(it: { description: string; gpu_description: string; specs: { gpus: number } }): Gpu | undefined {
  if (it.specs.gpus === 0) return undefined;
  const g = parseGpuDescription(it.description) ?? parseGpuDescription(it.gpu_description);
  if (!g) return undefined;
  return /^\s*\d+\s*x/i.test(it.description) ? g : { ...g, count: it.specs.gpus };
}

/** One contract instance type per (Lambda type, region), sorted by type then region. */
export function lambdaInstanceTypes(data: LambdaInstanceTypesWire): InstanceType[] {
  const regions = regionsOf(data);
  const out: InstanceType[] = [];
  for (const name of Object.keys(data).sort()) {
    const { instance_type: it, regions_with_capacity_available: withCapacity } = data[name]!;
    const available = new Set(withCapacity.map((r) => r.name));
    const gpu = lambdaGpu(it);
    const arch = (gpu && hostArchitectureForGpu(gpu.name)) ?? 'x86_64';
    for (const region of regions) {
      out.push({
        id: makeGenericInstanceTypeId({ location: region.name, type: it.name }),
        location: region.name,
        availableAzs: [],
        subLocation: '',
        type: it.name,
        supportedGpus: gpu ? [gpu] : [],
        supportedStorage: [
          { count: 1, size: bytes(it.specs.storage_gib, 'GiB'), type: 'ssd', isEphemeral: false, isAdditionalDisk: false, isElastic: false },
        ],
        memory: bytes(it.specs.memory_gib, 'GiB'),
        vcpu: it.specs.vcpus,
        supportedArchitectures: [arch],
        supportedUsageClasses: ['on-demand'],
        stoppable: false,
        rebootable: true,
        preemptible: false,
        isAvailable: available.has(region.name),
        basePrice: toJSON(moneyFromMinor(it.price_cents_per_hour, 'USD')),
        provider: LAMBDA_PROVIDER_ID,
        cloud: LAMBDA_PROVIDER_ID,
        canModifyFirewallRules: false,
      });
    }
  }
  return out;
}
