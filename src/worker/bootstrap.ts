/**
 * The one composition of a running gpuflow worker, shared by `gpuflow worker` and `gpuflow dev`:
 * the registry from the connections, the worker's SSH key, the worker itself, and one catalog sync
 * loop per connection it serves. Callers run the worker and close the connection.
 */
import type { NativeConnection, Worker } from '@temporalio/worker';
import { ensureCatalogSyncLoopsAt } from '../catalog/sync/loops.js';
import type { Connection } from '../config/connections.js';
import type { TemporalConfig } from '../config/temporalConfig.js';
import { ProviderRegistry } from '../providers/registry.js';
import { loadOrCreateSshKey } from '../ssh/keyStore.js';
import { connectWorker } from '../temporal/connectWorker.js';
import { createGpuflowWorker } from './worker.js';

export interface BootstrapWorkerOptions {
  temporal: TemporalConfig;
  connections: Connection[];
  /** The SSH private key the worker bootstraps nodes with (created if missing). */
  sshKeyFile: string;
  /** Where non-fatal problems go (a catalog sync loop that could not be started). */
  warn: (message: string) => void;
}

export interface BootstrappedWorker {
  worker: Worker;
  connection: NativeConnection;
  registry: ProviderRegistry;
}

export async function bootstrapWorker(opts: BootstrapWorkerOptions): Promise<BootstrappedWorker> {
  const connection = await connectWorker(opts.temporal);
  try {
    const registry = ProviderRegistry.fromConnections(opts.connections);
    const worker = await createGpuflowWorker({ connection, temporal: opts.temporal, registry, sshKey: loadOrCreateSshKey(opts.sshKeyFile) });
    // Idempotent. A sync loop that cannot be started is not fatal: routing then reads that provider live.
    const loops = await ensureCatalogSyncLoopsAt(opts.temporal, registry).catch((e: Error) => [{ workflowId: 'gpuflow-catalog-sync-*', connection: 'every connection', error: e.message, outcome: 'failed' as const }]);
    for (const s of loops) {
      if (s.outcome === 'failed') opts.warn(`catalog sync ${s.workflowId} not started (${s.error}); routing reads ${s.connection} live`);
    }
    return { worker, connection, registry };
  } catch (e) {
    await connection.close().catch(() => undefined);
    throw e;
  }
}
