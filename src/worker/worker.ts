/** A gpuflow worker: the workload workflow plus the activities bound to this machine's connections. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { TemporalConfig } from '../config/temporalConfig.js';
import type { ProviderRegistry } from '../providers/registry.js';
import { createLogger } from '../logging/logger.js';
import { installTemporalLogging } from '../logging/temporalRuntime.js';

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
    activities: createActivities({ registry: opts.registry, sshKey: opts.sshKey }),
    // In-flight activities get time to stop jobs cleanly before the worker exits.
    shutdownGraceTime: '30s',
    // Cancellation reaches an activity only with a heartbeat round trip; the default throttle
    // (80% of the heartbeat timeout) would delay a stop by ~16 s.
    maxHeartbeatThrottleInterval: '2s',
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 200,
  });
}
