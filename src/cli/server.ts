/**
 * `gpuflow server` (the HTTP API, dashboard and /metrics), `gpuflow login <url>` (token in a 0600
 * file; from then on run/ps/status/stop/logs go through the server, see ./workloadBackend.ts),
 * `gpuflow logout`, and `gpuflow remote whoami|budgets|costs` through the server.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { gpuflowHome } from '../config/paths.js';
import { temporalConfigFromEnv } from '../config/temporalConfig.js';
import { GpuflowServerClient, loginFile, resolveLogin, saveLogin } from '../server/client/serverClient.js';
import type { RunningServer } from '../server/start.js';
import type { GpuflowClient } from '../client/gpuflowClient.js';

export const DEFAULT_SERVER_PORT = 8480;

/** fastify, the database drivers and the dashboard load only when a server starts, not for every CLI command. */
async function startGpuflowServer(...args: Parameters<typeof import('../server/start.js').startGpuflowServer>): Promise<RunningServer> {
  return (await import('../server/start.js')).startGpuflowServer(...args);
}

export function defaultServerDatabase(): string {
  return process.env.GPUFLOW_SERVER_DATABASE ?? `pglite:${join(gpuflowHome(), 'server', 'db')}`;
}

/** The server `gpuflow dev` starts next to its Temporal dev server; prints the admin token once. */
export async function startDevGpuflowServer(opts: { gpuflow: GpuflowClient; connectionsFile: string; temporalUiUrl?: string; port?: number; home: string }): Promise<RunningServer> {
  const server = await startGpuflowServer({
    database: `pglite:${join(opts.home, 'server-db')}`,
    gpuflow: opts.gpuflow,
    port: opts.port ?? DEFAULT_SERVER_PORT,
    connectionsFile: opts.connectionsFile,
    ...(opts.temporalUiUrl ? { temporalUiUrl: opts.temporalUiUrl } : {}),
  });
  printServerBanner(server);
  return server;
}

function printServerBanner(server: RunningServer): void {
  console.log(`server     ${server.url} (dashboard ${server.url}/, API ${server.url}/openapi.json, metrics ${server.url}/metrics)`);
  if (server.bootstrapToken) {
    console.log(`admin token (shown once; store it): ${server.bootstrapToken}`);
    console.log(`  gpuflow login ${server.url}   # paste it when asked`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('the gpuflow server: HTTP API with users, projects and roles, the dashboard, /metrics')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port', String(DEFAULT_SERVER_PORT))
    .option('--database <url>', 'postgres://user@host/db, or pglite:<dir> (embedded; env GPUFLOW_SERVER_DATABASE)', defaultServerDatabase())
    .option('--connections <file>', 'the worker’s provider connections (offers, connection list)', join(gpuflowHome(), 'dev', 'connections.yaml'))
    .option('--temporal-ui <url>', 'Temporal Web UI base URL for workload links')
    .option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS)')
    .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE)')
    .action(async (o: { host: string; port: string; database: string; connections: string; temporalUi?: string; address?: string; namespace?: string }) => {
      const temporal = temporalConfigFromEnv({ ...(o.address ? { address: o.address } : {}), ...(o.namespace ? { namespace: o.namespace } : {}) });
      const [h, p] = temporal.address.split(':');
      const server = await startGpuflowServer({
        database: o.database,
        temporal,
        host: o.host,
        port: Number(o.port),
        connectionsFile: o.connections,
        temporalUiUrl: o.temporalUi ?? `http://${h}:${Number(p) + 1000}`,
        logger: { level: process.env.GPUFLOW_LOG_LEVEL ?? 'info' },
      });
      printServerBanner(server);
      const stop = async () => {
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });

  program
    .command('login')
    .argument('<url>', 'the gpuflow server, e.g. http://127.0.0.1:8480')
    .option('--token-stdin', 'read the token from stdin instead of asking')
    .description(`log in to a gpuflow server: checks the token and keeps it in ${loginFile()} (mode 0600)`)
    .action(async (url: string, o: { tokenStdin?: boolean }) => {
      const token = o.tokenStdin ? await readStdin() : await (await import('@inquirer/prompts')).password({ message: `API token for ${url}`, mask: '*' });
      const me = await new GpuflowServerClient(url, token).me();
      saveLogin({ url, token });
      console.log(`logged in to ${url} as ${me.user.name}${me.user.serverAdmin ? ' (server admin)' : ''}; projects: ${me.projects.map((p) => `${p.name} (${p.role})`).join(', ') || 'none'}`);
      console.log('gpuflow run, ps, status, stop and logs now go through this server (--address goes to Temporal directly; gpuflow logout forgets the login)');
    });

  program
    .command('logout')
    .description(`forget the saved server login (${loginFile()})`)
    .action(() => {
      const file = loginFile();
      if (!existsSync(file)) return console.log('not logged in');
      rmSync(file);
      console.log(`logged out (removed ${file}); gpuflow talks to Temporal directly unless GPUFLOW_SERVER is set`);
    });

  const remote = program.command('remote').description('who you are, budgets and costs through a gpuflow server (GPUFLOW_SERVER/GPUFLOW_TOKEN or gpuflow login)');
  const client = () => GpuflowServerClient.fromEnv();
  remote
    .command('whoami')
    .action(async () => {
      const me = await client().me();
      console.log(`${me.user.name} at ${resolveLogin()!.url}`);
      for (const p of me.projects) console.log(`  ${p.name} (tenant ${p.tenant}): ${p.role}`);
    });
  remote
    .command('budgets')
    .action(async () => console.log(JSON.stringify(await client().budgets(), null, 2)));
  remote
    .command('costs')
    .option('--project <name>')
    .option('--tenant <name>')
    .option('--by <period>', 'day | week | month', 'day')
    .option('--since <when>')
    .action(async (o: { project?: string; tenant?: string; by: 'day' | 'week' | 'month'; since?: string }) =>
      console.log(JSON.stringify(await client().cost({ by: o.by, ...(o.project ? { project: o.project } : {}), ...(o.tenant ? { tenant: o.tenant } : {}), ...(o.since ? { since: o.since } : {}) }), null, 2)),
    );
}
