/**
 * Vast.ai offers → the contract's catalog.
 *
 * Vast sells machines, not instance types: `POST /api/v0/bundles/` returns asks, one per machine
 * listing, and an ask ID dies when the machine is rented and is replaced by a new one when it is
 * listed again. Neither ask nor machine IDs can be contract instance type IDs. The contract type is
 * the *shape* the asks have in common, `{num_gpus}x-{gpu_name}-{GiB per GPU}G` (Vast's GPU name with
 * "_" for spaces: `1x-RTX_4090-24G`, `8x-H100_SXM-80G`), in a country (Vast's geolocation filter),
 * so the ID `{country}-noSub-{type}` (`US-noSub-1x-RTX_4090-24G`) is the same on every call while
 * any such machine is listed. Create picks the cheapest matching ask at that moment.
 *
 * A type's vCPUs, memory and disk are the *least* over its asks (what any ask picked will have at
 * least); its price is the cheapest ask's `dph_total`, its spot price the cheapest `min_bid`.
 */
import { moneyFromDecimal, toJSON } from '../../money/money.js';
import { bytes } from '../sdk/bytes.js';
import { gpuType, hostArchitectureForGpu, normalizeGpuName } from '../sdk/gpu.js';
import { makeGenericInstanceTypeId } from '../sdk/ids.js';
import type { Architecture, Gpu, InstanceType, Location, Manufacturer } from '../sdk/types.js';
import { VASTAI_PROVIDER_ID, type VastOfferWire } from './api.js';
import { parseVastGeolocation } from './regions.js';

/** GPU memory in whole GiB: Vast reports MB (24564 for an RTX 4090). */
export function vramGiB(gpuRamMb: number): number {
  return Math.round(gpuRamMb / 1024);
}

export interface VastShape {
  numGpus: number;
  /** Vast's own spelling, as search filters on it ("RTX 4090"). */
  gpuName: string;
  vramGiB: number;
}

/** `{num_gpus}x-{gpu_name with "_" for " "}-{GiB}G`. */
export function vastTypeName(s: VastShape): string {
  return `${s.numGpus}x-${s.gpuName.trim().replace(/\s+/g, '_')}-${s.vramGiB}G`;
}

/** The shape back from a type name, or undefined when it is not one. */
export function splitVastType(type: string): VastShape | undefined {
  const m = /^(\d+)x-(.+)-(\d+)G$/.exec(type);
  if (!m) return undefined;
  const numGpus = Number(m[1]);
  if (!Number.isSafeInteger(numGpus) || numGpus < 1) return undefined;
  return { numGpus, gpuName: m[2]!.replace(/_/g, ' '), vramGiB: Number(m[3]) };
}

export function vastTypeId(location: string, type: string): string {
  return makeGenericInstanceTypeId({ location, type });
}

const MANUFACTURERS: Record<string, Manufacturer> = { NVIDIA: 'NVIDIA', AMD: 'AMD', INTEL: 'Intel' };

export function vastGpu(o: { gpu_name: string; num_gpus: number; gpu_ram: number; gpu_arch?: string | null | undefined }): Gpu | undefined {
  if (o.num_gpus <= 0) return undefined;
  const n = normalizeGpuName(o.gpu_name); // "RTX 4090" → RTX4090, "H100 SXM" → H100 + SXM, "A100 PCIE" → A100 + PCIe
  if (!n.name) return undefined;
  return {
    count: o.num_gpus,
    memory: bytes(vramGiB(o.gpu_ram) || n.memoryGiB || 0, 'GiB'),
    memoryDetails: n.memoryDetails,
    networkDetails: n.networkDetails,
    manufacturer: MANUFACTURERS[(o.gpu_arch ?? '').trim().toUpperCase()] ?? n.manufacturer,
    name: n.name,
    type: gpuType(n.name, n.networkDetails),
  };
}

export function vastArchitecture(cpuArch: string | null | undefined, gpuName: string): Architecture {
  const a = (cpuArch ?? '').trim().toLowerCase();
  if (a === 'arm64' || a === 'aarch64') return 'arm64';
  if (a === 'amd64' || a === 'x86_64') return 'x86_64';
  return hostArchitectureForGpu(gpuName) ?? 'x86_64';
}

/** A JSON price ($/h) as exact money: the decimal Vast wrote, never float arithmetic. */
export function priceFromNumber(n: number): ReturnType<typeof toJSON> {
  const s = String(n);
  return toJSON(moneyFromDecimal(/^\d+(\.\d+)?$/.test(s) ? s : n.toFixed(8), 'USD'));
}

interface Group {
  location: string;
  shape: VastShape;
  offers: VastOfferWire[];
}

function groupOffers(offers: readonly VastOfferWire[]): Group[] {
  const groups = new Map<string, Group>();
  for (const o of offers) {
    const geo = parseVastGeolocation(o.geolocation);
    if (!geo || o.num_gpus < 1) continue;
    const shape = { numGpus: o.num_gpus, gpuName: o.gpu_name.trim(), vramGiB: vramGiB(o.gpu_ram) };
    const key = `${geo.alpha2}\u0000${vastTypeName(shape)}`;
    const g = groups.get(key) ?? { location: geo.alpha2, shape, offers: [] };
    g.offers.push(o);
    groups.set(key, g);
  }
  return [...groups.values()];
}

const min = (xs: number[]) => Math.min(...xs);

/** One contract type per (country, shape) among the offers, sorted by ID. */
export function vastInstanceTypes(offers: readonly VastOfferWire[]): InstanceType[] {
  const out: InstanceType[] = [];
  for (const g of groupOffers(offers)) {
    const gpu = vastGpu(g.offers[0]!); // a group holds at least the offer that made it
    if (!gpu) continue;
    const type = vastTypeName(g.shape);
    const bids = g.offers.map((o) => o.min_bid).filter((b): b is number => typeof b === 'number' && b > 0);
    const archs = [...new Set(g.offers.map((o) => vastArchitecture(o.cpu_arch, gpu.name)))].sort();
    out.push({
      id: vastTypeId(g.location, type),
      location: g.location,
      availableAzs: [],
      subLocation: '',
      type,
      supportedGpus: [gpu],
      supportedStorage: [
        { count: 1, size: bytes(Math.floor(min(g.offers.map((o) => o.disk_space))), 'GB'), type: 'ssd', isEphemeral: false, isAdditionalDisk: false, isElastic: false },
      ],
      memory: bytes(Math.floor(min(g.offers.map((o) => o.cpu_ram))), 'MiB'),
      vcpu: Math.floor(min(g.offers.map((o) => o.cpu_cores_effective))),
      supportedArchitectures: archs,
      supportedUsageClasses: bids.length ? ['on-demand', 'spot'] : ['on-demand'],
      stoppable: true,
      rebootable: true,
      preemptible: bids.length > 0,
      // Vast lists only rentable asks: a shape is listed while some machine offers it.
      isAvailable: true,
      basePrice: priceFromNumber(min(g.offers.map((o) => o.dph_total))),
      ...(bids.length ? { spotPrice: priceFromNumber(min(bids)) } : {}),
      provider: VASTAI_PROVIDER_ID,
      canModifyFirewallRules: false,
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Countries with offers, by alpha-2; the description names the regions seen there. */
export function vastLocations(offers: readonly VastOfferWire[]): Location[] {
  const byCode = new Map<string, { alpha3: string; regions: Set<string> }>();
  for (const o of offers) {
    const geo = parseVastGeolocation(o.geolocation);
    if (!geo) continue;
    const e = byCode.get(geo.alpha2) ?? { alpha3: geo.alpha3, regions: new Set<string>() };
    if (geo.region) e.regions.add(geo.region);
    byCode.set(geo.alpha2, e);
  }
  return [...byCode.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, e]) => ({ name: code, description: [...e.regions].sort().join('; ') || code, available: true, priority: 0, country: e.alpha3 }));
}
