/**
 * FluidStack's catalog → the contract's InstanceType and Location (pure; instances: ./instances.ts).
 *
 * - Types: one contract instance type per (region, FluidStack type), ID `<region>-noSub-<type>`;
 *   available while `/capacity` reports capacity for it; priced from the connection's price list
 *   (the API has no prices), spot where a preemptible price is stated.
 * - GPUs: `gpuModel` ("GH100_H100_SXM5_80GB") through the SDK normalizer, after dropping the
 *   die codename in front of the product name (GH100 is the H100's die, GA100 the A100's).
 */
import { gpuFromNormalizedName, hostArchitectureForGpu, KNOWN_GPU_MODELS, normalizeGpuName, type NormalizedGpuName } from '../sdk/gpu.js';
import { makeGenericInstanceTypeId } from '../sdk/ids.js';
import type { Gpu, InstanceType, Location } from '../sdk/types.js';
import { FLUIDSTACK_PROVIDER_ID, type FluidstackCapacityWire, type FluidstackInstanceTypeWire } from './api.js';
import type { FluidstackTypePrices } from './prices.js';
import type { FluidstackRegion } from './regions.js';
import { parseQuantity } from './quantity.js';

const KNOWN_NAMES = new Set(KNOWN_GPU_MODELS.map((m) => m.name));

/** The model in a FluidStack gpuModel string, skipping a leading die codename when the rest names a known GPU. */
export function normalizeFluidstackGpuModel(gpuModel: string): NormalizedGpuName {
  const whole = normalizeGpuName(gpuModel);
  if (KNOWN_NAMES.has(whole.name)) return whole;
  const words = gpuModel.trim().split(/[\s_-]+/);
  if (words.length > 1) {
    const rest = normalizeGpuName(words.slice(1).join('_'));
    if (KNOWN_NAMES.has(rest.name)) return rest;
  }
  return whole;
}

export function fluidstackGpu(t: Pick<FluidstackInstanceTypeWire, 'gpuModel' | 'gpuCount'>): Gpu | undefined {
  const count = t.gpuCount ?? 0;
  if (count < 1 || !t.gpuModel) return undefined;
  return gpuFromNormalizedName(count, normalizeFluidstackGpuModel(t.gpuModel));
}

export function fluidstackTypeId(region: string, type: string): string {
  return makeGenericInstanceTypeId({ location: region, type });
}

/**
 * One region's types. Types without a price are left out (gpuflow cannot rank them), as are types
 * whose memory is not a quantity.
 */
export function fluidstackInstanceTypes(
  region: FluidstackRegion,
  types: readonly FluidstackInstanceTypeWire[],
  capacity: readonly FluidstackCapacityWire[],
  priceOf: (type: string) => FluidstackTypePrices | undefined,
): InstanceType[] {
  const left = new Map(capacity.map((c) => [c.name, c.capacity]));
  const out: InstanceType[] = [];
  for (const t of types) {
    const prices = priceOf(t.name);
    const memory = parseQuantity(t.memory);
    if (!prices || !memory) continue;
    const gpu = fluidstackGpu(t);
    const preemptible = prices.preemptible !== undefined;
    out.push({
      id: fluidstackTypeId(region.name, t.name),
      location: region.name,
      availableAzs: [],
      subLocation: '',
      type: t.name,
      supportedGpus: gpu ? [gpu] : [],
      supportedStorage: [],
      memory,
      vcpu: t.cpu,
      supportedArchitectures: [(gpu && hostArchitectureForGpu(gpu.name)) ?? 'x86_64'],
      supportedUsageClasses: preemptible ? ['on-demand', 'spot'] : ['on-demand'],
      stoppable: true,
      rebootable: false,
      preemptible,
      isAvailable: (left.get(t.name) ?? 0) > 0,
      basePrice: prices.onDemand,
      ...(prices.preemptible ? { spotPrice: prices.preemptible } : {}),
      provider: FLUIDSTACK_PROVIDER_ID,
      cloud: FLUIDSTACK_PROVIDER_ID,
      canModifyFirewallRules: false,
    });
  }
  return out;
}

/** A configured region; available while any type has capacity there (Brev's rule). */
export function fluidstackLocation(region: FluidstackRegion, capacity: readonly FluidstackCapacityWire[]): Location {
  return { name: region.name, description: region.description, available: capacity.some((c) => c.capacity > 0), priority: 0, country: region.country };
}
