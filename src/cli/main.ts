#!/usr/bin/env node
/** The gpuflow CLI. Every command validates its input at the boundary and prints JSON with --json. */
import { join } from 'node:path';
import type { Connection } from '@temporalio/client';
import { Command } from 'commander';
import { GpuflowClient } from '../client/gpuflowClient.js';
import { loadConnections } from '../config/connections.js';
import { gpuflowHome } from '../config/paths.js';
import { temporalConfigFromEnv } from '../config/temporalConfig.js';
import { connectClient } from '../temporal/connect.js';
import { ensureSearchAttributes } from '../temporal/searchAttributes.js';
import { InvalidWorkloadSpecError } from '../workload/spec.js';
import { InvalidBudgetError } from '../budget/config.js';
import { registerBudgetCommands } from './budget.js';
import { followWorkload, rootMessage } from './follow.js';
import { formatStatus } from './format.js';
import { registerWorkloadCommands } from './workloads.js';
import { readSpecFile } from './cliContext.js';
import { workloadsViewUrl } from './webUi.js';
import { registerOffersCommands } from './offers.js';
import { register as registerRecipesCommands } from './recipes.js';
import { register as registerReplayCommand } from './replay.js';
import { register as registerScheduleCommands } from './schedule.js';
import { register as registerSimulateCommand } from './simulate.js';
import { register as registerMigrateCommands } from './migrate.js';
import { registerProvidersCommands } from './providers.js';
import { defaultConnectionsFile } from '../config/connectionsFile.js';
import { registerServerCommands, startDevGpuflowServer } from './server.js';
import { registerInitCommand } from './init.js';

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

program
  .command('dev')
  .description('embedded default: Temporal dev server (Web UI on :8233), local cloud and a worker')
  .option('--port <port>', 'Temporal gRPC port', '7233')
  .option('--headless', 'no Web UI')
  .option('--from-skypilot <dir>', 'seed the local cloud from a SkyPilot catalog directory')
  .action(async (o: { port: string; headless?: boolean; fromSkypilot?: string }) => {
    // The worker and the dev server load only in the commands that run them (`ps`, `status`,
    // `logs`... start without @temporalio/worker): test/unit/cli/startup.test.ts.
    const { startDevEnvironment } = await import('./devEnvironment.js');
    const env = await startDevEnvironment({ home: join(gpuflowHome(), 'dev'), temporalPort: Number(o.port), headless: !!o.headless, ...(o.fromSkypilot ? { fromSkypilot: o.fromSkypilot } : {}) });
    console.log(`Temporal   ${env.server.address} (namespace ${env.server.namespace})`);
    if (env.server.uiUrl) console.log(`Web UI     ${env.server.uiUrl}\n           workloads only: ${workloadsViewUrl(env.server.uiUrl, env.server.namespace)}`);
    console.log(`local cloud ${env.localCloudUrl}`);
    console.log(`worker     task queue ${env.temporal.taskQueue}; connections in ${env.connectionsFile}`);
    const server = await startDevGpuflowServer({ gpuflow: new GpuflowClient(await connectClient(env.temporal), env.temporal.taskQueue), connectionsFile: env.connectionsFile, home: join(gpuflowHome(), 'dev'), ...(env.server.uiUrl ? { temporalUiUrl: env.server.uiUrl } : {}) });
    console.log('Ctrl-C to stop.');
    const stop = async () => {
      await server.close();
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
    const spec = readSpecFile(file);
    const { startDevEnvironment } = await import('./devEnvironment.js');
    console.log('starting Temporal dev server, local cloud and worker...');
    const env = await startDevEnvironment({ home: join(gpuflowHome(), 'dev'), temporalPort: Number(o.port), ...(o.fromSkypilot ? { fromSkypilot: o.fromSkypilot } : {}) });
    let failed = false;
    let workloadId: string | undefined;
    // Ctrl-C (or SIGTERM) before the workload has ended: the SDK's runtime stops the worker on
    // these signals, so following on would hang; stop everything and say what is left.
    const interrupted = async () => {
      console.log(
        `\ninterrupted: stopping Temporal, the local cloud and the worker${workloadId ? `; ${workloadId} had not ended: its history is kept in ${join(gpuflowHome(), 'dev')} and the next \`gpuflow dev\` picks it up again` : ''}`,
      );
      await env.stop().catch(() => undefined);
      process.exit(130);
    };
    const onSignal = () => void interrupted();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const c = new GpuflowClient(await connectClient(env.temporal), env.temporal.taskQueue);
      const handle = await c.launch(spec);
      workloadId = handle.workloadId;
      console.log(`workload ${handle.workloadId}`);
      // The job's output under the state lines, as `gpuflow run` shows it.
      const r = await followWorkload(handle, (l) => console.log(l), { output: true, sshKey: env.sshKeyFile });
      failed = !!r.error;
      if (r.last) console.log(`\n${formatStatus(r.last, { sshKey: env.sshKeyFile })}`);
      // With --exit the UI stops with the server: a link to it would lead nowhere.
      if (!o.exit) {
        console.log(`\nopen it in the Temporal Web UI:`);
        console.log(`  ${env.server.uiUrl}/namespaces/${env.temporal.namespace}/workflows/${encodeURIComponent(handle.workloadId)}`);
        console.log(`  all workloads (gpuflow's own entities and sync runs left out): ${workloadsViewUrl(env.server.uiUrl ?? '', env.temporal.namespace)}`);
      }
      await c.close();
    } catch (e) {
      await env.stop();
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (o.exit) {
      await env.stop();
      console.log(`\nstopped Temporal (and its Web UI), the local cloud and the worker; the history is kept in ${join(gpuflowHome(), 'dev')}`);
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
    const { bootstrapWorker } = await import('../worker/bootstrap.js');
    const { worker, connection } = await bootstrapWorker({ temporal, connections, sshKeyFile: o.sshKey, warn: (m) => console.error(`warning: ${m}`) });
    process.once('SIGINT', () => worker.shutdown());
    process.once('SIGTERM', () => worker.shutdown());
    await worker.run();
    await connection.close();
  });

registerWorkloadCommands(program);
registerOffersCommands(program);
registerBudgetCommands(program, withClient);
registerRecipesCommands(program);
registerScheduleCommands(program);
registerReplayCommand(program);
registerSimulateCommand(program);
registerMigrateCommands(program);
registerProvidersCommands(program);
registerServerCommands(program);
registerInitCommand(program);

// A key as a flag value: refuse before commander would echo it back in its error.
if (process.argv.some((a) => a === '--api-key' || a.startsWith('--api-key='))) {
  console.error('error: there is no --api-key: a key given as a flag value would be kept in shell history; use --api-key-stdin (e.g. `pass lambda | gpuflow providers add lambda --name NAME --api-key-stdin`) or --api-key-env VAR');
  process.exit(1);
}

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof InvalidWorkloadSpecError || e instanceof InvalidBudgetError) console.error(e.message);
  else console.error(`gpuflow: ${rootMessage(e as Error)}`);
  process.exit(process.exitCode && process.exitCode !== 0 ? process.exitCode : 1);
});
