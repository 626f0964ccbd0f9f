/**
 * The production topology of docker-compose.yml, proven with real parts on one machine: the full
 * Temporal server (built from the Go module proxy, scripts/topology/install-server.sh) on the
 * machine's PostgreSQL, and two `gpuflow worker` processes on one task queue. A workload's job
 * runs on one worker; that worker is killed with SIGKILL mid-job; the other worker finishes the
 * workload (the job runs once, on one instance, which is terminated).
 *
 * Skipped, with the reason printed, only when the server binary cannot be built (no Go toolchain,
 * no module proxy). The first build takes minutes; later runs reuse ~/.cache/gpuflow.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { GpuflowClient } from '../../src/client/gpuflowClient.js';
import { writeConnections } from '../../src/cli/devEnvironment.js';
import { nodeEntryArgs } from '../../src/cli/nodeEntry.js';
import { temporalConfigFromEnv } from '../../src/config/temporalConfig.js';
import { LocalCloudAdmin } from '../../src/providers/local/index.js';
import { LocalCatalogSchema } from '../../src/providers/local/daemon/catalog.js';
import { startLocalCloud, type LocalCloudHandle } from '../../src/providers/local/daemon/server.js';
import { workflowsPath } from '../../src/worker/worker.js';
import { DEFAULT_POSTGRES, ensureNamespace, resolveServerBinaries, setupSchema, startServer, type TemporalServer } from '../../scripts/topology/topology.js';
import { killHard, waitFor } from '../helpers/environment.js';
import { TEST_CATALOG } from '../helpers/testCatalog.js';

const binaries = await resolveServerBinaries();
const skip = 'reason' in binaries ? `the Temporal server binary cannot be built: ${binaries.reason}` : false;
if (skip) console.log(`# SKIP topology test: ${skip}`);

const NAMESPACE = 'gpuflow';
const TASK_QUEUE = 'gpuflow-production';
const pg = { ...DEFAULT_POSTGRES, dbPrefix: process.env.GPUFLOW_PG_DB ?? 'gpuflow_temporal_topology' };

let dir: string;
let server: TemporalServer | undefined;
let cloud: LocalCloudHandle | undefined;
let admin: LocalCloudAdmin;
let client: GpuflowClient | undefined;
const workers: ChildProcess[] = [];
let workerEnv: NodeJS.ProcessEnv;

function startWorker(name: string): ChildProcess {
  const child = spawn(process.execPath, [...nodeEntryArgs('cli/main'), 'worker', '--connections', join(dir, 'connections.yaml'), '--ssh-key', join(dir, 'ssh', 'id_ed25519')], {
    env: workerEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => {
    err = (err + b.toString()).slice(-20_000);
  });
  child.on('exit', (code, signal) => {
    if (code && code !== 0) console.error(`worker ${name} exited ${code}: ${err}`);
    void signal;
  });
  workers.push(child);
  return child;
}

describe('production topology: Temporal server on PostgreSQL, two workers on one task queue', { skip }, () => {
  before(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), 'gpuflow-topology-'));
    const { dir: binDir } = binaries as { dir: string };
    await setupSchema(binDir, pg, { fresh: true });
    server = await startServer(binDir, pg, join(dir, 'temporal'));
    await ensureNamespace(server.address, NAMESPACE);

    const token = randomBytes(16).toString('hex');
    writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
    cloud = await startLocalCloud({ dataDir: join(dir, 'cloud'), token, port: 0, catalog: LocalCatalogSchema.parse(TEST_CATALOG) });
    admin = new LocalCloudAdmin({ url: cloud.url, token });
    // Both replicas share one configuration, as the compose file's replicas share their volumes.
    writeConnections(join(dir, 'connections.yaml'), [{ kind: 'local', name: 'local', url: cloud.url, tokenFile: join(dir, 'token') }]);
    mkdirSync(join(dir, 'ssh'));
    // One prebuilt workflow bundle for both workers (as `npm run build` makes for production).
    const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: new DefaultLogger('WARN') });
    writeFileSync(join(dir, 'workflow-bundle.js'), code);
    workerEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: NAMESPACE,
      GPUFLOW_TASK_QUEUE: TASK_QUEUE,
      GPUFLOW_WORKFLOW_BUNDLE: join(dir, 'workflow-bundle.js'),
      GPUFLOW_HOME: join(dir, 'home'),
      GPUFLOW_LOG_LEVEL: 'error',
    };
    client = await GpuflowClient.connect(temporalConfigFromEnv({ address: server.address, namespace: NAMESPACE, taskQueue: TASK_QUEUE }));
  });

  after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await client?.close();
    await cloud?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a workload survives SIGKILL of the worker running its job: the other worker finishes it', async () => {
    const a = startWorker('a');
    // The first worker creates the SSH key both share; start the second once it exists.
    await waitFor('worker a to poll', async () => (await client!.temporal.workflowService.describeTaskQueue({ namespace: NAMESPACE, taskQueue: { name: TASK_QUEUE }, taskQueueType: 1 })).pollers?.length === 1, 120_000, 500);
    const b = startWorker('b');
    await waitFor('both workers to poll the task queue', async () => {
      const r = await client!.temporal.workflowService.describeTaskQueue({ namespace: NAMESPACE, taskQueue: { name: TASK_QUEUE }, taskQueueType: 2 });
      return (r.pollers?.length ?? 0) >= 2;
    }, 120_000, 500);
    const identities = new Map([a, b].map((w) => [`${w.pid}@${hostname()}`, w]));

    // The job records each start: a job started twice would show "2".
    const wl = await client!.launch({
      name: 'topology',
      command: 'echo start >> "$GPUFLOW_CHECKPOINT_DIR/starts"; sleep 12; test "$(wc -l < "$GPUFLOW_CHECKPOINT_DIR/starts")" = 1',
      gpu: { classes: ['L4'] },
    });
    await waitFor('job running', async () => (await wl.status()).state === 'running', 120_000, 250);
    // Which worker runs the job? The pending runJob activity names it.
    const runner = await waitFor('the runJob activity to be picked up', async () => {
      const d = await client!.temporal.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId: wl.workloadId } });
      const act = d.pendingActivities?.find((p) => p.activityType?.name === 'runJob');
      return act?.lastWorkerIdentity ? act.lastWorkerIdentity : undefined;
    }, 30_000, 250);
    const victim = identities.get(runner);
    assert.ok(victim, `the job runs on one of our workers (${runner}; workers: ${[...identities.keys()].join(', ')})`);
    const survivor = [...identities.entries()].find(([id]) => id !== runner)!;
    await new Promise((r) => setTimeout(r, 1_000));
    await killHard(victim);

    const result = await wl.result();
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.exitCode, 0, 'the job ran once, to the end');
    const stats = await admin.stats();
    assert.equal(stats.createsAccepted, 1, 'exactly one instance was created');
    assert.equal(stats.running, 0, 'no instance is left running');

    // The history shows the survivor finishing: it completed the job activity and the workflow.
    const history = await client!.temporal.workflow.getHandle(wl.workloadId).fetchHistory();
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    const lastRunJobStart = started.filter((e) => {
      const scheduledId = Number(e.activityTaskStartedEventAttributes!.scheduledEventId);
      return history.events!.find((s) => Number(s.eventId) === scheduledId)?.activityTaskScheduledEventAttributes?.activityType?.name === 'runJob';
    }).pop()!;
    assert.equal(lastRunJobStart.activityTaskStartedEventAttributes!.identity, survivor[0], 'the surviving worker ran the job to its end');
    assert.ok(Number(lastRunJobStart.activityTaskStartedEventAttributes!.attempt) >= 2, 'after the killed attempt timed out');
    const lastTask = history.events!.filter((e) => e.workflowTaskCompletedEventAttributes).pop()!;
    assert.equal(lastTask.workflowTaskCompletedEventAttributes!.identity, survivor[0]);

    // The workload is listed through the server's PostgreSQL visibility store, with its search attributes.
    const listed = await waitFor('visibility (PostgreSQL) to list the workload', async () => (await client!.list({ state: 'terminated' })).find((w) => w.workloadId === wl.workloadId), 30_000, 500);
    assert.equal(listed.status, 'COMPLETED');
  });
});
