/**
 * Offers from the fleet's discovered GPUs (pure): per host and GPU model, slices of 1, 2, 4 … GPUs
 * up to the host's count, one instance type per (region, model, slice) across hosts, available
 * while some answering host has that many of those GPUs unclaimed. Priced at the connection's
 * internal rate per GPU-hour.
 */
import { multiply, type Money, moneyFromDecimal, toJSON } from '../../money/money.js';
import { bytes } from '../sdk/bytes.js';
import { gpuFromNormalizedName, normalizeGpuName } from '../sdk/gpu.js';
import { makeGenericInstanceTypeId } from '../sdk/ids.js';
import type { Architecture, Gpu, InstanceType, Location } from '../sdk/types.js';
import { SSH_FLEET_PROVIDER_ID, type HostGpu, type HostState } from './api.js';

/** A host as the catalog sees it: its config, its last known state, whether it answered just now. */
export interface CatalogHost {
  name: string;
  region: string;
  state: HostState | undefined;
  answering: boolean;
}

export interface FleetPricing {
  pricePerGpuHour: string;
  gpuPrices?: Record<string, string> | undefined;
  currency: string;
}

/** A model on a host: its GPUs' indices and the contract's Gpu (count 1). */
export interface GpuGroup {
  key: string;
  gpu: Gpu;
  indices: number[];
}

/** The host's GPUs grouped by model (name, memory, interconnect), in index order. */
export function gpuGroups(gpus: HostGpu[]): GpuGroup[] {
  const groups = new Map<string, GpuGroup>();
  for (const g of [...gpus].sort((a, b) => a.index - b.index)) {
    const n = normalizeGpuName(g.productName);
    const memoryGiB = n.memoryGiB ?? Math.round(g.memoryMiB / 1024);
    const gpu = gpuFromNormalizedName(1, { ...n, memoryGiB, manufacturer: n.manufacturer === 'unknown' ? g.vendor : n.manufacturer });
    if (!gpu) continue;
    const key = `${gpu.name}_${memoryGiB}gb${gpu.networkDetails ? `_${gpu.networkDetails.replace(/\s+/g, '')}` : ''}`.toLowerCase();
    const group = groups.get(key) ?? { key, gpu, indices: [] };
    group.indices.push(g.index);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** Slice sizes offered for a host with `n` GPUs of a model: powers of two, and n itself. */
export function sliceSizes(n: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= n; k *= 2) out.push(k);
  if (!out.includes(n)) out.push(n);
  return out;
}

export function fleetTypeName(count: number, groupKey: string): string {
  return `${count}x_${groupKey}`;
}

/** GPUs of a group not held by a lease. */
export function freeIndices(state: HostState, group: GpuGroup): number[] {
  const held = new Set(state.leases.flatMap((l) => l.gpus));
  return group.indices.filter((i) => !held.has(i));
}

export function pricePerGpuHour(p: FleetPricing, gpuName: string): Money {
  const own = Object.entries(p.gpuPrices ?? {}).find(([k]) => k.toUpperCase() === gpuName.toUpperCase())?.[1];
  return moneyFromDecimal(own ?? p.pricePerGpuHour, p.currency);
}

function architectureOf(uname: string): Architecture {
  const m = uname.toLowerCase();
  if (m === 'x86_64' || m === 'amd64') return 'x86_64';
  if (m === 'aarch64' || m === 'arm64') return 'arm64';
  return 'unknown';
}

export function fleetInstanceTypes(hosts: CatalogHost[], pricing: FleetPricing): InstanceType[] {
  const byId = new Map<string, InstanceType>();
  for (const h of hosts) {
    if (!h.state) continue;
    const state = h.state;
    for (const group of gpuGroups(state.gpus)) {
      const free = freeIndices(state, group).length;
      // A slice's share of the host's CPUs and memory is its share of all the host's GPUs.
      const hostGpus = state.gpus.length;
      for (const count of sliceSizes(group.indices.length)) {
        const type = fleetTypeName(count, group.key);
        const id = makeGenericInstanceTypeId({ location: h.region, type });
        const vcpu = Math.floor((state.vcpu * count) / hostGpus);
        const memoryGiB = Math.floor((state.memoryKiB * count) / hostGpus / 2 ** 20);
        const available = h.answering && free >= count && state.sshd !== '';
        const seen = byId.get(id);
        if (seen) {
          // The same slice on several hosts: the smallest share is what any of them guarantees.
          seen.vcpu = Math.min(seen.vcpu, vcpu);
          seen.memory = bytes(Math.min(seen.memory.value, memoryGiB), 'GiB');
          seen.isAvailable ||= available;
          const arch = architectureOf(state.arch);
          if (!seen.supportedArchitectures.includes(arch)) seen.supportedArchitectures = [...seen.supportedArchitectures, arch].sort();
          continue;
        }
        byId.set(id, {
          id,
          location: h.region,
          availableAzs: [],
          subLocation: '',
          type,
          supportedGpus: [{ ...group.gpu, count }],
          supportedStorage: [],
          memory: bytes(memoryGiB, 'GiB'),
          vcpu,
          supportedArchitectures: [architectureOf(state.arch)],
          supportedUsageClasses: ['on-demand'],
          stoppable: false,
          rebootable: false,
          preemptible: false,
          isAvailable: available,
          basePrice: toJSON(multiply(pricePerGpuHour(pricing, group.gpu.name), count)),
          estimatedDeployTimeMs: 5_000,
          provider: SSH_FLEET_PROVIDER_ID,
          canModifyFirewallRules: false,
        });
      }
    }
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}

export function fleetLocations(hosts: { name: string; region: string; answering: boolean }[], country: string): Location[] {
  const regions = new Map<string, { hosts: number; answering: number }>();
  for (const h of hosts) {
    const r = regions.get(h.region) ?? { hosts: 0, answering: 0 };
    r.hosts += 1;
    if (h.answering) r.answering += 1;
    regions.set(h.region, r);
  }
  return [...regions].map(([name, r]) => ({
    name,
    description: `SSH fleet: ${r.answering} of ${r.hosts} host(s) answering`,
    available: r.answering > 0,
    priority: 0,
    country,
  }));
}
