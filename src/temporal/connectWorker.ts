/**
 * The worker's connection to Temporal. Apart from connect.ts so that clients (the CLI) do not load
 * @temporalio/worker and its native runtime.
 */
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from '../config/temporalConfig.js';
import { installTemporalLogging } from '../logging/temporalRuntime.js';
import { tlsOptions } from './connect.js';

export async function connectWorker(cfg: TemporalConfig): Promise<NativeConnection> {
  installTemporalLogging(); // must precede the first NativeConnection, which creates the Runtime
  const tls = tlsOptions(cfg);
  return NativeConnection.connect({
    address: cfg.address,
    ...(tls ? { tls } : {}),
    ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}),
  });
}
