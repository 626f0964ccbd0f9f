#!/usr/bin/env node
/** The gpuflow CLI. Every command validates its input at the boundary and prints JSON with --json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from '@temporalio/client';
import { Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { GpuflowClient } from '../client/gpuflowClient.js';
import { loadConnections } from '../config/connections.js';
import { gpuflowHome } from '../config/paths.js';
import { temporalConfigFromEnv } from '../config/temporalConfig.js';
import { ProviderRegistry } from '../providers/registry.js';
import { loadOrCreateSshKey } from '../ssh/keyStore.js';
import { connectClient, connectWorker } from '../temporal/connect.js';
import { ensureSearchAttributes } from '../temporal/searchAttributes.js';
import { InvalidWorkloadSpecError } from '../workload/spec.js';
import { createGpuflowWorker } from '../worker/worker.js';
import { InvalidBudgetError } from '../budget/config.js';
import { ensureCatalogSchedulesAt } from '../catalog/sync/schedules.js';
import { registerBudgetCommands } from './budget.js';
import { startDevEnvironment } from './devEnvironment.js';
import { followWorkload, rootMessage } from './follow.js';
import { formatStatus } from './format.js';
import { registerOffersCommands } from './offers.js';
import { register as registerRecipesCommands } from './recipes.js';
import { register as registerReplayCommand } from './replay.js';
import { collectList, collectParam } from './cliContext.js';
import { loadRunTarget } from './runTarget.js';
import { register as registerScheduleCommands } from './schedule.js';
import { registerProvidersCommands } from './providers.js';
import { chooseDefaultGpu, workloadNamesGpu } from './defaultGpu.js';
import { defaultConnectionsFile } from '../config/connectionsFile.js';

const program = new Command();
program.name('gpuflow').description('Run GPU workloads across clouds as durable Temporal workflows').version('0.1.0');
program
  .option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS)')
  .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE)');

function temporalOverrides() {
  const o = program.opts<{ address?: string; namespace?: string }>();
  return { ...(o.address ? { address: o.address } : {}), ...(o.namespace ? { namespace: o.namespace } : {}) };
}

async function withClient<T>(fn: (c: GpuflowClient) => Promise<T>): Promise<T> {
  const c = await GpuflowClient.connect(temporalOverrides());
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

function uiLink(workloadId: string): string {
  const cfg = temporalConfigFromEnv(temporalOverrides());
  const [host, port] = cfg.address.split(':');
  return `http://${host}:${Number(port) + 1000}/namespaces/${cfg.namespace}/workflows/${encodeURIComponent(workloadId)}`;
}

function parseGpuFlag(v: string): { classes: string[]; count: number } {
  const m = /^([A-Za-z0-9_.|-]+)(?::(\d+))?$/.exec(v);
  if (!m) throw new InvalidArgumentError('use MODEL[:COUNT], e.g. H100:8 or "H100|A100:1"');
  return { classes: m[1]!.split('|'), count: m[2] ? Number(m[2]) : 1 };
}

function loadSpecFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`cannot read spec file ${file}`);
  }
  const doc = parseYaml(text) as unknown;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file} must hold a YAML mapping (a workload spec)`);
  return doc as Record<string, unknown>;
}

program
  .command('dev')
  .description('embedded default: Temporal dev server (Web UI on :8233), local cloud and a worker')
  .option('--port <port>', 'Temporal gRPC port', '7233')
  .option('--headless', 'no Web UI')
  .option('--from-skypilot <dir>', 'seed the local cloud from a SkyPilot catalog directory')
  .action(async (o: { port: string; headless?: boolean; fromSkypilot?: string }) => {
    const env = await startDevEnvironment({ home: join(gpuflowHome(), 'dev'), temporalPort: Number(o.port), headless: !!o.headless, ...(o.fromSkypilot ? { fromSkypilot: o.fromSkypilot } : {}) });
    console.log(`Temporal   ${env.server.address} (namespace ${env.server.namespace})`);
    if (env.server.uiUrl) console.log(`Web UI     ${env.server.uiUrl}`);
    console.log(`local cloud ${env.localCloudUrl}`);
    console.log(`worker     task queue ${env.temporal.taskQueue}; connections in ${env.connectionsFile}`);
    console.log('Ctrl-C to stop.');
    const stop = async () => {
      await env.stop();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
    await env.workerRun;
  });

program
  .command('demo')
  .description('start the embedded default (dev server, local cloud, worker), run a spec end to end, keep the Web UI up')
  .argument('<spec>', 'workload spec file (YAML)')
  .option('--exit', 'stop everything once the workload has terminated')
  .option('--port <port>', 'Temporal gRPC port (Web UI on port + 1000)', '7233')
  .option('--from-skypilot <dir>', 'seed the local cloud from a SkyPilot catalog directory (realistic providers, regions, prices)')
  .action(async (file: string, o: { exit?: boolean; port: string; fromSkypilot?: string }) => {
    const spec = loadSpecFile(file);
    console.log('starting Temporal dev server, local cloud and worker...');
    const env = await startDevEnvironment({ home: join(gpuflowHome(), 'dev'), temporalPort: Number(o.port), ...(o.fromSkypilot ? { fromSkypilot: o.fromSkypilot } : {}) });
    let failed = false;
    try {
      const c = new GpuflowClient(await connectClient(env.temporal), env.temporal.taskQueue);
      const handle = await c.launch(spec);
      console.log(`workload ${handle.workloadId}`);
      const r = await followWorkload(handle, (l) => console.log(l));
      failed = !!r.error;
      if (r.last) console.log(`\n${formatStatus(r.last)}`);
      console.log(`\nopen it in the Temporal Web UI:`);
      console.log(`  ${env.server.uiUrl}/namespaces/${env.temporal.namespace}/workflows/${encodeURIComponent(handle.workloadId)}`);
      await c.close();
    } catch (e) {
      await env.stop();
      throw e;
    }
    if (o.exit) {
      await env.stop();
      process.exitCode = failed ? 1 : 0;
      return;
    }
    console.log('\nTemporal, the local cloud and the worker keep running; Ctrl-C to stop.');
    const stop = async () => {
      await env.stop();
      process.exit(failed ? 1 : 0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
    await env.workerRun;
  });

program
  .command('worker')
  .description('run a worker with the provider connections in connections.yaml (secrets from files or the encrypted credential store)')
  .option('--connections <file>', 'connections file (env GPUFLOW_CONNECTIONS)', defaultConnectionsFile())
  .option('--ssh-key <file>', 'SSH private key (created if missing)', join(gpuflowHome(), 'dev', 'ssh', 'id_ed25519'))
  .action(async (o: { connections: string; sshKey: string }) => {
    const temporal = temporalConfigFromEnv(temporalOverrides());
    const connections = loadConnections(o.connections);
    if (connections.length === 0) throw new Error(`no provider connections in ${o.connections}: run \`gpuflow dev\` or add one`);
    const client = await connectClient(temporal);
    try {
      const added = await ensureSearchAttributes(client.connection as Connection, temporal.namespace);
      if (added.length) console.error(`registered search attributes: ${added.join(', ')}`);
    } catch (e) {
      console.error(`warning: could not check/register search attributes (${rootMessage(e as Error)}); register the Gpuflow* search attributes so the Web UI can filter workloads`);
    } finally {
      await client.connection.close();
    }
    const connection = await connectWorker(temporal);
    const registry = ProviderRegistry.fromConnections(connections);
    const worker = await createGpuflowWorker({ connection, temporal, registry, sshKey: loadOrCreateSshKey(o.sshKey) });
    // One catalog sync schedule per connection this worker serves (idempotent).
    for (const s of await ensureCatalogSchedulesAt(temporal, registry)) {
      if (s.outcome === 'failed') console.error(`warning: catalog sync schedule ${s.scheduleId} not ensured (${s.error}); routing reads ${s.connection} live`);
    }
    process.once('SIGINT', () => worker.shutdown());
    process.once('SIGTERM', () => worker.shutdown());
    await worker.run();
    await connection.close();
  });

program
  .command('run')
  .description('launch a workload from a YAML spec or a recipe and follow it to the end')
  .argument('<spec>', 'workload spec file (YAML) or recipe name (see `gpuflow recipes list`)')
  .option('-p, --param <key=value>', 'a recipe parameter (repeatable)', collectParam)
  .option('--recipes-dir <dir>', 'also look for recipes here (repeatable)', collectList)
  .option('--name <name>', 'override the name')
  .option('--gpu <model[:count]>', 'override the GPU, e.g. H100:8', parseGpuFlag)
  .option('--spot <policy>', 'never | allow | only')
  .option('--max-price <usd>', 'maximum price per hour')
  .option('--project <project>')
  .option('-d, --detach', 'start and return the workload ID')
  .option('--json', 'machine-readable output')
  .action(async (file: string, o: { name?: string; gpu?: { classes: string[]; count: number }; spot?: string; maxPrice?: string; project?: string; detach?: boolean; json?: boolean; param?: Record<string, string>; recipesDir?: string[] }) => {
    const spec = loadRunTarget(file, { params: o.param ?? {}, recipesDir: o.recipesDir });
    if (o.name) spec.name = o.name;
    if (!o.gpu && !workloadNamesGpu(spec)) {
      // The connections' defaultGpu (see ./defaultGpu.ts), from the file the worker reads by default.
      const choice = chooseDefaultGpu(spec, loadConnections(defaultConnectionsFile()));
      if (choice) {
        spec.gpu = { classes: choice.gpu.classes, count: choice.gpu.count };
        if (!o.json) console.error(`no GPU named: using ${choice.gpu.classes.join('|')}:${choice.gpu.count}, the default GPU of ${choice.from.join(', ')}`);
      }
    }
    if (o.gpu) spec.gpu = { ...((spec.gpu as object) ?? {}), ...o.gpu };
    if (o.spot) spec.spot = o.spot;
    if (o.maxPrice) spec.maxPricePerHour = o.maxPrice;
    if (o.project) spec.project = o.project;
    await withClient(async (c) => {
      const handle = await c.launch(spec);
      if (o.detach) {
        console.log(o.json ? JSON.stringify({ workloadId: handle.workloadId }) : handle.workloadId);
        return;
      }
      if (!o.json) console.log(`workload ${handle.workloadId}  (Web UI: ${uiLink(handle.workloadId)})`);
      const r = await followWorkload(handle, (l) => !o.json && console.log(l));
      if (o.json) console.log(JSON.stringify(r.result ?? { workloadId: handle.workloadId, error: rootMessage(r.error!), status: r.last }));
      if (r.error) process.exitCode = 1;
    });
  });

program
  .command('ps')
  .description('list workloads')
  .option('--project <project>')
  .option('--state <state>')
  .option('--limit <n>', 'at most this many', '50')
  .option('--json')
  .action(async (o: { project?: string; state?: string; limit: string; json?: boolean }) => {
    await withClient(async (c) => {
      const rows = await c.list({ ...(o.project ? { project: o.project } : {}), ...(o.state ? { state: o.state } : {}), limit: Number(o.limit) });
      if (o.json) return console.log(JSON.stringify(rows));
      console.log(['WORKLOAD'.padEnd(36), 'STATE'.padEnd(22), 'STATUS'.padEnd(11), 'PROJECT'.padEnd(12), 'STARTED'].join(' '));
      for (const r of rows) {
        console.log([r.workloadId.padEnd(36), r.state.padEnd(22), r.status.padEnd(11), (r.project ?? '').padEnd(12), r.startTime.toISOString()].join(' '));
      }
    });
  });

program
  .command('status')
  .argument('<workloadId>')
  .option('--json')
  .description("a workload's state, offer, instance, cost so far")
  .action(async (id: string, o: { json?: boolean }) => {
    await withClient(async (c) => {
      const st = await c.handle(id).status();
      console.log(o.json ? JSON.stringify(st) : formatStatus(st));
    });
  });

program
  .command('logs')
  .argument('<workloadId>')
  .option('-n, --lines <n>', 'last N lines', '100')
  .description("the job's output (read from the instance over SSH)")
  .action(async (id: string, o: { lines: string }) => {
    await withClient(async (c) => {
      process.stdout.write(await c.handle(id).logs(Number(o.lines)));
    });
  });

program
  .command('stop')
  .argument('<workloadId>')
  .option('--reason <text>', 'why', 'requested from the CLI')
  .description('stop gracefully: SIGTERM to the job, grace period, terminate the instance')
  .action(async (id: string, o: { reason: string }) => {
    await withClient(async (c) => {
      const state = await c.handle(id).stop(o.reason);
      console.log(`${id}: ${state}`);
    });
  });

registerOffersCommands(program);
registerBudgetCommands(program, withClient);
registerRecipesCommands(program);
registerScheduleCommands(program);
registerReplayCommand(program);
registerProvidersCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof InvalidWorkloadSpecError || e instanceof InvalidBudgetError) console.error(e.message);
  else console.error(`gpuflow: ${rootMessage(e as Error)}`);
  process.exit(process.exitCode && process.exitCode !== 0 ? process.exitCode : 1);
});
