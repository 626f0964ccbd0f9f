/**
 * A SkyPilot catalog directory as a local-cloud catalog, so the local cloud (and the demo) can
 * route across realistic providers, regions, countries and prices.
 *
 * - Each (cloud, region) becomes a local region named `<cloud>-<slug of the region>` ("lambda-us-east-1",
 *   "vast-texas-us-na"), with the region's country and a description naming both.
 * - Each (cloud, instance type, on-demand price, spot price) becomes one local instance type named
 *   `<cloud>.<type>` ("lambda.gpu_8x_h100_sxm5"); when a type's prices differ between regions (vast),
 *   each price gets its own type ("vast.1x-H100_SXM-32-65536.p2"), so no price is invented.
 * - Capacity is small and fixed per region (default 2), the local cloud's own pacing defaults apply.
 * - Skipped, with a reason: CPU-only types (unless asked for), GPUs of unknown memory (the local
 *   cloud needs it), types without an on-demand price (the local cloud prices every type on demand).
 */
import type { LocalCatalogInput } from '../../providers/local/daemon/catalog.js';
import { priceText } from '../../routing/rankOffers.js';
import type { Offer } from '../../routing/offer.js';
import { gpuMemoryGiB } from '../../routing/gpuClass.js';
import { readSkypilotCatalog, type SkippedRow } from './reader.js';

export interface ToLocalCatalogOptions {
  /** Instances of each type that may exist at once in each region (default 2). */
  capacity?: number;
  /** Keep CPU-only types (default false: GPU types only). */
  includeCpuOnly?: boolean;
  /** Only these clouds (directory names). */
  clouds?: string[];
}

export interface LocalCatalogFromSkypilot {
  catalog: LocalCatalogInput;
  skipped: SkippedRow[];
}

type LocalType = LocalCatalogInput['instanceTypes'][number];

export function slug(s: string): string {
  const out = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return out || 'default';
}

function typeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '');
}

/** Plain decimal for the local catalog ("0.3698"): priceText without currency. */
function decimal(o: Offer['pricePerHour']): string {
  return priceText({ ...o, currency: 'USD' });
}

/** Converts offers (as read from a SkyPilot directory) into a local-cloud catalog. */
export function offersToLocalCatalog(offers: readonly Offer[], opts: ToLocalCatalogOptions = {}): LocalCatalogFromSkypilot {
  const capacity = opts.capacity ?? 2;
  const skipped: SkippedRow[] = [];
  const regions = new Map<string, LocalCatalogInput['regions'][number]>();
  // (cloud, type, region) → its on-demand and spot offer
  const rows = new Map<string, { onDemand?: Offer; spot?: Offer }>();
  for (const o of offers) {
    if (opts.clouds && !opts.clouds.includes(o.provider)) continue;
    const key = `${o.provider}\u0000${o.type}\u0000${o.location}\u0000${o.subLocation}`;
    const r = rows.get(key) ?? {};
    if (o.spot) r.spot = o;
    else r.onDemand = o;
    rows.set(key, r);
  }
  // cloud.type → price signature → regions
  const types = new Map<string, { spec: LocalType }>();
  const usedRegionNames = new Set<string>();
  for (const { onDemand, spot } of rows.values()) {
    const o = (onDemand ?? spot)!;
    const skip = (reason: string) => skipped.push({ cloud: o.provider, line: 0, instanceType: o.type, region: o.location, reason });
    if (!o.gpu && !opts.includeCpuOnly) continue;
    if (!onDemand) {
      skip('spot price only: the local cloud needs an on-demand price');
      continue;
    }
    const memGiB = o.gpu ? gpuMemoryGiB(o.gpu.memory) : 0;
    if (o.gpu && memGiB <= 0) {
      skip(`GPU ${o.gpu.name} of unknown memory`);
      continue;
    }
    const regionKey = `${o.provider}\u0000${o.location}`;
    let region = regions.get(regionKey);
    if (!region) {
      let name = slug(`${o.provider}-${o.location}`);
      for (let i = 2; usedRegionNames.has(name); i++) name = slug(`${o.provider}-${o.location}-${i}`);
      usedRegionNames.add(name);
      region = { name, description: `${o.provider} ${o.location}`, country: o.country, priority: 0 };
      regions.set(regionKey, region);
    }
    const sig = `${o.provider}\u0000${o.type}\u0000${decimal(onDemand.pricePerHour)}\u0000${spot ? decimal(spot.pricePerHour) : ''}`;
    let t = types.get(sig);
    if (!t) {
      const spec: LocalType = {
        type: typeName(`${o.provider}.${o.type}`),
        ...(o.gpu
          ? {
              gpu: {
                count: o.gpu.count,
                name: o.gpu.name,
                memoryGiB: memGiB,
                ...(o.gpu.networkDetails ? { networkDetails: o.gpu.networkDetails } : {}),
                ...(o.gpu.memoryDetails ? { memoryDetails: o.gpu.memoryDetails } : {}),
                manufacturer: o.gpu.manufacturer,
              },
            }
          : {}),
        vcpu: Math.max(1, o.vcpu),
        memoryGiB: Math.max(1, Math.round(o.memoryGiB)),
        diskGiB: Math.max(1, Math.round(o.diskGiB ?? 100)),
        pricePerHour: decimal(onDemand.pricePerHour),
        ...(spot ? { spotPricePerHour: decimal(spot.pricePerHour) } : {}),
        capacity: {},
      };
      t = { spec };
      types.set(sig, t);
    }
    t.spec.capacity[region.name] = capacity;
  }
  // Distinct names: the first price of a type keeps the plain name, others get .p2, .p3...
  const seen = new Map<string, number>();
  const instanceTypes: LocalType[] = [];
  for (const t of types.values()) {
    const n = (seen.get(t.spec.type) ?? 0) + 1;
    seen.set(t.spec.type, n);
    instanceTypes.push(n === 1 ? t.spec : { ...t.spec, type: `${t.spec.type}.p${n}` });
  }
  return {
    catalog: { regions: [...regions.values()], instanceTypes },
    skipped,
  };
}

/** Reads a SkyPilot catalog directory and converts it (see {@link offersToLocalCatalog}). */
export function skypilotToLocalCatalog(dir: string, opts: ToLocalCatalogOptions = {}): LocalCatalogFromSkypilot {
  const read = readSkypilotCatalog(dir);
  const r = offersToLocalCatalog(read.offers, opts);
  return { catalog: r.catalog, skipped: [...read.skipped, ...r.skipped] };
}
