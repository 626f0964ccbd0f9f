/**
 * bench:storms: provider 503 storms at three stages of a workload, at the bar of issue 18 (2 minutes
 * each): on create (POST /v1/instances), on terminate (DELETE /v1/instances/…), and on every route
 * of the provider's API while the job runs. Real dev server, the local cloud, an in-process worker.
 * Every workload must succeed with exactly one instance and none left running; reported beside the
 * floor (the same job with no storm) is each workload's wall time and how long after the storm's
 * end it finished (what the durable retries cost on top of the storm).
 *
 *   npm run bench:storms [-- --storm-s 120]
 */
import { parseArgs } from 'node:util';
import { startTestEnv, waitFor, type TestEnv } from '../test/helpers/environment.js';
import type { LocalFaultsInput } from '../src/providers/local/index.js';

const { values } = parseArgs({ options: { 'storm-s': { type: 'string', default: '120' } } });
const STORM_MS = Number(values['storm-s']) * 1000;
const JOB_S = 5;

interface Row {
  scenario: string;
  outcome: string;
  instances: number;
  leftRunning: number;
  wallS: number;
  afterStormS: number | undefined;
}

async function scenario(env: TestEnv, name: string, storm: { when: 'launch' | 'running'; faults?: LocalFaultsInput['unavailable']; jobS: number }): Promise<Row> {
  const before = (await env.admin.stats()).createsAccepted;
  const t0 = Date.now();
  let stormEnds: number | undefined;
  const start = async () => {
    if (!storm.faults) return;
    await env.admin.setFaults({ unavailable: { ...storm.faults, forMs: STORM_MS } });
    stormEnds = Date.now() + STORM_MS;
  };
  if (storm.when === 'launch') await start();
  const wl = await env.client.launch({ name: `storm-bench-${name.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '').slice(0, 40)}`, command: `sleep ${storm.jobS}`, gpu: { classes: ['L4'] } });
  if (storm.when === 'running') {
    await waitFor('running', async () => (await wl.status()).state === 'running', 120_000, 100);
    await start();
  }
  const r = await wl.result().catch((e: unknown) => ({ outcome: `failed: ${(e as Error).message}` }));
  const end = Date.now();
  const stats = await env.admin.stats();
  return {
    scenario: name,
    outcome: r.outcome,
    instances: stats.createsAccepted - before,
    leftRunning: stats.running,
    wallS: (end - t0) / 1000,
    afterStormS: stormEnds !== undefined ? (end - stormEnds) / 1000 : undefined,
  };
}

const env = await startTestEnv();
try {
  await env.startWorker();
  const rows: Row[] = [];
  rows.push(await scenario(env, 'floor (no storm)', { when: 'launch', jobS: JOB_S }));
  rows.push(await scenario(env, 'storm on create', { when: 'launch', jobS: JOB_S, faults: { methods: ['POST'], paths: ['/v1/instances'], retryAfterSeconds: 5 } }));
  rows.push(await scenario(env, 'storm on terminate', { when: 'running', jobS: JOB_S, faults: { methods: ['DELETE'], paths: ['/v1/instances'], retryAfterSeconds: 5 } }));
  rows.push(await scenario(env, 'storm on every route while the job runs', { when: 'running', jobS: STORM_MS / 1000 + JOB_S, faults: { retryAfterSeconds: 5 } }));
  console.log(`\nbench:storms: ${STORM_MS / 1000} s of HTTP 503 (Retry-After: 5) per storm, ${JOB_S} s jobs (the every-route job outlasts its storm by ${JOB_S} s)\n`);
  console.log('scenario                                   outcome     instances  left running  wall (s)  after storm end (s)');
  for (const r of rows) {
    console.log(`${r.scenario.padEnd(42)} ${r.outcome.padEnd(11)} ${String(r.instances).padStart(9)}  ${String(r.leftRunning).padStart(12)}  ${r.wallS.toFixed(1).padStart(8)}  ${r.afterStormS === undefined ? '-' : r.afterStormS.toFixed(1)}`);
  }
  const bad = rows.filter((r) => r.outcome !== 'succeeded' || r.instances !== 1 || r.leftRunning !== 0);
  if (bad.length) {
    console.error(`FAILED: ${bad.map((r) => r.scenario).join(', ')}`);
    process.exitCode = 1;
  }
} finally {
  await env.teardown();
}
