/**
 * Catalogs of any size, on a real Temporal dev server with a real local cloud: a synthetic
 * 100,000-offer catalog (25,000 types in 4 regions, about 44 MB as a catalog, some 20 times
 * Temporal's 2 MB payload limit) is synced by the connection's sync loop, then changed
 * (repriced, removed and added types, one new cheapest H100) and synced again. `gpuflow catalog
 * changes` shows exactly the second sync's changes, and the first sync's 100,000 additions in full;
 * planCandidates routes from the synced catalog (not a live read) to the new cheapest offer; the
 * catalog entity's history stays small (the catalog is in the content store, by digest), and the
 * store keeps what the entity references once older catalogs are collected.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planCandidatesActivity } from '../../../src/activities/catalog.js';
import { collectOffers } from '../../../src/catalog/offers.js';
import { CatalogStoreClient } from '../../../src/catalog/sync/client.js';
import type { CatalogChange } from '../../../src/catalog/sync/diff.js';
import { catalogStoreWorkflowId } from '../../../src/catalog/sync/messages.js';
import { ensureCatalogSyncLoops, requestCatalogSync } from '../../../src/catalog/sync/loops.js';
import { SyncedCatalogs } from '../../../src/catalog/sync/syncedCatalogs.js';
import { loadConnections } from '../../../src/config/connections.js';
import type { LocalCatalogInput } from '../../../src/providers/local/daemon/catalog.js';
import { makeGenericInstanceTypeId } from '../../../src/providers/sdk/ids.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { parseWorkloadSpec } from '../../../src/workload/spec.js';
import { runGpuflow } from '../../helpers/cli.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { catalogChange, syntheticCatalog, SYNTHETIC_REGIONS } from '../../helpers/syntheticCatalog.js';

const OFFERS = 100_000;
const PAYLOAD_LIMIT = 2 * 1024 * 1024;

let env: TestEnv;
let store: CatalogStoreClient;
let registry: ProviderRegistry;
const first: LocalCatalogInput = syntheticCatalog(OFFERS, { pollMs: 3_600_000 });

/** Every payload of a fetched history, by size. */
function payloadSizes(history: unknown): number[] {
  const sizes: number[] = [];
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    if (v instanceof Uint8Array) return;
    if (Array.isArray(v)) return v.forEach(walk);
    const o = v as Record<string, unknown>;
    if (o.metadata && o.data instanceof Uint8Array) {
      sizes.push(o.data.length);
      return;
    }
    for (const x of Object.values(o)) walk(x);
  };
  walk(history);
  return sizes;
}

async function syncedPast(seq: number): Promise<number> {
  return waitFor(`a sync after ${seq}`, async () => {
    const st = await store.status('local');
    return st && st.seq > seq ? st.seq : undefined;
  }, 40_000, 200);
}

let lastMark = Date.now();
function mark(what: string): void {
  const now = Date.now();
  console.log(`# ${what}: ${now - lastMark} ms`);
  lastMark = now;
}

const ids = (types: string[]) => new Set(types.flatMap((type) => SYNTHETIC_REGIONS.map((r) => makeGenericInstanceTypeId({ location: r.name, type }))));

before(async () => {
  lastMark = Date.now();
  env = await startTestEnv({ catalog: first });
  await env.startWorker();
  registry = ProviderRegistry.fromConnections(loadConnections(env.connectionsFile));
  store = new CatalogStoreClient(env.client.temporal, env.temporal.taskQueue, { contents: env.catalogs, queryTimeoutMs: 20_000 });
});
after(async () => {
  await env?.teardown();
});

describe('a 100,000-offer catalog', () => {
  it('is synced, diffed and routed from, with the catalog outside history', async () => {
    const t0 = Date.now();
    mark('environment');
    await ensureCatalogSyncLoops(env.client.temporal, env.temporal.taskQueue, registry);
    await syncedPast(0);
    const s1 = (await store.status('local'))!;
    mark('first sync');
    const firstSyncMs = Date.now() - t0;
    assert.equal(s1.listed, OFFERS);
    assert.match(s1.digest!, /^sha256:[0-9a-f]{64}$/);
    assert.ok(s1.bytes! > 10 * PAYLOAD_LIMIT, `the catalog is ${s1.bytes} B, far over one payload`);

    // The second listing: 40 types repriced (+1 cent), 25 removed, 30 added, and one H100 below all.
    const change = catalogChange(first, { repriced: 40, removed: 25, added: 30 });
    const cheapH100 = first.instanceTypes.find((t) => t.type === change.repriced[0])!;
    assert.equal(cheapH100.gpuDescription, '1x H100 (80 GB SXM5)');
    const cheapest = { ...cheapH100, pricePerHour: '1.50' };
    const second = { ...change.catalog, instanceTypes: change.catalog.instanceTypes.map((t) => (t.type === cheapest.type ? cheapest : t)) };
    await env.admin.setCatalog(second);
    const t1 = Date.now();
    await requestCatalogSync(env.client.temporal, 'local');
    await syncedPast(s1.seq);
    const secondSyncMs = Date.now() - t1;
    mark('second sync');
    const s2 = (await store.status('local'))!;
    assert.equal(s2.listed, OFFERS - 25 * 4 + 30 * 4);
    assert.equal(s2.removed, 25 * 4);
    assert.notEqual(s2.digest, s1.digest);

    // `gpuflow catalog changes`: exactly the second sync's changes.
    const r = await runGpuflow(env.childEnv, ['catalog', 'changes', '--since', new Date(Date.parse(s2.syncedAt!) - 1).toISOString(), '--json'], 60_000);
    assert.equal(r.code, 0, r.stderr);
    const changes = (JSON.parse(r.stdout) as CatalogChange[]).filter((c) => c.seq === s2.seq);
    const of = (kind: string) => new Set(changes.filter((c) => c.kind === kind).map((c) => c.id));
    assert.deepEqual(of('added'), ids(change.added));
    assert.deepEqual(of('removed'), ids(change.removed));
    assert.deepEqual(of('changed'), ids(change.repriced));
    const cheapChange = changes.find((c) => c.id === makeGenericInstanceTypeId({ location: 'us-east', type: cheapest.type }))!;
    assert.deepEqual(cheapChange.changes, [{ field: 'on-demand price', from: `${cheapH100.pricePerHour} USD`, to: '1.50 USD' }]);
    mark('catalog changes (CLI)');
    // The first sync's 100,000 additions are there in full (read from the content store), not
    // only the ones the entity keeps inline.
    const all = await store.changesDetailed('local', { sinceMs: 0, limit: 1_000_000 });
    assert.deepEqual(all.incomplete, []);
    assert.equal(all.changes.filter((c) => c.seq === s1.seq && c.kind === 'added').length, OFFERS);

    mark('full changes');
    // Routing from the synced catalog (no live read) picks the new cheapest H100.
    const synced = new SyncedCatalogs(store);
    const collected = await collectOffers(registry, { synced });
    assert.deepEqual(collected.sources, { local: 'synced' });
    const planCandidates = planCandidatesActivity(registry, { synced });
    const plan = await planCandidates({ spec: parseWorkloadSpec({ name: 'h100', command: 'true', gpu: { classes: ['H100'] }, spot: 'never' }), blocked: [], limit: 10 });
    const expected = second.instanceTypes
      .filter((t) => t.gpuDescription === '1x H100 (80 GB SXM5)')
      .reduce((a, b) => (Number(b.pricePerHour) < Number(a.pricePerHour) ? b : a));
    assert.equal(expected.type, cheapest.type);
    assert.equal(plan.candidates[0]?.type, cheapest.type);
    assert.equal(plan.candidates[0]?.pricePerHour.amount, 150);
    assert.equal(plan.offersConsidered, s2.listed);

    mark('routing');
    // History stays small: digests and summaries, never the catalog.
    const handle = env.client.temporal.workflow.getHandle(catalogStoreWorkflowId('local'));
    const sizes = payloadSizes(await handle.fetchHistory());
    const largest = Math.max(...sizes);
    const total = sizes.reduce((a, b) => a + b, 0);
    const historyBytes = Number((await handle.describe()).raw.workflowExecutionInfo?.historySizeBytes ?? 0);
    assert.ok(largest < 256 * 1024, `largest payload ${largest} B`);
    assert.ok(historyBytes < 1024 * 1024, `entity history ${historyBytes} B`);
    assert.ok(total < historyBytes + 1, `${total} B of payloads`);

    // Bounded store: a collection keeps what the entity references (this catalog, the first
    // sync's full change list) and drops the first catalog; routing and changes still work.
    const head = (await store.head('local'))!;
    assert.ok(head.keep.includes(s2.digest!));
    const before = await env.catalogs.usage('local');
    assert.equal(before.blobs, 3, 'two catalogs and one large change list');
    const gone = await env.catalogs.collect('local', new Set(head.keep), 0);
    assert.deepEqual(gone, [s1.digest]);
    assert.equal((await env.catalogs.usage('local')).blobs, 2);
    assert.equal((await store.snapshot('local'))?.entries.length, s2.listed + s2.removed);
    // The newest 400 changes: the second sync's 380 and 20 of the first sync's full list.
    const newest = await store.changesDetailed('local', { sinceMs: 0, limit: 400 });
    assert.deepEqual([newest.changes.length, newest.incomplete], [400, []]);
    assert.equal(newest.changes.filter((c) => c.seq === s1.seq).length, 20);
    // Without its full list (deleted here by hand), the first sync shows the 500 records the entity
    // keeps inline, and says it is incomplete.
    await env.catalogs.collect('local', new Set([s2.digest!]), 0);
    const partial = await store.changesDetailed('local', { sinceMs: 0 });
    assert.deepEqual(partial.incomplete.map((x) => [x.seq, x.total, x.shown]), [[s1.seq, OFFERS, 500]]);
    assert.match(partial.incomplete[0]!.error, /not in the catalog store at .*GPUFLOW_CATALOG_DIR/);
    assert.equal(partial.changes.length, 500 + 380);

    mark('history and store');
    console.log(
      `# 100k catalog: first sync ${firstSyncMs} ms, second ${secondSyncMs} ms; catalog ${(s2.bytes! / 1e6).toFixed(1)} MB ` +
        `(${(before.bytes / 1e6).toFixed(1)} MB on disk for ${before.blobs} blobs); entity history ${historyBytes} B, largest payload ${largest} B`,
    );
  });
});
