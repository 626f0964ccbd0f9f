/**
 * Catalog sync on a real Temporal dev server with a real local cloud: the worker-start step starts
 * one sync loop per connection (idempotently), the loop syncs at the provider's poll time in one
 * execution (not one per poll, so nothing piles up in the Web UI),
 * and the local cloud's admin API changes the catalog under it (a price, a removed type, an added
 * type, a duplicated ID). The changes show in `gpuflow catalog changes` and `catalog status`, and in
 * routing: planCandidates (the workload's own planning activity) and a real workload never choose
 * a removed type, a synced catalog is used while fresh, and a stale one is not.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { planCandidatesActivity } from '../../../src/activities/catalog.js';
import { CatalogStoreClient } from '../../../src/catalog/sync/client.js';
import type { CatalogChange } from '../../../src/catalog/sync/diff.js';
import { catalogSyncLoopWorkflowId } from '../../../src/catalog/sync/loopMessages.js';
import { catalogSyncLoopState, configureCatalogSync, ensureCatalogSyncLoops, legacyCatalogScheduleId } from '../../../src/catalog/sync/loops.js';
import { SyncedCatalogs } from '../../../src/catalog/sync/syncedCatalogs.js';
import type { CatalogStatusView } from '../../../src/cli/catalog.js';
import { loadConnections } from '../../../src/config/connections.js';
import type { LocalCatalogInput } from '../../../src/providers/local/daemon/catalog.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { parseWorkloadSpec } from '../../../src/workload/spec.js';
import { runGpuflow, type CliResult } from '../../helpers/cli.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { TEST_CATALOG } from '../../helpers/testCatalog.js';
import { resolveTemporalCli } from '../../../src/temporal/resolveCli.js';

const POLL_MS = 2_000;
const CATALOG: LocalCatalogInput = { ...TEST_CATALOG, instanceTypePollMs: POLL_MS };

let env: TestEnv;
let registry: ProviderRegistry;
let store: CatalogStoreClient;
let planCandidates: ReturnType<typeof planCandidatesActivity>;

function gpuflow(...args: string[]): Promise<CliResult> {
  return runGpuflow(env.childEnv, args, 60_000);
}

async function plan(gpu: string) {
  return planCandidates({ spec: parseWorkloadSpec({ name: 'plan', command: 'true', gpu: { classes: [gpu] }, spot: 'never' }), blocked: [], limit: 25 });
}

/** `temporal workflow count`, as an operator would check the Web UI's list. */
async function runTemporalCount(query: string): Promise<number> {
  const { stdout } = await promisify(execFile)(resolveTemporalCli()!, ['workflow', 'count', '--query', query, '--address', env.server.address, '--namespace', env.server.namespace, '--output', 'json']);
  return Number((JSON.parse(stdout) as { count?: string | number }).count ?? 0);
}

async function syncedPast(seq: number): Promise<number> {
  return waitFor(`a sync after ${seq}`, async () => {
    const st = await store.status('local');
    return st && st.seq > seq ? st.seq : undefined;
  }, 20_000, 100);
}

before(async () => {
  env = await startTestEnv({ catalog: CATALOG });
  await env.startWorker();
  registry = ProviderRegistry.fromConnections(loadConnections(env.connectionsFile));
  store = new CatalogStoreClient(env.client.temporal, env.temporal.taskQueue, { contents: env.catalogs });
  planCandidates = planCandidatesActivity(registry, { synced: new SyncedCatalogs(store) });
});
after(async () => {
  await env?.teardown();
});

describe('catalog sync', () => {
  it('worker start starts one sync loop per connection, idempotently; after many polls it is still one execution', async () => {
    // A Schedule of the old design is removed on the way, so its per-poll runs stop.
    await env.client.temporal.schedule.create({
      scheduleId: legacyCatalogScheduleId('local'),
      spec: { intervals: [{ every: 3_600_000 }] },
      action: { type: 'startWorkflow', workflowType: 'catalogSyncWorkflow', args: [{ connection: 'local' }], taskQueue: env.temporal.taskQueue },
      state: { paused: true },
    });
    const first = await ensureCatalogSyncLoops(env.client.temporal, env.temporal.taskQueue, registry);
    assert.deepEqual(first.map((s) => [s.connection, s.outcome, s.everyMs]), [['local', 'created', POLL_MS]]);
    await assert.rejects(env.client.temporal.schedule.getHandle(legacyCatalogScheduleId('local')).describe(), { name: 'ScheduleNotFoundError' });
    const again = await ensureCatalogSyncLoops(env.client.temporal, env.temporal.taskQueue, registry);
    assert.deepEqual(again.map((s) => s.outcome), ['unchanged']);
    const startedAt = Date.now();
    // It syncs on its own, more than once: let 4 poll intervals pass.
    const seq = await syncedPast(4);
    assert.ok(Date.now() - startedAt >= 3 * POLL_MS - 500, 'the syncs were spaced by the poll time');
    const st = (await store.status('local'))!;
    assert.ok(seq >= 5);
    assert.equal(st.provider, 'local');
    assert.equal(st.pollMs, POLL_MS);
    assert.equal(st.listed, 5);
    assert.deepEqual(st.issues, []);

    // One sync execution for the connection after those polls (and the entity), not one per poll.
    const ids: string[] = [];
    for await (const w of env.client.temporal.workflow.list({ query: `WorkflowType IN ('catalogSyncWorkflow', 'catalogSyncLoopWorkflow')` })) ids.push(`${w.workflowId} ${w.status.name}`);
    assert.deepEqual(ids, [`${catalogSyncLoopWorkflowId('local')} RUNNING`]);
    const cli = await runTemporalCount(`WorkflowType = 'catalogSyncLoopWorkflow'`);
    assert.equal(cli, 1);
    assert.ok((await catalogSyncLoopState(env.client.temporal, 'local')).syncs >= 5);

    // The provider's poll time changes: the next worker start reconfigures the loop, keeping it.
    const cat = await env.admin.getCatalog();
    await env.admin.setCatalog({ ...cat, instanceTypePollMs: 4_000 });
    const fresh = () => ProviderRegistry.fromConnections(loadConnections(env.connectionsFile)); // a new worker reads /v1/info anew
    assert.deepEqual((await ensureCatalogSyncLoops(env.client.temporal, env.temporal.taskQueue, fresh())).map((s) => [s.outcome, s.everyMs]), [['updated', 4_000]]);
    assert.equal((await catalogSyncLoopState(env.client.temporal, 'local')).everyMs, 4_000);
    await env.admin.setCatalog(cat);
    assert.deepEqual((await ensureCatalogSyncLoops(env.client.temporal, env.temporal.taskQueue, fresh())).map((s) => [s.outcome, s.everyMs]), [['updated', POLL_MS]]);
  });

  it('a price change, a removed type and an added type show in `catalog changes` and in routing', async () => {
    const before = (await store.status('local'))!.seq;
    const l4 = await plan('L4');
    assert.equal(l4.candidates[0]?.instanceTypeId, 'us-east-noSub-gpu_1x_l4');
    assert.ok(l4.candidates.some((c) => c.instanceTypeId === 'eu-north-noSub-gpu_1x_l4_eu'));

    const now = await env.admin.getCatalog();
    await env.admin.setCatalog({
      ...now,
      instanceTypes: [
        ...now.instanceTypes.filter((t) => t.type !== 'gpu_1x_l4_eu').map((t) => (t.type === 'gpu_1x_l4' ? { ...t, pricePerHour: '0.95' } : t)),
        { type: 'gpu_1x_l4_lite', gpuDescription: '1x L4 (24 GB PCIe)', vcpu: 4, memoryGiB: 16, diskGiB: 100, pricePerHour: '0.70', currency: 'USD', capacity: { 'eu-north': 10 } },
      ],
    });
    await syncedPast(before);

    const r = await gpuflow('catalog', 'changes', '--since', '10m', '--json');
    assert.equal(r.code, 0, r.stderr);
    const changes = JSON.parse(r.stdout) as CatalogChange[];
    const after = changes.filter((c) => c.seq > before);
    const line = (id: string) => after.find((c) => c.id === id);
    assert.equal(line('eu-north-noSub-gpu_1x_l4_lite')?.kind, 'added');
    assert.equal(line('eu-north-noSub-gpu_1x_l4_eu')?.kind, 'removed');
    assert.deepEqual(line('us-east-noSub-gpu_1x_l4')?.changes, [{ field: 'on-demand price', from: '0.80 USD', to: '0.95 USD' }]);
    assert.deepEqual(line('eu-central-noSub-gpu_1x_l4')?.changes, [{ field: 'on-demand price', from: '0.80 USD', to: '0.95 USD' }]);
    // The first sync's additions are there too (everything since 10 minutes ago), oldest first.
    assert.equal(changes[0]?.kind, 'added');
    const text = await gpuflow('catalog', 'changes', '--connection', 'local', '--since', '10m');
    assert.match(text.stdout, /removed gpu_1x_l4_eu in eu-north \[eu-north-noSub-gpu_1x_l4_eu\] \(kept as unavailable\)/);
    assert.match(text.stdout, /changed gpu_1x_l4 in us-east \[us-east-noSub-gpu_1x_l4\]: on-demand price 0\.80 USD -> 0\.95 USD/);

    // Routing reads the synced catalog: the removed type is gone, the new cheapest comes first.
    const routed = await plan('L4');
    assert.equal(routed.candidates[0]?.instanceTypeId, 'eu-north-noSub-gpu_1x_l4_lite');
    assert.equal(routed.candidates[0]?.pricePerHour.amount, 70);
    assert.ok(!routed.candidates.some((c) => c.instanceTypeId === 'eu-north-noSub-gpu_1x_l4_eu'));
    assert.deepEqual(routed.unreachable, []);

    // `gpuflow offers` reads the synced catalog too (TEMPORAL_ADDRESS names this environment).
    const offers = await gpuflow('offers', '--gpu', 'L4', '--connections', env.connectionsFile);
    assert.equal(offers.code, 0, offers.stderr);
    assert.match(offers.stdout, /in the catalog of local \(synced\)/);
    assert.match(offers.stdout, /^1 +local +eu-north +FIN +gpu_1x_l4_lite .*\$0\.70$/m);
    assert.doesNotMatch(offers.stdout, /gpu_1x_l4_eu/);

    // And a real workload is placed on it.
    const wl = await env.client.launch({ name: 'after-sync', command: 'true', gpu: { classes: ['L4'] }, spot: 'never' });
    const result = await wl.result();
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.offer?.instanceTypeId, 'eu-north-noSub-gpu_1x_l4_lite');
  });

  it('routing uses the synced catalog while fresh and never a stale one (it reads the provider live instead)', async () => {
    await configureCatalogSync(env.client.temporal, 'local', { paused: true });
    await waitFor('no sync running', async () => !(await catalogSyncLoopState(env.client.temporal, 'local')).syncing, 10_000, 100);
    // A pause survives a worker start.
    assert.deepEqual((await ensureCatalogSyncLoops(env.client.temporal, env.temporal.taskQueue, registry)).map((s) => s.outcome), ['unchanged']);
    assert.equal((await catalogSyncLoopState(env.client.temporal, 'local')).paused, true);
    const paused = (await store.status('local'))!;
    const now = await env.admin.getCatalog();
    await env.admin.setCatalog({ ...now, instanceTypes: now.instanceTypes.map((t) => (t.type === 'gpu_1x_l4_lite' ? { ...t, pricePerHour: '0.60' } : t)) });

    // Fresh (synced less than 3 polls ago): the synced price, not the provider's new one, both here
    // and in the worker's own planning (its Temporal client reads the entity).
    const wl = await env.client.launch({ name: 'while-fresh', command: 'true', gpu: { classes: ['L4'] }, spot: 'never' });
    const fresh = await plan('L4');
    const planned = await waitFor('the workload planned', async () => (await wl.status()).offer, 5_000, 50);
    assert.ok(Date.now() - Date.parse(paused.syncedAt!) < 3 * POLL_MS, 'the checks ran while the catalog was fresh');
    assert.equal(fresh.candidates[0]?.pricePerHour.amount, 70);
    assert.deepEqual([planned.instanceTypeId, planned.pricePerHour.amount], ['eu-north-noSub-gpu_1x_l4_lite', 70]);

    // Stale: the synced catalog is not used; the live read has the new price.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(paused.syncedAt!) + 3 * POLL_MS + 200 - Date.now())));
    assert.equal((await store.status('local'))!.seq, paused.seq, 'no sync happened while paused');
    const stale = await plan('L4');
    assert.equal(stale.candidates[0]?.instanceTypeId, 'eu-north-noSub-gpu_1x_l4_lite');
    assert.equal(stale.candidates[0]?.pricePerHour.amount, 60);

    assert.equal((await wl.result()).outcome, 'succeeded');
    const st = await gpuflow('catalog', 'status', '--json');
    const [view] = JSON.parse(st.stdout) as CatalogStatusView[];
    assert.equal(view?.stale, true);
    await configureCatalogSync(env.client.temporal, 'local', { paused: false });
  });

  it('`catalog pause` stops the provider polling durably and shows in `catalog status`; `catalog resume` restarts it', async () => {
    const pause = await gpuflow('catalog', 'pause', 'local', '--reason', 'provider API rate limit');
    assert.equal(pause.code, 0, pause.stderr);
    assert.match(pause.stdout, /^local: timed catalog syncs paused \(every 2\.0s until now\)/);
    assert.match(pause.stdout, /`gpuflow catalog resume local` restarts them/);
    await waitFor('no sync running', async () => !(await catalogSyncLoopState(env.client.temporal, 'local')).syncing, 10_000, 100);
    const pausedSeq = (await store.status('local'))!.seq;
    const pausedAt = Date.now();
    // Kept by the loop itself: a worker start (which ensures the loops) leaves it paused.
    assert.deepEqual((await ensureCatalogSyncLoops(env.client.temporal, env.temporal.taskQueue, registry)).map((s) => s.outcome), ['unchanged']);
    const loop = await catalogSyncLoopState(env.client.temporal, 'local');
    assert.deepEqual([loop.paused, loop.pauseReason, loop.nextAt], [true, 'provider API rate limit', undefined]);

    const shown = await gpuflow('catalog', 'status', '--connection', 'local');
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /\n {2}PAUSED since \d\d:\d\d:\d\d \((just now|\d+ s ago)\): provider API rate limit; no timed syncs \(`gpuflow catalog resume local` restarts them\)\n/);
    const again = await gpuflow('catalog', 'pause', 'local');
    assert.match(again.stdout, /^local: already paused since \S+ \(provider API rate limit\)/);
    // No provider polling for more than 3 poll times.
    await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + 3 * POLL_MS + 500 - Date.now())));
    assert.equal((await store.status('local'))!.seq, pausedSeq, 'no sync while paused');
    const json = JSON.parse((await gpuflow('catalog', 'status', '--json')).stdout) as CatalogStatusView[];
    assert.deepEqual([json[0]?.loop?.paused, json[0]?.stale], [true, true]);

    // Resume: the overdue sync runs at once, then one every poll again.
    const resume = await gpuflow('catalog', 'resume', 'local');
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(resume.stdout, /^local: timed catalog syncs resumed, every 2\.0s; a sync is due now/);
    await syncedPast(await syncedPast(pausedSeq));
    const running = await gpuflow('catalog', 'status', '--connection', 'local');
    assert.doesNotMatch(running.stdout, /PAUSED/);
    assert.match(running.stdout, /\n {2}(next sync (in \S+|due now)|syncing now)\n/);
    assert.match((await gpuflow('catalog', 'resume', 'local')).stdout, /^local: not paused/);

    // A connection with no sync loop: named, with the ones that have one.
    const unknown = await gpuflow('catalog', 'pause', 'nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no catalog sync running for connection "nope" .*; synced connections: local \(`gpuflow catalog status`\)/);
  });

  it('a provider listing one ID twice is reported (catalog sync/status), and that ID is not routed', async () => {
    await env.admin.setFaults({ duplicateInstanceTypeIds: [{ type: 'gpu_1x_h100_sxm5', location: 'us-east' }] });
    const r = await gpuflow('catalog', 'sync', '--connection', 'local', '--json');
    assert.equal(r.code, 0, r.stderr);
    const [synced] = JSON.parse(r.stdout) as { connection: string; ok: boolean; status: CatalogStatusView }[];
    assert.equal(synced?.ok, true);
    const issue = synced!.status.issues.find((i) => i.kind === 'duplicate-id');
    assert.equal(issue?.id, 'us-east-noSub-gpu_1x_h100_sxm5');
    assert.match(issue!.message, /listed 2 times .*different contents: not routed/);
    assert.equal(synced!.status.unusable, 1);

    const text = await gpuflow('catalog', 'status');
    assert.match(text.stdout, /integrity problems \(1\):\n {4}duplicate-id: instance-type ID us-east-noSub-gpu_1x_h100_sxm5 is listed 2 times/);

    const h100 = await plan('H100');
    assert.deepEqual(h100.candidates.map((c) => c.instanceTypeId), ['eu-central-noSub-gpu_1x_h100_sxm5']);
    await env.admin.clearFaults();
  });
});
