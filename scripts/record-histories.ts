/**
 * Records the workflow histories that CI replays (test/replay/histories.test.ts): real workloads on
 * a Temporal dev server and the local cloud, one per path through workloadWorkflow, written to
 * test/histories/<case>.json in the format of `temporal workflow show --output json`.
 *
 *   node --import tsx scripts/record-histories.ts [--out test/histories] [case...]
 *   node --import tsx scripts/record-histories.ts catalog-sync catalog-sync-failed catalog-store   # only those
 *
 * Re-record after an intended, versioned change to a workflow (and keep the old files too when
 * workloads started on the old code may still be running: they are what replay protects).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { budgetWorkflowId, toBudgetKey } from '../src/budget/config.js';
import { CatalogStoreClient } from '../src/catalog/sync/client.js';
import { catalogSyncLoopWorkflowId } from '../src/catalog/sync/loopMessages.js';
import { ensureCatalogSyncLoops, requestCatalogSync } from '../src/catalog/sync/loops.js';
import { loadConnections } from '../src/config/connections.js';
import { ProviderRegistry } from '../src/providers/registry.js';
import { catalogStoreWorkflowId } from '../src/catalog/sync/messages.js';
import { historyJSON } from '../src/replay/replay.js';
import type { WorkloadHandle } from '../src/client/gpuflowClient.js';
import { startTestEnv, waitFor, type TestEnv } from '../test/helpers/environment.js';
import { freePort, freeRange, groupSpec, healthyActive, loadGenerator, waitForMembers } from '../test/helpers/serviceGroup.js';

interface Case {
  /** What the history shows. */
  description: string;
  record(env: TestEnv): Promise<string>;
}

const L4 = { classes: ['L4'] };

async function settle(wl: WorkloadHandle): Promise<void> {
  await wl.result().catch(() => undefined);
}

async function running(wl: WorkloadHandle): Promise<void> {
  await waitFor('job running', async () => (await wl.status()).state === 'running', 90_000, 250);
}

const CASES: Record<string, Case> = {
  succeeded: {
    description: 'a recipe job (smoke-test) that succeeds: select, create, wait, bootstrap, run, terminate',
    async record(env) {
      const wl = await env.client.launch({ name: 'hist-succeeded', recipe: { name: 'smoke-test', params: { seconds: 1 } }, gpu: L4, spot: 'never' });
      await settle(wl);
      return wl.workloadId;
    },
  },
  'failed-over': {
    description: 'the cheapest offer is out of capacity: the create fails, the next offer is used',
    async record(env) {
      await env.admin.setFaults({ outOfCapacity: [{ type: 'gpu_1x_l4', location: 'us-east' }] });
      try {
        const wl = await env.client.launch({ name: 'hist-failover', command: 'echo ok', gpu: L4 });
        await settle(wl);
        return wl.workloadId;
      } finally {
        await env.admin.clearFaults();
      }
    },
  },
  cancelled: {
    description: 'cancelled mid-job: the job is stopped and the instance terminated in a non-cancellable scope',
    async record(env) {
      const wl = await env.client.launch({ name: 'hist-cancelled', command: 'sleep 300', gpu: L4 });
      await running(wl);
      await wl.cancel();
      await settle(wl);
      return wl.workloadId;
    },
  },
  'job-failed': {
    description: 'the job exits 3: JobFailed, instance terminated',
    async record(env) {
      const wl = await env.client.launch({ name: 'hist-failed', command: 'exit 3', gpu: L4 });
      await settle(wl);
      return wl.workloadId;
    },
  },
  'stopped-with-updates': {
    description: 'logs and setAutoShutdown updates while running, then the stop update',
    async record(env) {
      const wl = await env.client.launch({ name: 'hist-stopped', command: 'trap "exit 0" TERM; echo up; while true; do sleep 0.2; done', gpu: L4 });
      await running(wl);
      await waitFor('log output', async () => (await wl.logs(5)).includes('up'), 20_000, 250);
      await wl.setAutoShutdown({ utilizationBelowPercent: 1, idleWindow: 3_600_000, sampleInterval: 60_000 });
      await wl.stop('recording');
      await settle(wl);
      return wl.workloadId;
    },
  },
  'idle-shutdown': {
    description: 'GPU idle for the whole window: shut down by the utilization watcher',
    async record(env) {
      const wl = await env.client.launch({ name: 'hist-idle', command: 'sleep 600', gpu: L4, autoShutdown: { utilizationBelowPercent: 10, idleWindow: '2s', sampleInterval: '1s' } });
      await settle(wl);
      return wl.workloadId;
    },
  },
  'max-duration': {
    description: 'lifecycle.maxDuration reached: stopped by its timer',
    async record(env) {
      const wl = await env.client.launch({ name: 'hist-maxdur', command: 'sleep 600', gpu: L4, lifecycle: { kind: 'job', maxDuration: '3s' } });
      await settle(wl);
      return wl.workloadId;
    },
  },
  'host-failed': {
    description: "the job's host fails: instance lost, terminated, its region blocked, placed again elsewhere, succeeds",
    async record(env) {
      const wl = await env.client.launch({ name: 'hist-host-failed', command: 'sleep 2', gpu: L4, recovery: { maxRecoveries: 2 } });
      await running(wl);
      await env.admin.failHost((await wl.status()).instance!.cloudId, 'host failure');
      await settle(wl);
      return wl.workloadId;
    },
  },
  'service-group': {
    description: 'a service group: one replica, scaled to 2 by an update under requests, drained back to 1, then stopped (replicas drained first)',
    async record(env) {
      const group = await env.client.launchServiceGroup(groupSpec('hist-group', await freeRange(4), await freePort()));
      await waitForMembers(group, 'one healthy replica', (s) => healthyActive(s) === 1 && !!s.endpoint, 90_000);
      const load = loadGenerator(`http://${(await group.status()).endpoint}/?ms=20`, 2, 60_000);
      await group.scale(2, 'history');
      await waitForMembers(group, 'two healthy replicas', (s) => healthyActive(s) === 2, 90_000);
      await group.scale(1, 'history');
      await waitForMembers(group, 'back to one', (s) => s.members.length === 1, 90_000);
      await load.stop();
      await group.stop('history');
      await group.result();
      return group.groupId;
    },
  },
  'service-scale': {
    description: "a service group's scale schedule fires: serviceScaleWorkflow signals the group a burst",
    async record(env) {
      const group = await env.client.launchServiceGroup(groupSpec('hist-sched', await freeRange(4), await freePort(), { scale: [{ at: '0 0 1 1 *', replicas: 2, for: '5s' }] }));
      await waitForMembers(group, 'one healthy replica', (s) => healthyActive(s) === 1, 90_000);
      const schedule = env.client.temporal.schedule.getHandle(`${group.groupId}-scale-0`);
      await schedule.trigger();
      const runId = await waitFor('the scale workflow ran', async () => (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId, 30_000, 250);
      await env.client.temporal.workflow.getHandle(runId).result();
      await waitForMembers(group, 'the burst seen', (s) => s.scaleEvents.some((e) => e.by === 'schedule'), 30_000);
      await group.stop('history');
      await group.result();
      return runId;
    },
  },
  service: {
    description: 'a service with an HTTP health check: started, healthy, its process dies, restarted, then stopped',
    async record(env) {
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const js = `require('http').createServer((q, s) => { if (q.url === '/crash') { s.end('bye'); setTimeout(() => process.exit(3), 20); return; } s.end('ok'); }).listen(${port}, '0.0.0.0')`;
      const wl = await env.client.launch({
        name: 'hist-service',
        command: `exec node -e "${js.replace(/"/g, '\\"')}"`,
        gpu: L4,
        lifecycle: { kind: 'service' },
        ports: [{ port, public: true }],
        service: { healthCheck: { port, path: '/health', interval: '1s', timeout: '1s', failureThreshold: 2, startupTimeout: '30s' }, maxRestarts: 3 },
      });
      const up = await waitFor('service healthy', async () => ((await wl.status()).service?.healthy ? await wl.status() : undefined), 90_000, 250);
      await fetch(new URL('/crash', up.service!.endpoints[0]!.url)).catch(() => undefined);
      await waitFor('service restarted', async () => (await wl.status()).restarts === 1 && (await wl.status()).service?.healthy, 60_000, 250);
      await wl.stop('recording');
      await settle(wl);
      return wl.workloadId;
    },
  },
  'no-offer': {
    description: 'nothing matches the spec: NoMatchingOffer before any instance exists',
    async record(env) {
      const wl = await env.client.launch({ name: 'hist-nooffer', command: 'true', gpu: { classes: ['B300'] } });
      await settle(wl);
      return wl.workloadId;
    },
  },
  scheduled: {
    description: 'a run started by a Temporal Schedule (execution timeout, scheduled-by search attribute)',
    async record(env) {
      const sched = await env.client.schedules.create({
        scheduleId: 'hist-scheduled',
        workload: { recipe: { name: 'smoke-test', params: { seconds: 1 } }, gpu: L4, spot: 'never', lifecycle: { kind: 'job', maxDuration: '5m' } },
        every: '24h',
        triggerImmediately: true,
      });
      const run = await waitFor('the triggered run', async () => (await sched.describe()).recentRuns[0], 30_000, 250);
      await sched.delete();
      await settle(env.client.handle(run.workloadId));
      return run.workloadId;
    },
  },
  budget: {
    description: 'a project budget (the budgetWorkflow entity): set, then a workload of the project reserves and commits against it',
    async record(env) {
      await env.client.budgets.set({ project: 'hist-budget' }, { cap: '100.00', period: 'month', alerts: [50, 80] });
      const wl = await env.client.launch({ name: 'hist-budgeted', command: 'echo ok', gpu: L4, project: 'hist-budget' });
      await settle(wl);
      return budgetWorkflowId(toBudgetKey({ project: 'hist-budget' }));
    },
  },
  'catalog-sync': {
    description: 'one catalog sync of the old design (catalogSyncWorkflow, still registered for old schedules): read the provider, diff, apply to the catalog entity',
    async record(env) {
      const before = await catalogSeq(env);
      await ensureCatalogSync(env);
      const handle = await env.client.temporal.workflow.start('catalogSyncWorkflow', { taskQueue: env.temporal.taskQueue, workflowId: `hist-catalog-sync-${Date.now()}`, args: [{ connection: 'local' }] });
      await handle.result();
      await waitFor('the sync applied', async () => (await catalogSeq(env)) > before, 30_000, 250);
      return handle.workflowId;
    },
  },
  'catalog-sync-loop': {
    description: "a connection's long-lived sync loop: its first sync, then one on the sync-now signal",
    async record(env) {
      await ensureCatalogSync(env);
      const seq = await waitFor('a first sync', async () => { const s = await catalogSeq(env); return s >= 1 ? s : undefined; }, 30_000, 250);
      await requestCatalogSync(env.client.temporal, 'local');
      await waitFor('the requested sync', async () => (await catalogSeq(env)) > seq, 30_000, 250);
      return catalogSyncLoopWorkflowId('local');
    },
  },
  'catalog-sync-failed': {
    description: 'a catalog sync whose provider stays unavailable: activity retries exhausted, the failure recorded on the entity',
    async record(env) {
      await ensureCatalogSync(env);
      await env.admin.setFaults({ unavailable: { forMs: 30_000, paths: ['/v1/instance-types'] } });
      try {
        const handle = await env.client.temporal.workflow.start('catalogSyncWorkflow', { taskQueue: env.temporal.taskQueue, workflowId: `hist-catalog-sync-failed-${Date.now()}`, args: [{ connection: 'local' }] });
        await handle.result().catch(() => undefined);
        return handle.workflowId;
      } finally {
        await env.admin.clearFaults();
      }
    },
  },
  'catalog-store': {
    description: 'the catalog entity of a connection: syncs applied (first, a price change, a duplicated ID), a failure recorded, queries',
    async record(env) {
      await ensureCatalogSync(env);
      const store = new CatalogStoreClient(env.client.temporal, env.temporal.taskQueue);
      await waitFor('a first sync', async () => (await catalogSeq(env)) > 0, 30_000, 250);
      const cat = await env.admin.getCatalog();
      await env.admin.setCatalog({ ...cat, instanceTypes: cat.instanceTypes.map((t) => (t.type === 'gpu_1x_l4' ? { ...t, pricePerHour: '0.85' } : t)) });
      await env.admin.setFaults({ duplicateInstanceTypeIds: [{ type: 'gpu_1x_h100_sxm5', location: 'us-east' }] });
      const seq = await catalogSeq(env);
      await requestCatalogSync(env.client.temporal, 'local');
      await waitFor('the second sync', async () => (await catalogSeq(env)) > seq, 30_000, 250);
      await env.admin.clearFaults();
      await store.changes('local', { sinceMs: 0 });
      return catalogStoreWorkflowId('local');
    },
  },
};

let catalogScheduled = false;

/** The local connection's catalog sync loop, as a worker start starts it. */
async function ensureCatalogSync(env: TestEnv): Promise<void> {
  if (catalogScheduled) return;
  await ensureCatalogSyncLoops(env.client.temporal, env.temporal.taskQueue, ProviderRegistry.fromConnections(loadConnections(env.connectionsFile)));
  catalogScheduled = true;
}

async function catalogSeq(env: TestEnv): Promise<number> {
  return (await new CatalogStoreClient(env.client.temporal, env.temporal.taskQueue).status('local'))?.seq ?? 0;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { out: { type: 'string', default: join(import.meta.dirname, '..', 'test', 'histories') } }, allowPositionals: true });
  const names = positionals.length ? positionals : Object.keys(CASES);
  for (const n of names) if (!CASES[n]) throw new Error(`no case "${n}" (cases: ${Object.keys(CASES).join(', ')})`);
  mkdirSync(values.out!, { recursive: true });
  process.env.GPUFLOW_LOG_LEVEL ??= 'error'; // the failure paths would log their expected warnings
  const env = await startTestEnv();
  try {
    await env.startWorker();
    for (const name of names) {
      const started = Date.now();
      const workflowId = await CASES[name]!.record(env);
      const history = await env.client.temporal.workflow.getHandle(workflowId).fetchHistory();
      const file = join(values.out!, `${name}.json`);
      const type = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      // A service group names its replicas after its own workflow ID: replay needs the real one.
      const body = type === 'serviceGroupWorkflow' ? JSON.stringify({ workflowId, history: JSON.parse(historyJSON(history)) as unknown }, null, 2) : historyJSON(history);
      writeFileSync(file, body + '\n');
      const outcome = type === 'workloadWorkflow' ? (await env.client.handle(workflowId).status()).outcome : 'open';
      console.log(`${name.padEnd(22)} ${type} ${String(history.events?.length).padStart(4)} events  outcome ${outcome}  (${((Date.now() - started) / 1000).toFixed(1)} s)  ${file}`);
    }
  } finally {
    await env.teardown();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
