/** Clients' connections to Temporal: local dev server or Temporal Cloud (API key / mTLS). Workers': connectWorker.ts. */
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { TemporalConfig } from '../config/temporalConfig.js';

export function tlsOptions(cfg: TemporalConfig) {
  if (cfg.tlsCertFile && cfg.tlsKeyFile) {
    return { clientCertPair: { crt: readFileSync(cfg.tlsCertFile), key: readFileSync(cfg.tlsKeyFile) } };
  }
  return cfg.apiKey ? true : undefined;
}

export async function connectClient(cfg: TemporalConfig, opts: { connectTimeoutMs?: number } = {}): Promise<Client> {
  const tls = tlsOptions(cfg);
  const connection = await Connection.connect({
    address: cfg.address,
    ...(opts.connectTimeoutMs ? { connectTimeout: opts.connectTimeoutMs } : {}),
    ...(tls ? { tls } : {}),
    ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}),
  });
  return new Client({ connection, namespace: cfg.namespace });
}
