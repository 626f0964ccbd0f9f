/**
 * bench:restarts: kill -9 of the Temporal dev server and of the local cloud daemon while jobs run,
 * each restarted at once on the same port with the same state (the server's SQLite file, the
 * daemon's data dir). Every workload must finish with one instance, and none may be left running.
 * Reports how long the workloads took against the same jobs with nothing killed (the floor).
 *
 *   npm run bench:restarts [-- --workloads 6]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { GpuflowClient } from '../src/client/gpuflowClient.js';
import { writeConnections } from '../src/cli/devEnvironment.js';
import { nodeEntryArgs } from '../src/cli/nodeEntry.js';
import { temporalConfigFromEnv } from '../src/config/temporalConfig.js';
import { LocalCloudAdmin } from '../src/providers/local/index.js';
import { loadOrCreateSshKey } from '../src/ssh/keyStore.js';
import { freePort, startDevServer, type DevServer } from '../src/temporal/devServer.js';
import { killHard, waitFor } from '../test/helpers/environment.js';
import { TEST_CATALOG } from '../test/helpers/testCatalog.js';

const { values } = parseArgs({ options: { workloads: { type: 'string', default: '6' } } });
const N = Number(values.workloads);
const JOB_S = 30;

const dir = mkdtempSync(join(tmpdir(), 'gpuflow-restarts-'));
const dbFile = join(dir, 'temporal.sqlite');
const dataDir = join(dir, 'cloud');
const tokenFile = join(dir, 'token');
const catalogFile = join(dir, 'catalog.yaml');
writeFileSync(tokenFile, randomBytes(16).toString('hex'), { mode: 0o600 });
writeFileSync(catalogFile, stringify(TEST_CATALOG));
const token = (await import('node:fs')).readFileSync(tokenFile, 'utf8').trim();
const serverPort = await freePort();
const cloudPort = await freePort();
const cloudUrl = `http://127.0.0.1:${cloudPort}`;
const connectionsFile = join(dir, 'connections.yaml');
writeConnections(connectionsFile, [{ kind: 'local', name: 'local', url: cloudUrl, tokenFile }]);
const sshKeyFile = join(dir, 'ssh', 'id_ed25519');
mkdirSync(join(dir, 'ssh'), { recursive: true });
loadOrCreateSshKey(sshKeyFile);

async function startDaemon(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [...nodeEntryArgs('providers/local/daemon/main'), '--data-dir', dataDir, '--port', String(cloudPort), '--token-file', tokenFile, '--catalog', catalogFile, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  if (!first.includes('"url"')) throw new Error(`local cloud daemon said: ${first}`);
  return child;
}
const startServer = () => startDevServer({ dbFile, port: serverPort, headless: true });

let server: DevServer = await startServer();
let daemon = await startDaemon();
const temporal = temporalConfigFromEnv({ address: server.address, namespace: server.namespace, taskQueue: `restarts-${randomBytes(3).toString('hex')}` });
const env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace, GPUFLOW_TASK_QUEUE: temporal.taskQueue, GPUFLOW_HOME: join(dir, 'home'), GPUFLOW_LOG_LEVEL: 'warn' };
const worker = spawn(process.execPath, [join(import.meta.dirname, '..', 'dist', 'cli', 'main.js'), 'worker', '--connections', connectionsFile, '--ssh-key', sshKeyFile], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const client = await GpuflowClient.connect(temporal);
const admin = new LocalCloudAdmin({ url: cloudUrl, token });

async function batch(name: string, disrupt: () => Promise<void>): Promise<number> {
  const t0 = Date.now();
  const createsBefore = (await admin.stats()).createsAccepted;
  const wls = await Promise.all(Array.from({ length: N }, (_, i) => client.launch({ name: `${name}-${i}`, command: `sleep ${JOB_S}; echo done`, gpu: { classes: ['L4'] } })));
  await waitFor('every job running', async () => (await Promise.all(wls.map((w) => w.status()))).every((s) => s.state === 'running'), 180_000, 500);
  await disrupt();
  const results = await Promise.all(wls.map((w) => w.result()));
  const ms = Date.now() - t0;
  const bad = results.filter((r) => r.outcome !== 'succeeded');
  if (bad.length) throw new Error(`${name}: ${bad.length} workload(s) did not succeed: ${bad.map((r) => r.outcome).join(', ')}`);
  const stats = await waitFor('no instance left running', async () => {
    const s = await admin.stats();
    return s.running === 0 ? s : undefined;
  }, 60_000, 500);
  if (stats.createsAccepted - createsBefore !== N) throw new Error(`${name}: ${stats.createsAccepted - createsBefore} instances for ${N} workloads`);
  return ms;
}

try {
  const floor = await batch('calm', async () => undefined);
  console.log(`nothing killed: ${N} workloads (sleep ${JOB_S}) in ${(floor / 1000).toFixed(1)} s`);
  const serverKill = await batch('server-kill', async () => {
    server.process.kill('SIGKILL');
    await once(server.process, 'exit');
    await new Promise((r) => setTimeout(r, 3_000));
    server = await startServer();
  });
  console.log(`Temporal dev server kill -9 + restart (same SQLite file) mid-job: ${N}/${N} succeeded in ${(serverKill / 1000).toFixed(1)} s, 0 orphans`);
  const daemonKill = await batch('daemon-kill', async () => {
    await killHard(daemon);
    await new Promise((r) => setTimeout(r, 3_000));
    daemon = await startDaemon();
  });
  console.log(`local cloud daemon kill -9 + restart (same data dir) mid-job: ${N}/${N} succeeded in ${(daemonKill / 1000).toFixed(1)} s, 0 orphans`);
} finally {
  await killHard(worker).catch(() => undefined);
  await client.close().catch(() => undefined);
  daemon.kill('SIGTERM');
  await once(daemon, 'exit').catch(() => undefined);
  await server.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
