/**
 * Shows that workloads read well in the Temporal Web UI: starts the dev environment with its UI
 * (dev server, local cloud, worker), runs workloads, and takes screenshots with headless Chromium
 * (Debian's `chromium`; `apt-get install chromium`) into docs/ui/:
 *
 *   workflows.png          the workflow list filtered by gpuflow's search attributes
 *   workload-history.png   one workload's history: its activities with their summaries
 *   workload-search-attributes.png   the same workload's search attributes (GpuflowState, GpuflowProvider...)
 *
 *   node --import tsx scripts/ui-screenshot.ts [--out docs/ui] [--chromium /usr/bin/chromium]
 *
 * Not part of CI (it needs Chromium and takes a minute).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GpuflowClient } from '../src/client/gpuflowClient.js';
import { startDevEnvironment } from '../src/cli/devEnvironment.js';
import { connectClient } from '../src/temporal/connect.js';
import { freePort } from '../src/temporal/devServer.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(import.meta.dirname, '..', 'docs', 'ui') },
    chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
  },
});

function screenshot(url: string, file: string, size = '1600,1000'): void {
  const profile = mkdtempSync(join(tmpdir(), 'gpuflow-chromium-'));
  try {
    // The flags a closed network needs: no background connections, no update checks, no sync.
    const r = spawnSync(
      values.chromium!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--window-size=${size}`,
        // The UI is a single-page app: give its API calls virtual time to finish before the shot.
        '--virtual-time-budget=20000',
        `--screenshot=${file}`,
        url,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (r.status !== 0) throw new Error(`chromium failed (${r.status}): ${r.stderr}`);
    console.log(`${file}  ${(statSync(file).size / 1024).toFixed(0)} KiB  ${url}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  execFileSync(values.chromium!, ['--version'], { stdio: 'inherit' });
  mkdirSync(values.out!, { recursive: true });
  const home = mkdtempSync(join(tmpdir(), 'gpuflow-ui-'));
  process.env.GPUFLOW_LOG_LEVEL ??= 'error';
  const port = await freePort();
  const env = await startDevEnvironment({ home, temporalPort: port, uiPort: await freePort(), headless: false, persist: false });
  try {
    const gf = new GpuflowClient(await connectClient(env.temporal), env.temporal.taskQueue);
    const ui = `${env.server.uiUrl}/namespaces/${env.temporal.namespace}`;
    console.log(`Web UI ${env.server.uiUrl}`);
    // A finished recipe job, a job that failed over, and one still running.
    const done = await gf.launch({ name: 'llama-eval', recipe: { name: 'smoke-test', params: { seconds: 2 } }, gpu: { classes: ['L4'] }, spot: 'never', project: 'research' });
    const failing = await gf.launch({ name: 'preprocess', command: 'echo tokenizing; exit 3', gpu: { classes: ['RTX4090', 'L4'] }, project: 'research' });
    await done.result();
    await failing.result().catch(() => undefined);
    const running = await gf.launch({ name: 'finetune', command: 'echo 85 > "$GPUFLOW_GPU_UTIL_FILE"; sleep 120', gpu: { classes: ['A100', 'H100'] }, project: 'research' });
    for (let i = 0; i < 120 && (await running.status()).state !== 'running'; i++) await new Promise((r) => setTimeout(r, 500));
    await new Promise((r) => setTimeout(r, 2_000)); // visibility catches up

    const query = encodeURIComponent(`GpuflowProject="research"`);
    screenshot(`${ui}/workflows?query=${query}`, join(values.out!, 'workflows.png'), '1600,800');
    const runId = (await done.describe()).runId;
    const wf = `${ui}/workflows/${encodeURIComponent(done.workloadId)}/${runId}`;
    screenshot(`${wf}/history`, join(values.out!, 'workload-history.png'), '1600,1400');
    screenshot(`${wf}/search-attributes`, join(values.out!, 'workload-search-attributes.png'), '1600,900');

    await running.cancel();
    await running.result().catch(() => undefined);
    await gf.close();
  } finally {
    await env.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
