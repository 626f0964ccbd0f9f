/**
 * The embedded default environment: a Temporal dev server (SQLite file, Web UI), the local cloud
 * daemon as its own process, and a worker connected to both. Used by `gpuflow dev` and `gpuflow demo`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Connection } from '../config/connections.js';
import { temporalConfigFromEnv, type TemporalConfig } from '../config/temporalConfig.js';
import { startDevServer, type DevServer } from '../temporal/devServer.js';
import { bootstrapWorker } from '../worker/bootstrap.js';
import { nodeEntryArgs } from './nodeEntry.js';

export interface DevEnvironmentOptions {
  home: string;
  temporalPort?: number;
  uiPort?: number;
  headless?: boolean;
  localCloudPort?: number;
  /** Seed the local cloud from a SkyPilot catalog directory (<cloud>/vms.csv) instead of its built-in catalog. */
  fromSkypilot?: string;
  /** Keep Temporal state in a SQLite file under home (default) or in memory. */
  persist?: boolean;
}

export interface DevEnvironment {
  temporal: TemporalConfig;
  server: DevServer;
  localCloudUrl: string;
  connectionsFile: string;
  /** The worker's SSH key (what `gpuflow ssh` uses). */
  sshKeyFile: string;
  worker: Worker;
  workerRun: Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalCloudProcess(opts: { dataDir: string; port: number; tokenFile: string; catalog?: string; fromSkypilot?: string }): Promise<{ url: string; child: ChildProcess }> {
  const args = [...nodeEntryArgs('providers/local/daemon/main'), '--data-dir', opts.dataDir, '--port', String(opts.port), '--token-file', opts.tokenFile];
  if (opts.catalog) args.push('--catalog', opts.catalog);
  if (opts.fromSkypilot) args.push('--from-skypilot', opts.fromSkypilot);
  // Its own process with state on disk: it outlives (and does not share fate with) the worker.
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, GPUFLOW_LOG_LEVEL: process.env.GPUFLOW_LOG_LEVEL ?? 'warn' },
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(lines, 'line').then(([l]) => String(l)),
    once(child, 'exit').then(([code]) => {
      throw new Error(`local cloud daemon exited with code ${code}`);
    }),
  ]);
  const { url } = JSON.parse(first) as { url: string };
  return { url, child };
}

export function ensureToken(file: string): void {
  if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString('hex'), { mode: 0o600 });
}

export function writeConnections(file: string, connections: Connection[]): void {
  writeFileSync(file, stringify({ connections }), { mode: 0o600 });
}

export async function startDevEnvironment(opts: DevEnvironmentOptions): Promise<DevEnvironment> {
  mkdirSync(opts.home, { recursive: true, mode: 0o700 });
  const server = await startDevServer({
    ...(opts.persist === false ? {} : { dbFile: join(opts.home, 'temporal.sqlite') }),
    port: opts.temporalPort ?? 7233,
    ...(opts.uiPort ? { uiPort: opts.uiPort } : {}),
    headless: opts.headless ?? false,
  });
  let child: ChildProcess | undefined;
  let connection: NativeConnection | undefined;
  try {
    const tokenFile = join(opts.home, 'local-cloud.token');
    ensureToken(tokenFile);
    const cloud = await startLocalCloudProcess({
      dataDir: join(opts.home, 'local-cloud'),
      port: opts.localCloudPort ?? 0,
      tokenFile,
      ...(opts.fromSkypilot ? { fromSkypilot: opts.fromSkypilot } : {}),
    });
    child = cloud.child;
    const connectionsFile = join(opts.home, 'connections.yaml');
    const connections: Connection[] = [{ kind: 'local', name: 'local', url: cloud.url, tokenFile }];
    writeConnections(connectionsFile, connections);

    const temporal = temporalConfigFromEnv({ address: server.address, namespace: server.namespace });
    const sshKeyFile = join(opts.home, 'ssh', 'id_ed25519');
    // The local cloud's catalog syncs on its schedule from now on (created once, kept in the dev server's file).
    const started = await bootstrapWorker({ temporal, connections, sshKeyFile, warn: (m) => console.error(`warning: ${m}`) });
    connection = started.connection;
    const worker = started.worker;
    const workerRun = worker.run();
    const stopCloud = async (c: ChildProcess) => {
      c.kill('SIGTERM');
      if (c.exitCode === null) await once(c, 'exit');
    };
    const conn = connection;
    const cloudProcess = child;
    return {
      temporal,
      server,
      localCloudUrl: cloud.url,
      connectionsFile,
      sshKeyFile,
      worker,
      workerRun,
      async stop() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun.catch(() => undefined);
        await conn.close();
        await stopCloud(cloudProcess);
        await server.stop();
      },
    };
  } catch (e) {
    // Whatever started must stop: a half-started environment would hold the ports and data dir.
    await connection?.close().catch(() => undefined);
    child?.kill('SIGTERM');
    await server.stop();
    throw e;
  }
}

export function readToken(file: string): string {
  return readFileSync(file, 'utf8').trim();
}
