/**
 * Catalog sync on a real Temporal dev server with a real local cloud: the worker-start step creates
 * one schedule per connection (idempotently), the schedule fires syncs at the provider's poll time,
 * and the local cloud's admin API changes the catalog under it (a price, a removed type, an added
 * type, a duplicated ID). The changes show in `gpuflow catalog changes` and `catalog status`, and in
 * routing: planCandidates (the workload's own planning activity) and a real workload never choose
 * a removed type, a synced catalog is used while fresh, and a stale one is not.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { planCandidatesActivity } from '../../../src/activities/catalog.js';
import { CatalogStoreClient } from '../../../src/catalog/sync/client.js';
import type { CatalogChange } from '../../../src/catalog/sync/diff.js';
import { catalogScheduleId, ensureCatalogSchedules } from '../../../src/catalog/sync/schedules.js';
import { SyncedCatalogs } from '../../../src/catalog/sync/syncedCatalogs.js';
import type { CatalogStatusView } from '../../../src/cli/catalog.js';
import { loadConnections } from '../../../src/config/connections.js';
import type { LocalCatalogInput } from '../../../src/providers/local/daemon/catalog.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { parseWorkloadSpec } from '../../../src/workload/spec.js';
import { runGpuflow, type CliResult } from '../../helpers/cli.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { TEST_CATALOG } from '../../helpers/testCatalog.js';

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
  store = new CatalogStoreClient(env.client.temporal, env.temporal.taskQueue);
  planCandidates = planCandidatesActivity(registry, { synced: new SyncedCatalogs(store) });
});
after(async () => {
  await env?.teardown();
});

describe('catalog sync', () => {
  it('worker start creates one schedule per connection, idempotently: every poll time, skip, execution timeout', async () => {
    const first = await ensureCatalogSchedules(env.client.temporal, env.temporal.taskQueue, registry);
    assert.deepEqual(first.map((s) => [s.connection, s.outcome, s.everyMs]), [['local', 'created', POLL_MS]]);
    const again = await ensureCatalogSchedules(env.client.temporal, env.temporal.taskQueue, registry);
    assert.deepEqual(again.map((s) => s.outcome), ['unchanged']);
    const d = await env.client.temporal.schedule.getHandle(catalogScheduleId('local')).describe();
    assert.equal(d.spec.intervals?.[0]?.every, POLL_MS);
    assert.equal(d.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.ok(Number(d.action.workflowExecutionTimeout) >= 60_000);
    assert.equal(d.action.type === 'startWorkflow' && d.action.workflowType, 'catalogSyncWorkflow');
    // It fires on its own, more than once.
    const seq = await syncedPast(1);
    const st = (await store.status('local'))!;
    assert.ok(seq >= 2);
    assert.equal(st.provider, 'local');
    assert.equal(st.pollMs, POLL_MS);
    assert.equal(st.listed, 5);
    assert.deepEqual(st.issues, []);

    // The provider's poll time changes: the next worker start updates the schedule, keeping it.
    const cat = await env.admin.getCatalog();
    await env.admin.setCatalog({ ...cat, instanceTypePollMs: 4_000 });
    const fresh = () => ProviderRegistry.fromConnections(loadConnections(env.connectionsFile)); // a new worker reads /v1/info anew
    assert.deepEqual((await ensureCatalogSchedules(env.client.temporal, env.temporal.taskQueue, fresh())).map((s) => [s.outcome, s.everyMs]), [['updated', 4_000]]);
    assert.equal((await env.client.temporal.schedule.getHandle(catalogScheduleId('local')).describe()).spec.intervals?.[0]?.every, 4_000);
    await env.admin.setCatalog(cat);
    assert.deepEqual((await ensureCatalogSchedules(env.client.temporal, env.temporal.taskQueue, fresh())).map((s) => [s.outcome, s.everyMs]), [['updated', POLL_MS]]);
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
    const sched = env.client.temporal.schedule.getHandle(catalogScheduleId('local'));
    await sched.pause('test: let the catalog age');
    // A run the scheduler started just before the pause shows up late: look twice.
    await waitFor('no sync running', async () => (await sched.describe()).info.runningActions.length === 0, 10_000, 100);
    await new Promise((r) => setTimeout(r, 300));
    await waitFor('still no sync running', async () => (await sched.describe()).info.runningActions.length === 0, 10_000, 100);
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
    await sched.unpause('test done');
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
