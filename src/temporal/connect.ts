/** Connections to Temporal for clients and workers: local dev server or Temporal Cloud (API key / mTLS). */
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from '../config/temporalConfig.js';
import { installTemporalLogging } from '../logging/temporalRuntime.js';

function tlsOptions(cfg: TemporalConfig) {
  if (cfg.tlsCertFile && cfg.tlsKeyFile) {
    return { clientCertPair: { crt: readFileSync(cfg.tlsCertFile), key: readFileSync(cfg.tlsKeyFile) } };
  }
  return cfg.apiKey ? true : undefined;
}

export async function connectClient(cfg: TemporalConfig): Promise<Client> {
  const tls = tlsOptions(cfg);
  const connection = await Connection.connect({
    address: cfg.address,
    ...(tls ? { tls } : {}),
    ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}),
  });
  return new Client({ connection, namespace: cfg.namespace });
}

export async function connectWorker(cfg: TemporalConfig): Promise<NativeConnection> {
  installTemporalLogging(); // must precede the first NativeConnection, which creates the Runtime
  const tls = tlsOptions(cfg);
  return NativeConnection.connect({
    address: cfg.address,
    ...(tls ? { tls } : {}),
    ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}),
  });
}
