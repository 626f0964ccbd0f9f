/** A gpuflow worker: the workload workflow plus the activities bound to this machine's connections. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration } from '@temporalio/common';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { TemporalConfig } from '../config/temporalConfig.js';
import type { ProviderRegistry } from '../providers/registry.js';
import { createLogger } from '../logging/logger.js';
import { installTemporalLogging } from '../logging/temporalRuntime.js';
import { LocalLogStore } from '../logs/localStore.js';
import { pruneLogs } from '../logs/retention.js';
import { logSettingsFromEnv } from '../logs/settings.js';
import type { LogStore } from '../logs/store.js';
import type { CatalogContentStore } from '../catalog/sync/contentStore.js';

export function workflowsPath(): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'workflows');
  for (const f of ['index.ts', 'index.js']) if (existsSync(join(dir, f))) return join(dir, f);
  throw new Error(`workflow sources not found in ${dir}`);
}

/**
 * A prebuilt workflow bundle when there is one (`npm run build` writes dist/workflow-bundle.js, or
 * GPUFLOW_WORKFLOW_BUNDLE names one): the worker then starts without webpack in its memory.
 */
export function workflowCode(): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const bundle = process.env.GPUFLOW_WORKFLOW_BUNDLE ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'workflow-bundle.js');
  return existsSync(bundle) ? { workflowBundle: { codePath: bundle } } : { workflowsPath: workflowsPath() };
}

export interface GpuflowWorkerOptions {
  connection: NativeConnection;
  temporal: TemporalConfig;
  registry: ProviderRegistry;
  sshKey: { privateKey: string; publicKey: string };
  maxConcurrentActivities?: number;
  /** The log store and its limits (default: from the environment, see src/logs/settings.ts). */
  logs?: { store: LogStore; maxAttemptBytes: number; retentionMs: number };
  /** Where synced catalogs are kept (default: GPUFLOW_CATALOG_DIR, else $GPUFLOW_HOME/catalogs). */
  catalogs?: CatalogContentStore;
  /** How long after shutdown() the worker stops even with activities still running (default 90 s). */
  shutdownForceTime?: Duration;
}

const PRUNE_EVERY_MS = 6 * 3600_000;

/** Log store settings, with retention run now and every 6 h for as long as the process lives. */
function workerLogs(opts: GpuflowWorkerOptions, log: ReturnType<typeof createLogger>): { store: LogStore; maxAttemptBytes: number } {
  const settings = opts.logs ?? (() => {
    const s = logSettingsFromEnv();
    return { store: new LocalLogStore(s.dir), maxAttemptBytes: s.maxAttemptBytes, retentionMs: s.retentionMs };
  })();
  const prune = () =>
    pruneLogs(settings.store, settings.retentionMs)
      .then((gone) => gone.length && log.info({ workloads: gone.length, store: settings.store.location }, 'pruned logs past retention'))
      .catch((e: Error) => log.warn({ error: e.message }, 'pruning logs failed'));
  void prune();
  setInterval(prune, PRUNE_EVERY_MS).unref();
  return { store: settings.store, maxAttemptBytes: settings.maxAttemptBytes };
}

export async function createGpuflowWorker(opts: GpuflowWorkerOptions): Promise<Worker> {
  installTemporalLogging();
  const log = createLogger('gpuflow-worker', process.env.GPUFLOW_LOG_LEVEL ?? 'warn');
  log.info({ taskQueue: opts.temporal.taskQueue, namespace: opts.temporal.namespace, connections: opts.registry.names() }, 'starting worker');
  return Worker.create({
    connection: opts.connection,
    namespace: opts.temporal.namespace,
    taskQueue: opts.temporal.taskQueue,
    ...workflowCode(),
    activities: createActivities({ registry: opts.registry, sshKey: opts.sshKey, logs: workerLogs(opts, log), ...(opts.catalogs ? { catalogs: opts.catalogs } : {}) }),
    // In-flight activities get time to stop jobs cleanly before the worker exits.
    shutdownGraceTime: '30s',
    // Then they are cancelled; one that ignores its cancellation must not keep the process alive
    // (a hung SSH or provider call): the worker gives up after this, and the server retries the
    // activity elsewhere once its heartbeat times out.
    shutdownForceTime: opts.shutdownForceTime ?? '90s',
    // Cancellation reaches an activity only with a heartbeat round trip; the default throttle
    // (80% of the heartbeat timeout) would delay a stop by ~16 s.
    maxHeartbeatThrottleInterval: '2s',
    // A workflow task waiting on a dead worker's sticky queue moves to the shared queue after
    // this (default 10 s): part of the recovery bound in src/workload/activityOptions.ts.
    stickyQueueScheduleToStartTimeout: '5s',
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 200,
  });
}
