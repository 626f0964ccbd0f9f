/**
 * bench:catalog: catalogs of any size. A synthetic 100,000-offer catalog (test/helpers/
 * syntheticCatalog.ts: 25,000 types in 4 regions, seeded prices) is synced, changed and synced
 * again, and routed from; next to it, the largest catalog the old payload path could carry.
 *
 *  1. In process, the sync's own work: the first sync (diff + canonical serialization + SHA-256)
 *     and its write to the catalog content store; reading it back (gunzip + digest check + parse);
 *     the second sync's diff against it (40 types repriced, 25 removed, 30 added); the offers and
 *     their index built once per catalog; routing decisions (rankOffers with the 25-candidate limit,
 *     as planCandidates) over several specs, p50/p99.
 *  2. The old path (before the content store): the first sync sent the whole diff in one Update and
 *     the entity carried the whole snapshot across continue-as-new, each one payload under
 *     Temporal's 2 MB limit: the largest number of entries of this catalog that fit, found by
 *     serializing them.
 *  3. End to end (skip with --no-e2e): a real Temporal dev server, the local cloud serving the
 *     catalog over HTTP and a worker: the sync loop's first and second sync (provider read included),
 *     `catalog changes` through the entity and the store, and the entity's history size.
 *
 *   npm run bench:catalog [-- --offers 100000 --decisions 200 --no-e2e]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CatalogContentStore } from '../src/catalog/sync/contentStore.js';
import { applyDiff, diffCatalog } from '../src/catalog/sync/diff.js';
import { normalizeListing, offersFromSnapshot, type Listing } from '../src/catalog/sync/snapshot.js';
import { prepareSync } from '../src/catalog/sync/syncRequest.js';
import { instanceTypesOf, locationsOf, parseCatalog, type LocalCatalogInput } from '../src/providers/local/daemon/catalog.js';
import type { OfferConstraints } from '../src/routing/constraints.js';
import { indexOffers, rankOffers } from '../src/routing/rankOffers.js';
import { catalogChange, syntheticCatalog } from '../test/helpers/syntheticCatalog.js';

const { values } = parseArgs({
  options: {
    offers: { type: 'string', default: '100000' },
    decisions: { type: 'string', default: '200' },
    'no-e2e': { type: 'boolean', default: false },
  },
});
const N = Number(values.offers);
const DECISIONS = Number(values.decisions);
const PAYLOAD_LIMIT = 2 * 1024 * 1024;

const fmtMs = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(0) : `${(ms / 1000).toFixed(2)} s`).replace(/^(\d+)$/, '$1 ms').replace(/^(\d+\.\d+)$/, '$1 ms');
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
/** Wall time, and this process's CPU time with it (steadier on a shared machine): "1.20 s (cpu 1.10 s)". */
class Took {
  constructor(
    readonly wallMs: number,
    readonly cpuMs: number,
  ) {}
  toString(): string {
    return `${fmtMs(this.wallMs)} (cpu ${fmtMs(this.cpuMs)})`;
  }
}
function time<T>(fn: () => T): [T, Took] {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const v = fn();
  const c = process.cpuUsage(c0);
  return [v, new Took(performance.now() - t0, (c.user + c.system) / 1000)];
}
async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, Took]> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const v = await fn();
  const c = process.cpuUsage(c0);
  return [v, new Took(performance.now() - t0, (c.user + c.system) / 1000)];
}
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function listingOf(input: LocalCatalogInput): Listing {
  const cat = parseCatalog(input, 'synthetic catalog');
  return normalizeListing(instanceTypesOf(cat, () => true), locationsOf(cat));
}

/** The second listing: repriced, removed and added types, and one H100 cheaper than all. */
function changedInput(first: LocalCatalogInput): LocalCatalogInput {
  const change = catalogChange(first, { repriced: 40, removed: 25, added: 30 });
  const cheap = change.repriced[0]!;
  return { ...change.catalog, instanceTypes: change.catalog.instanceTypes.map((t) => (t.type === cheap ? { ...t, pricePerHour: '1.50' } : t)) };
}

const lines: string[] = [];
const out = (s: string) => {
  lines.push(s);
  console.log(s);
};

// ---------------------------------------------------------------------------------------------
// 1. In process
const firstInput = syntheticCatalog(N);
const first = listingOf(firstInput);
const second = listingOf(changedInput(firstInput));
const dir = mkdtempSync(join(tmpdir(), 'gpuflow-bench-catalog-'));
const store = new CatalogContentStore(dir);
const meta = (syncedAt: string) => ({ connection: 'bench', provider: 'local', pollMs: 60_000, syncedAt });

const [p1, prepare1Ms] = time(() => prepareSync(undefined, first, meta('2026-12-04T00:00:00.000Z')));
const [, put1Ms] = await timeAsync(async () => {
  for (const b of p1.blobs) await store.put('bench', b);
});
const [back, getMs] = await timeAsync(() => store.getCatalog('bench', p1.request.catalog.digest));
const prev = { ...p1.next, entries: back.entries };
const [, diff2Ms] = time(() => diffCatalog(prev, second, '2026-12-04T01:00:00.000Z'));
const [p2, prepare2Ms] = time(() => prepareSync(prev, second, meta('2026-12-04T01:00:00.000Z')));
const [, put2Ms] = await timeAsync(async () => {
  for (const b of p2.blobs) await store.put('bench', b);
});
const [unchanged, unchangedMs] = time(() => prepareSync(p2.next, second, meta('2026-12-04T01:01:00.000Z')));
const diskBytes = (await store.usage('bench')).bytes;

const [offers, offersMs] = time(() => offersFromSnapshot({ ...p2.next, syncedAt: new Date().toISOString() }));
const [index, indexMs] = time(() => indexOffers(offers));
const loadavg = (await import('node:os')).loadavg()[0]!.toFixed(1);
const usd = (s: string) => {
  const [i, f = ''] = s.split('.');
  return { amount: Number(`${i}${f}`), currency: 'USD', scale: f.length };
};
const SPECS: { name: string; c: OfferConstraints }[] = [
  { name: 'H100:1', c: { gpuClasses: ['H100'], gpuCount: 1, spot: 'never' } },
  { name: 'H100:2 EU', c: { gpuClasses: ['H100'], gpuCount: 2, spot: 'never', countries: ['EU'] } },
  { name: 'A100:8', c: { gpuClasses: ['A100'], gpuCount: 8, spot: 'allow' } },
  { name: 'L4|A10G:1 ≤ $1/h', c: { gpuClasses: ['L4', 'A10G'], gpuCount: 1, spot: 'allow', maxPricePerHour: usd('1') } },
  { name: 'L40S:1 us-*', c: { gpuClasses: ['L40S'], gpuCount: 1, spot: 'never', regions: ['us-*'] } },
  { name: 'any GPU ≥ 80 GiB', c: { gpuClasses: ['*'], gpuCount: 1, spot: 'never', minGpuMemoryGiB: 80 } },
  { name: 'any GPU, any count', c: { gpuClasses: [], gpuCount: { min: 1, max: 64 }, spot: 'allow' } },
];
const decisionMs: number[] = [];
const decisionCpuMs: number[] = [];
const now = new Date();
let cheapest = '';
for (let i = 0; i < DECISIONS; i++) {
  const spec = SPECS[i % SPECS.length]!;
  const [r, took] = time(() => rankOffers(index, spec.c, { now, limit: 25, maxAgeMs: { bench: 180_000 } }));
  decisionMs.push(took.wallMs);
  decisionCpuMs.push(took.cpuMs);
  if (i === 0) cheapest = `${r.candidates[0]?.type} at ${r.candidates[0]?.pricePerHour.amount}/10^${r.candidates[0]?.pricePerHour.scale} USD/h`;
}
decisionMs.sort((a, b) => a - b);
decisionCpuMs.sort((a, b) => a - b);
rmSync(dir, { recursive: true, force: true });

// ---------------------------------------------------------------------------------------------
// 2. The old path's limit: the first sync's Update (the whole diff) and the entity's state carried
// across continue-as-new (the whole snapshot plus up to 2,000 change records), each one payload.
function oldPayloads(k: number): { update: number; state: number } {
  const listing = { entries: first.entries.slice(0, k), issues: [] };
  const { diff, issues } = diffCatalog(undefined, listing, '2026-12-04T00:00:00.000Z');
  const snapshot = applyDiff(undefined, diff, { ...meta('2026-12-04T00:00:00.000Z'), issues });
  const update = Buffer.byteLength(JSON.stringify({ baseSeq: 0, ...meta('2026-12-04T00:00:00.000Z'), diff, issues }));
  const changes = diff.added.slice(-2_000).map((e) => ({ at: snapshot.syncedAt, connection: 'bench', seq: 1, kind: 'added', id: e.id, what: `${e.type} in ${e.location}` }));
  const state = Buffer.byteLength(JSON.stringify({ connection: 'bench', state: { connection: 'bench', snapshot, changes, syncs: [] } }));
  return { update, state };
}
let lo = 1;
let hi = first.entries.length;
while (lo < hi) {
  const mid = Math.ceil((lo + hi) / 2);
  const p = oldPayloads(mid);
  if (Math.max(p.update, p.state) <= PAYLOAD_LIMIT) lo = mid;
  else hi = mid - 1;
}
const oldMax = lo;
const oldAt = oldPayloads(oldMax);
const oldFull = first.entries.length <= 20_000 ? oldPayloads(first.entries.length) : undefined;

out(`catalog: ${first.entries.length} entries and offers (synthetic, ${firstInput.instanceTypes.length} types × 4 regions, on-demand); ${offers.length} after the change`);
out(`  canonical catalog ${mb(p1.request.catalog.bytes)}; on disk (gzip) ${mb(diskBytes)} for ${p1.blobs.length + p2.blobs.length} blobs (2 catalogs, 1 full change list)`);
out(`  first sync in process: diff + serialize + sha256 ${prepare1Ms}, store write ${put1Ms}`);
out(`  read back from the store (gunzip + digest check + parse): ${getMs}`);
out(`  second sync (${p2.request.counts.added} added, ${p2.request.counts.removed} removed, ${p2.request.counts.changed} changed): diff ${diff2Ms}, whole prepare ${prepare2Ms}, store write ${put2Ms}`);
out(`  unchanged sync: ${unchangedMs} (no new blob: ${unchanged.blobs.length === 0})`);
out(`  Update payloads: first sync ${Buffer.byteLength(JSON.stringify(p1.request))} B (500 change records inline + the digest of all), second ${Buffer.byteLength(JSON.stringify(p2.request))} B, unchanged ${Buffer.byteLength(JSON.stringify(unchanged.request))} B`);
out(`  routing: offers ${offersMs} + index ${indexMs} once per catalog; decision p50 ${fmtMs(quantile(decisionMs, 0.5))}, p99 ${fmtMs(quantile(decisionMs, 0.99))} (cpu p50 ${fmtMs(quantile(decisionCpuMs, 0.5))}, p99 ${fmtMs(quantile(decisionCpuMs, 0.99))}) over ${DECISIONS} (${SPECS.length} specs; H100:1 -> ${cheapest})`);
out(`  (load average ${loadavg} on ${(await import('node:os')).cpus().length} cores while measuring)`);
out(`old path (whole diff in one Update, whole snapshot in the entity's state): at most ${oldMax} entries of this catalog under 2 MB (Update ${mb(oldAt.update)}, state ${mb(oldAt.state)})${oldFull ? `; all ${first.entries.length} would be ${mb(Math.max(oldFull.update, oldFull.state))}` : ''}`);

// ---------------------------------------------------------------------------------------------
// 3. End to end on a real Temporal dev server
if (!values['no-e2e']) {
  const { startTestEnv, waitFor } = await import('../test/helpers/environment.js');
  const { CatalogStoreClient } = await import('../src/catalog/sync/client.js');
  const { catalogStoreWorkflowId } = await import('../src/catalog/sync/messages.js');
  const { ensureCatalogSyncLoops, requestCatalogSync } = await import('../src/catalog/sync/loops.js');
  const { loadConnections } = await import('../src/config/connections.js');
  const { ProviderRegistry } = await import('../src/providers/registry.js');
  const env = await startTestEnv({ catalog: { ...firstInput, instanceTypePollMs: 3_600_000 } });
  try {
    await env.startWorker();
    const registry = ProviderRegistry.fromConnections(loadConnections(env.connectionsFile));
    const client = new CatalogStoreClient(env.client.temporal, env.temporal.taskQueue, { contents: env.catalogs, queryTimeoutMs: 30_000 });
    const synced = (seq: number) => waitFor(`sync ${seq + 1}`, async () => ((await client.status('local'))?.seq ?? 0) > seq, 300_000, 100);
    const [, e2eFirst] = await timeAsync(async () => {
      await ensureCatalogSyncLoops(env.client.temporal, env.temporal.taskQueue, registry);
      await synced(0);
    });
    await env.admin.setCatalog({ ...changedInput(firstInput), instanceTypePollMs: 3_600_000 });
    const [, e2eSecond] = await timeAsync(async () => {
      await requestCatalogSync(env.client.temporal, 'local');
      await synced(1);
    });
    const [ch, changesMs] = await timeAsync(() => client.changesDetailed('local', { sinceMs: 0, limit: 1_000_000 }));
    const handle = env.client.temporal.workflow.getHandle(catalogStoreWorkflowId('local'));
    const historyBytes = Number((await handle.describe()).raw.workflowExecutionInfo?.historySizeBytes ?? 0);
    out(`end to end (dev server, local cloud over HTTP, one worker): first sync ${e2eFirst}, second ${e2eSecond} (provider read of ${N} offers included; cpu is this process: worker and local cloud)`);
    out(`  (load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`);
    out(`  catalog changes, all ${ch.changes.length} records (the first sync's in full from the store): ${changesMs}; entity history after 2 syncs: ${historyBytes} B`);
  } finally {
    await env.teardown();
  }
}
