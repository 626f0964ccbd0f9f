/**
 * A synthetic local-cloud catalog of any size, for the catalog-scale test and `npm run bench:catalog`:
 * `types` instance types over `regions` regions (every type in every region), so
 * types × regions instance-type IDs, each with an on-demand offer. Prices are spread
 * deterministically (a seeded generator, no Math.random), so two runs list the same catalog.
 * `catalogChange` gives the changed listing a second sync sees: some prices changed, some types
 * removed, some added.
 */
import type { LocalCatalogInput, LocalInstanceTypeSpec } from '../../src/providers/local/daemon/catalog.js';

const GPUS = [
  { desc: '1x H100 (80 GB SXM5)', base: 200, vcpu: 26, mem: 200 },
  { desc: '1x A100 (80 GB SXM4)', base: 120, vcpu: 30, mem: 200 },
  { desc: '1x L4 (24 GB PCIe)', base: 60, vcpu: 8, mem: 32 },
  { desc: '1x A10G (24 GB PCIe)', base: 70, vcpu: 8, mem: 32 },
  { desc: '1x L40S (48 GB PCIe)', base: 110, vcpu: 16, mem: 64 },
  { desc: '1x RTX 4090 (24 GB PCIe)', base: 40, vcpu: 16, mem: 62 },
  { desc: '2x H100 (80 GB SXM5)', base: 400, vcpu: 52, mem: 400 },
  { desc: '8x A100 (80 GB SXM4)', base: 900, vcpu: 240, mem: 1800 },
];

export const SYNTHETIC_REGIONS = [
  { name: 'us-east', description: 'Virginia, USA', country: 'USA' },
  { name: 'us-west', description: 'Oregon, USA', country: 'USA' },
  { name: 'eu-central', description: 'Frankfurt, Germany', country: 'DEU' },
  { name: 'eu-north', description: 'Helsinki, Finland', country: 'FIN' },
];

/** Park–Miller: a tiny deterministic generator. */
function seeded(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

function cents(n: number): string {
  return `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;
}

export function syntheticType(i: number, rand: () => number, regions = SYNTHETIC_REGIONS): LocalInstanceTypeSpec {
  const g = GPUS[i % GPUS.length]!;
  // Never below base + 5 cents: a test sets a type below that to make it the cheapest of its class.
  const price = g.base + 5 + Math.floor(rand() * g.base);
  return {
    type: `syn_${i}`,
    gpuDescription: g.desc,
    vcpu: g.vcpu,
    memoryGiB: g.mem,
    diskGiB: 100 + (i % 7) * 100,
    pricePerHour: cents(price),
    currency: 'USD',
    capacity: Object.fromEntries(regions.map((r) => [r.name, 4])),
  };
}

/** `offers` on-demand offers (rounded up to a whole number of types in every region). */
export function syntheticCatalog(offers: number, opts: { pollMs?: number; seed?: number } = {}): LocalCatalogInput {
  const rand = seeded(opts.seed ?? 16);
  const types = Math.ceil(offers / SYNTHETIC_REGIONS.length);
  return {
    regions: SYNTHETIC_REGIONS.map((r) => ({ ...r })),
    instanceTypes: Array.from({ length: types }, (_, i) => syntheticType(i, rand)),
    bootDelayMs: 300,
    instancePollMs: 300,
    instanceTypePollMs: opts.pollMs ?? 3_600_000,
    maxCreateRequestsPerMinute: 6000,
  };
}

export interface CatalogChangeSpec {
  /** Types whose price changes (every region of each). */
  repriced: number;
  /** Types no longer listed. */
  removed: number;
  /** New types. */
  added: number;
}

/**
 * The catalog after a change: the first `repriced` types of an index stride cost 1 cent more, the
 * last `removed` types are gone, `added` new types appear. Returns what changed, by type name.
 */
export function catalogChange(cat: LocalCatalogInput, spec: CatalogChangeSpec): { catalog: LocalCatalogInput; repriced: string[]; removed: string[]; added: string[] } {
  const n = cat.instanceTypes.length;
  const stride = Math.max(1, Math.floor(n / Math.max(1, spec.repriced)));
  const repricedIdx = new Set(Array.from({ length: spec.repriced }, (_, k) => k * stride));
  const kept = cat.instanceTypes.slice(0, n - spec.removed);
  const removed = cat.instanceTypes.slice(n - spec.removed).map((t) => t.type);
  const repriced: string[] = [];
  const types = kept.map((t, i) => {
    if (!repricedIdx.has(i)) return t;
    repriced.push(t.type);
    const [u, c] = String(t.pricePerHour).split('.');
    return { ...t, pricePerHour: cents(Number(u) * 100 + Number(c ?? 0) + 1) };
  });
  const rand = seeded(77);
  const added = Array.from({ length: spec.added }, (_, k) => ({ ...syntheticType(n + k, rand), type: `syn_new_${k}` }));
  return { catalog: { ...cat, instanceTypes: [...types, ...added] }, repriced, removed, added: added.map((t) => t.type) };
}
