/**
 * The production topology on one machine, with real parts: the full Temporal server (built from the
 * Go module proxy by install-server.sh) on the machine's PostgreSQL, a namespace with gpuflow's
 * search attributes, and any number of `gpuflow worker` processes on one task queue. The same
 * shape as docker-compose.yml, without Docker.
 *
 * Used by test/topology/two-workers.test.ts and by `node --import tsx scripts/topology/up.ts`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { freePort } from '../../src/temporal/devServer.js';
import { ensureSearchAttributes } from '../../src/temporal/searchAttributes.js';

const run = promisify(execFile);
const INSTALL = join(import.meta.dirname, 'install-server.sh');

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** Databases `<prefix>` and `<prefix>_visibility`. */
  dbPrefix: string;
}

export const DEFAULT_POSTGRES: PostgresTarget = {
  host: process.env.GPUFLOW_PG_HOST ?? '127.0.0.1',
  port: Number(process.env.GPUFLOW_PG_PORT ?? 5432),
  user: process.env.GPUFLOW_PG_USER ?? 'postgres',
  ...(process.env.GPUFLOW_PG_PASSWORD ? { password: process.env.GPUFLOW_PG_PASSWORD } : {}),
  dbPrefix: process.env.GPUFLOW_PG_DB ?? 'gpuflow_temporal',
};

/**
 * The directory with `server` and `temporal-sql-tool` (built on first use, minutes; cached), or
 * the reason there is none.
 */
export async function resolveServerBinaries(opts: { allowBuild?: boolean } = {}): Promise<{ dir: string } | { reason: string }> {
  try {
    const { stdout } = await run('bash', [INSTALL], {
      env: { ...process.env, ...(opts.allowBuild === false ? { GPUFLOW_NO_BUILD: '1' } : {}) },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 30 * 60_000,
    });
    return { dir: stdout.trim().split('\n').pop()! };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { reason: (err.stderr?.trim().split('\n').slice(-3).join(' | ') || err.message).slice(0, 500) };
  }
}

function sqlArgs(pg: PostgresTarget, db: string): string[] {
  return ['--plugin', 'postgres12', '--endpoint', pg.host, '--port', String(pg.port), '--user', pg.user, ...(pg.password ? ['--password', pg.password] : []), '--db', db];
}

/** Creates (or with `fresh`, re-creates) both databases and brings their schemas to the latest version. */
export async function setupSchema(binDir: string, pg: PostgresTarget, opts: { fresh?: boolean } = {}): Promise<void> {
  const tool = join(binDir, 'temporal-sql-tool');
  for (const [db, schema] of [
    [pg.dbPrefix, 'postgresql/v12/temporal'],
    [`${pg.dbPrefix}_visibility`, 'postgresql/v12/visibility'],
  ] as const) {
    const sql = (...args: string[]) => run(tool, [...sqlArgs(pg, db), ...args], { maxBuffer: 16 * 1024 * 1024 });
    if (opts.fresh) await sql('drop-database', '--force').catch(() => undefined);
    await sql('create-database').catch((e: { stderr?: string }) => {
      if (!/already exists/.test(e.stderr ?? '')) throw e;
    });
    // setup-schema -v 0.0 only creates the versioning tables (idempotent); update-schema applies every version.
    await sql('setup-schema', '-v', '0.0').catch((e: { stderr?: string }) => {
      if (!/already exists/.test(e.stderr ?? '')) throw e;
    });
    await sql('update-schema', '--schema-name', schema);
  }
}

export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  membership: [number, number, number, number];
  metrics: number;
  pprof: number;
}

/**
 * A free port in 20000-32767: the cluster_membership table stores ports as a PostgreSQL smallint,
 * so the kernel's ephemeral ports (32768+) make the server exit at start.
 */
async function freeLowPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const srv = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      await new Promise((r) => srv.close(r));
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port in 20000-32767');
}

export async function pickPorts(): Promise<ServerPorts> {
  const taken = new Set<number>();
  const p = async () => freeLowPort(taken);
  return {
    frontend: await freePort(),
    frontendHttp: await freePort(),
    history: await freePort(),
    matching: await freePort(),
    worker: await freePort(),
    membership: [await p(), await p(), await p(), await p()],
    metrics: await p(),
    pprof: await p(),
  };
}

/** A server config like the server's own config/development-postgres12.yaml, on the given ports and databases. */
export function serverConfig(pg: PostgresTarget, ports: ServerPorts, dir: string): string {
  const store = (db: string, conns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "${pg.host}:${pg.port}"
        connectProtocol: "tcp"
        user: "${pg.user}"
        password: "${pg.password ?? ''}"
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const svc = (grpc: number, membership: number, http?: number) => `    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
  return `log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${store(pg.dbPrefix, 20)}
    postgres-visibility:
${store(`${pg.dbPrefix}_visibility`, 5)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  pprof:
    port: ${ports.pprof}
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:${ports.metrics}"

services:
  frontend:
${svc(ports.frontend, ports.membership[0], ports.frontendHttp)}
  matching:
${svc(ports.matching, ports.membership[1])}
  history:
${svc(ports.history, ports.membership[2])}
  worker:
${svc(ports.worker, ports.membership[3])}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${ports.frontend}"
      httpAddress: "127.0.0.1:${ports.frontendHttp}"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: "${join(dir, 'dynamicconfig.yaml')}"
  pollInterval: "10s"
`;
}

/** Settings gpuflow relies on (updates, schedules) and that make a fresh namespace usable at once. */
export const DYNAMIC_CONFIG = `frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableUpdateWorkflowExecutionAsyncAccepted:
  - value: true
frontend.enableSchedules:
  - value: true
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
system.namespaceCacheRefreshInterval:
  - value: 1s
limit.maxIDLength:
  - value: 255
`;

export interface TemporalServer {
  address: string;
  process: ChildProcess;
  /** The server's output (stdout and stderr), for diagnostics. */
  log(): string;
  stop(): Promise<void>;
}

/** Writes the config and starts `server start`; resolves once the frontend answers. */
export async function startServer(binDir: string, pg: PostgresTarget, dir: string): Promise<TemporalServer> {
  mkdirSync(join(dir, 'config'), { recursive: true });
  const ports = await pickPorts();
  writeFileSync(join(dir, 'dynamicconfig.yaml'), DYNAMIC_CONFIG);
  writeFileSync(join(dir, 'config', 'production.yaml'), serverConfig(pg, ports, dir));
  const child = spawn(join(binDir, 'server'), ['--root', dir, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const address = `127.0.0.1:${ports.frontend}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal server exited with ${child.exitCode}:\n${output.slice(-4000)}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await conn.workflowService.getSystemInfo({});
        // The frontend answers before history and matching have joined the ring: wait for the system namespace.
        await conn.workflowService.describeNamespace({ namespace: 'temporal-system' });
      } finally {
        await conn.close();
      }
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`temporal server did not come up on ${address}: ${(e as Error).message}\n${output.slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return {
    address,
    process: child,
    log: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await once(child, 'exit');
      clearTimeout(t);
    },
  };
}

/**
 * Registers the namespace (the full server creates none; the dev server does) and gpuflow's search
 * attributes, and waits until both are usable.
 */
export async function ensureNamespace(address: string, namespace: string, retentionDays = 3): Promise<void> {
  const conn = await Connection.connect({ address });
  try {
    try {
      await conn.workflowService.registerNamespace({
        namespace,
        description: 'gpuflow workloads',
        workflowExecutionRetentionPeriod: msToTs(retentionDays * 86_400_000),
      });
    } catch (e) {
      if (!/already exists|AlreadyExists/i.test((e as Error).message)) throw e;
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await conn.workflowService.describeNamespace({ namespace });
        await ensureSearchAttributes(conn, namespace);
        // Visible once the namespace registry has refreshed in every service.
        await conn.workflowService.listWorkflowExecutions({ namespace, pageSize: 1, query: `GpuflowState = 'running'` });
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await conn.close();
  }
}
