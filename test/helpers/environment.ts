/**
 * A real test environment: the Temporal dev server (the `temporal` CLI, headless, in memory), the
 * local cloud daemon with real sshd instances, and a gpuflow worker, in-process or as a child
 * process that a test may kill -9.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { GpuflowClient } from '../../src/client/gpuflowClient.js';
import { nodeEntryArgs } from '../../src/cli/nodeEntry.js';
import { writeConnections } from '../../src/cli/devEnvironment.js';
import type { Connection } from '../../src/config/connections.js';
import { temporalConfigFromEnv, type TemporalConfig } from '../../src/config/temporalConfig.js';
import { LocalCloudAdmin } from '../../src/providers/local/index.js';
import { startLocalCloud, type LocalCloudHandle } from '../../src/providers/local/daemon/server.js';
import type { LocalCatalogInput } from '../../src/providers/local/daemon/catalog.js';
import { LocalCatalogSchema } from '../../src/providers/local/daemon/catalog.js';
import { ProviderRegistry } from '../../src/providers/registry.js';
import { loadOrCreateSshKey } from '../../src/ssh/keyStore.js';
import { connectWorker } from '../../src/temporal/connectWorker.js';
import { startDevServer, type DevServer } from '../../src/temporal/devServer.js';
import { createGpuflowWorker } from '../../src/worker/worker.js';
import { LocalLogStore } from '../../src/logs/localStore.js';
import { CatalogContentStore } from '../../src/catalog/sync/contentStore.js';
import { TEST_CATALOG } from './testCatalog.js';

export interface TestEnv {
  dir: string;
  server: DevServer;
  temporal: TemporalConfig;
  cloud: LocalCloudHandle;
  admin: LocalCloudAdmin;
  client: GpuflowClient;
  connectionsFile: string;
  sshKeyFile: string;
  /** Env vars for a child gpuflow process pointed at this environment. */
  childEnv: NodeJS.ProcessEnv;
  /** The environment's catalog content store (its home's `catalogs`, as its child processes'). */
  catalogs: CatalogContentStore;
  startWorker(): Promise<Worker>;
  /**
   * `fromDist`: the compiled worker with its prebuilt bundle (npm run build), as in production.
   * `captureOutput`: the child's stdout and stderr are pipes (read them, e.g. to check its logs).
   * `env`: extra environment for the child (e.g. GPUFLOW_LOG_LEVEL).
   */
  spawnWorker(opts?: { fromDist?: boolean; nodeArgs?: string[]; captureOutput?: boolean; env?: NodeJS.ProcessEnv }): Promise<ChildProcess>;
  teardown(): Promise<void>;
}

/** What `extraConnections` gets: the environment's directory and its local cloud. */
export interface ExtraConnectionsContext {
  dir: string;
  cloud: LocalCloudHandle;
}

export async function startTestEnv(
  opts: {
    catalog?: LocalCatalogInput;
    taskQueue?: string;
    /** More provider connections for the worker next to "local", e.g. replicas of real clouds backed by the local cloud. */
    extraConnections?: (ctx: ExtraConnectionsContext) => Connection[] | Promise<Connection[]>;
  } = {},
): Promise<TestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-test-'));
  const server = await startDevServer({ headless: true });
  const token = randomBytes(16).toString('hex');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const cloud = await startLocalCloud({ dataDir: join(dir, 'cloud'), token, port: 0, catalog: LocalCatalogSchema.parse(opts.catalog ?? TEST_CATALOG) });
  const admin = new LocalCloudAdmin({ url: cloud.url, token });
  const connections: Connection[] = [{ kind: 'local', name: 'local', url: cloud.url, tokenFile }];
  if (opts.extraConnections) connections.push(...(await opts.extraConnections({ dir, cloud })));
  const connectionsFile = join(dir, 'connections.yaml');
  writeConnections(connectionsFile, connections);
  const sshKeyFile = join(dir, 'ssh', 'id_ed25519');
  mkdirSync(join(dir, 'ssh'), { recursive: true });
  const sshKey = loadOrCreateSshKey(sshKeyFile);
  const taskQueue = opts.taskQueue ?? `gpuflow-test-${randomBytes(4).toString('hex')}`;
  const temporal = temporalConfigFromEnv({ address: server.address, namespace: server.namespace, taskQueue });
  // The log store of the environment's own home (as its child processes', GPUFLOW_HOME below), not the user's.
  const logDir = process.env.GPUFLOW_LOG_DIR ?? join(dir, 'home', 'logs');
  const logStore = new LocalLogStore(logDir);
  // Likewise its catalog content store ($GPUFLOW_HOME/catalogs of the child processes).
  const catalogs = new CatalogContentStore(join(dir, 'home', 'catalogs'));
  const client = await GpuflowClient.connect(temporal, { logStore });
  const workers: Worker[] = [];
  const runs: Promise<void>[] = [];
  const children: ChildProcess[] = [];
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: server.namespace,
    GPUFLOW_TASK_QUEUE: taskQueue,
    GPUFLOW_HOME: join(dir, 'home'),
    GPUFLOW_CATALOG_DIR: catalogs.location,
    GPUFLOW_LOG_LEVEL: 'warn',
  };

  return {
    dir,
    server,
    temporal,
    cloud,
    admin,
    client,
    connectionsFile,
    sshKeyFile,
    childEnv,
    catalogs,
    async startWorker() {
      const connection = await connectWorker(temporal);
      const worker = await createGpuflowWorker({
        connection,
        temporal,
        registry: ProviderRegistry.fromConnections(connections),
        sshKey,
        logs: { store: logStore, maxAttemptBytes: 256_000_000, retentionMs: 30 * 86_400_000 },
        catalogs,
        // Bounded, so an activity that ignores its cancellation is named (settleWorkers) instead of stalling the file.
        shutdownForceTime: '60s',
      });
      workers.push(worker);
      runs.push(worker.run().finally(() => connection.close()));
      return worker;
    },
    async spawnWorker(spawnOpts: { fromDist?: boolean; nodeArgs?: string[]; captureOutput?: boolean; env?: NodeJS.ProcessEnv } = {}) {
      const entry = spawnOpts.fromDist ? [join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js')] : nodeEntryArgs('cli/main');
      const child = spawn(
        process.execPath,
        [...(spawnOpts.nodeArgs ?? []), ...entry, 'worker', '--connections', connectionsFile, '--ssh-key', sshKeyFile],
        // A test that reads the worker's logs reads them from its stdout, not GPUFLOW_LOG_FILE.
        { env: { ...childEnv, ...(spawnOpts.captureOutput ? { GPUFLOW_LOG_FILE: undefined } : {}), ...spawnOpts.env }, stdio: spawnOpts.captureOutput ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'ignore', 'inherit'] },
      );
      children.push(child);
      return child;
    },
    async teardown() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await settleWorkers(workers, runs, client);
      await slowStepNamed('closing the client', () => client.close());
      await slowStepNamed('closing the local cloud', () => cloud.close());
      await slowStepNamed('stopping the dev server', () => server.stop());
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a teardown step, saying so on stderr when it takes over 30 s (a hang then names its step). */
async function slowStepNamed(what: string, fn: () => Promise<void>): Promise<void> {
  const timer = setTimeout(() => console.error(`teardown: ${what} has taken over 30 s`), 30_000);
  try {
    await fn();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for the workers to stop. One that has not stopped 40 s after shutdown (30 s of grace, then
 * its activities are cancelled) (an activity that ignores
 * its cancellation keeps it running) is named with what it still runs, so a hang in teardown says
 * where it is instead of only hitting the file timeout.
 */
async function settleWorkers(workers: Worker[], runs: Promise<void>[], client: GpuflowClient): Promise<void> {
  const all = Promise.allSettled(runs);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 40_000)));
  const first = await Promise.race([all, late]);
  clearTimeout(timer);
  if (first !== 'late') return;
  const lines: string[] = [];
  for (const w of workers) if (w.getState() !== 'STOPPED') lines.push(`worker ${w.getState()}: ${JSON.stringify(w.getStatus())}`);
  try {
    for await (const wf of client.temporal.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
      const d = await client.temporal.workflow.getHandle(wf.workflowId, wf.runId).describe();
      const pending = d.raw.pendingActivities?.map((a) => `${a.activityType?.name ?? '?'} (attempt ${a.attempt}, state ${a.state})`) ?? [];
      lines.push(`open ${wf.type} ${wf.workflowId}: ${pending.join(', ') || 'no pending activity'}`);
    }
  } catch (e) {
    lines.push(`listing open workflows failed: ${(e as Error).message}`);
  }
  console.error(`teardown: a worker has not stopped 40 s after shutdown (it is forced at 60 s)\n  ${lines.join('\n  ')}`);
  for (const r of await all) if (r.status === 'rejected') console.error(`teardown: a worker ended with ${(r.reason as Error).name}: ${(r.reason as Error).message}`);
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    // One call that hangs (a query no worker answers) must not outlast the deadline.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the last check did not answer before the deadline')), Math.max(1, deadline - Date.now()));
    });
    try {
      const v = await Promise.race([fn(), late]);
      if (v) return v;
    } catch (e) {
      lastError = e;
    } finally {
      clearTimeout(timer);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}

export async function killHard(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
}
