/**
 * FluidStack wire objects → the provider contract (pure functions, exported for tests).
 *
 * - Types: one contract instance type per (region, FluidStack type), ID `<region>-noSub-<type>`;
 *   available while `/capacity` reports capacity for it; priced from the connection's price list
 *   (the API has no prices), spot where a preemptible price is stated.
 * - GPUs: `gpuModel` ("GH100_H100_SXM5_80GB") through the SDK normalizer, after dropping the
 *   die codename in front of the product name (GH100 is the H100's die, GA100 the A100's).
 * - Instances: identity from tags, status from `state` (see {@link fluidstackStatus}).
 */
import { bytes } from '../sdk/bytes.js';
import { gpuType, hostArchitectureForGpu, KNOWN_GPU_MODELS, normalizeGpuName, type NormalizedGpuName } from '../sdk/gpu.js';
import { makeGenericInstanceTypeId } from '../sdk/ids.js';
import type { Gpu, Instance, InstanceStatus, InstanceType, Location, Tags } from '../sdk/types.js';
import { FLUIDSTACK_PROVIDER_ID, FLUIDSTACK_TAG_KEY, type FluidstackCapacityWire, type FluidstackInstanceTypeWire, type FluidstackInstanceWire } from './api.js';
import type { FluidstackTypePrices } from './prices.js';
import type { FluidstackRegion } from './regions.js';
import { parseQuantity } from './quantity.js';

/** Tags the adapter writes and reads back (FluidStack has no creation time field). */
export const FLUIDSTACK_TAGS = {
  refId: 'gpuflow-ref-id',
  cloudCredRefId: 'gpuflow-cloud-cred-ref-id',
  createdAt: 'gpuflow-created-at',
} as const;

/** Ubuntu images' default user; the API does not say, and the key goes to the default user. */
export const FLUIDSTACK_SSH_USER = 'ubuntu';
export const FLUIDSTACK_SSH_PORT = 22;

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
  const n = normalizeFluidstackGpuModel(t.gpuModel);
  if (!n.name) return undefined;
  return {
    count,
    memory: bytes(n.memoryGiB ?? 0, 'GiB'),
    memoryDetails: n.memoryDetails,
    networkDetails: n.networkDetails,
    manufacturer: n.manufacturer,
    name: n.name,
    type: gpuType(n.name, n.networkDetails),
  };
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

/**
 * FluidStack state → contract status. `out-of-stock` means FluidStack has no machine for the
 * instance: for a preemptible instance that is preemption (its capacity was reclaimed; interruption
 * "preempted"), otherwise the instance could not be placed. Both are `failed`, not `terminated`:
 * the record stays at FluidStack until it is deleted, and gpuflow's sweeps delete every instance
 * of a refId that is not terminated.
 */
export function fluidstackStatus(state: string, preemptible: boolean): InstanceStatus {
  switch (state) {
    case 'creating':
    case 'starting':
      return { lifecycleStatus: 'pending', messages: [] };
    case 'running':
      return { lifecycleStatus: 'running', messages: [] };
    case 'stopping':
      return { lifecycleStatus: 'stopping', messages: [] };
    case 'stopped':
      return { lifecycleStatus: 'stopped', messages: [] };
    case 'deleting':
      return { lifecycleStatus: 'terminating', messages: [] };
    case 'out-of-stock':
      return preemptible
        ? { lifecycleStatus: 'failed', messages: ['fluidstack reclaimed the preemptible instance (out-of-stock)'], interruption: 'preempted' }
        : { lifecycleStatus: 'failed', messages: ['fluidstack has no stock for this instance type (out-of-stock)'] };
    case 'error':
      return { lifecycleStatus: 'failed', messages: ['fluidstack reports an error'] };
    default:
      return { lifecycleStatus: 'pending', messages: [`unknown fluidstack state "${state}"`] };
  }
}

/** Tags as FluidStack takes them; a key it would refuse is a bad request of the caller, named here. */
export function checkFluidstackTags(tags: Tags): string[] {
  return Object.keys(tags)
    .filter((k) => !FLUIDSTACK_TAG_KEY.test(k))
    .map((k) => `tag key ${JSON.stringify(k)} must be 1-63 characters, start and end with a letter or digit, and contain only letters, digits, "-", "_" and "."`);
}

function isoOrUndefined(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

export function fluidstackInstance(w: FluidstackInstanceWire, region: string, opts: { testReplica: boolean }): Instance {
  const tags: Tags = { ...(w.tags ?? {}) };
  const ext = opts.testReplica ? w.gpuflow_replica : undefined;
  const ip = w.ip ?? '';
  return {
    name: w.name,
    refId: tags[FLUIDSTACK_TAGS.refId] || w.id,
    cloudCredRefId: tags[FLUIDSTACK_TAGS.cloudCredRefId] || 'unknown',
    createdAt: isoOrUndefined(tags[FLUIDSTACK_TAGS.createdAt]) ?? new Date(0).toISOString(),
    cloudId: w.id,
    // The API's one address ("private IP"); it is what SSH reaches (the project's network).
    publicIp: ip,
    publicDns: '',
    privateIp: ip,
    hostname: '',
    imageId: w.image,
    instanceType: w.type,
    instanceTypeId: fluidstackTypeId(region, w.type),
    sshUser: ext?.ssh_user ?? FLUIDSTACK_SSH_USER,
    sshPort: ext?.ssh_port ?? FLUIDSTACK_SSH_PORT,
    status: fluidstackStatus(w.state, w.preemptible),
    spot: w.preemptible,
    firewallRules: { ingressRules: [], egressRules: [] },
    location: region,
    subLocation: '',
    tags,
    stoppable: true,
    rebootable: false,
    isContainer: false,
    notPrivileged: ext?.not_privileged ?? false,
  };
}
