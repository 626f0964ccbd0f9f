/**
 * Live migration on the real dev server and the local cloud's sshd instances: a price drop injected
 * through the admin catalog API moves a running job (rebalance), a placement update that removes
 * its country moves it (residency), and `gpuflow migrate` moves it by hand. Each move is
 * make-before-break: the job keeps working on the old instance while the new one boots and is
 * bootstrapped, then checkpoints on SIGTERM and resumes on the new one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCredential } from '../../../src/providers/local/index.js';
import type { WorkloadStatus } from '../../../src/workload/messages.js';
import { runGpuflow } from '../../helpers/cli.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { TEST_CATALOG } from '../../helpers/testCatalog.js';

let env: TestEnv;
let ckptRoot: string;

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
  ckptRoot = join(env.dir, 'checkpoints');
  mkdirSync(ckptRoot, { recursive: true });
});
after(async () => {
  await env?.teardown();
});

/**
 * Checkpoints its step every tick (and so on SIGTERM), logs `tick <attempt> <ms> <step>`, and resumes
 * from the checkpoint: a test can tell when each instance worked and whether progress was kept. It
 * works until the test creates `finish` in its checkpoint directory.
 */
export const MIGRATABLE_JOB = () =>
  [
    'mkdir -p "$GPUFLOW_CHECKPOINT_DIR"',
    'i=$(cat "$GPUFLOW_CHECKPOINT_DIR/step" 2>/dev/null || echo 0)',
    'echo "attempt $GPUFLOW_ATTEMPT starts at $i" >> "$GPUFLOW_CHECKPOINT_DIR/journal"',
    // Written aside and renamed, as a real job checkpoints: SIGTERM between the truncation and the
    // write of `echo > step` would leave an empty checkpoint, and the next run would start over.
    'while [ ! -e "$GPUFLOW_CHECKPOINT_DIR/finish" ]; do i=$((i+1)); echo "$i" > "$GPUFLOW_CHECKPOINT_DIR/step.tmp"; mv "$GPUFLOW_CHECKPOINT_DIR/step.tmp" "$GPUFLOW_CHECKPOINT_DIR/step"; echo "tick $GPUFLOW_ATTEMPT $(date +%s%3N) $i" >> "$GPUFLOW_CHECKPOINT_DIR/ticks"; sleep 0.1; done',
    'echo "finished at $i" >> "$GPUFLOW_CHECKPOINT_DIR/journal"',
  ].join('\n');

const dirOf = (id: string) => join(ckptRoot, id.replace(/[^A-Za-z0-9._-]/g, '_'));
const readLines = (id: string, f: string) => (existsSync(join(dirOf(id), f)) ? readFileSync(join(dirOf(id), f), 'utf8').trim().split('\n') : []);
const ticks = (id: string) => readLines(id, 'ticks').map((l) => l.split(' ')).map(([, attempt, at, step]) => ({ attempt: Number(attempt), at: Number(at), step: Number(step) }));

async function liveInstances() {
  const client = await new LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  return (await client.listInstances({})).filter((i) => i.status.lifecycleStatus !== 'terminated');
}

async function running(wl: { status(): Promise<WorkloadStatus> }, minStep: number, id: string) {
  return waitFor('the job running and checkpointing', async () => {
    const s = await wl.status();
    return s.state === 'running' && (ticks(id).at(-1)?.step ?? 0) >= minStep ? s : undefined;
  }, 240_000);
}

/** Once the job works on its second instance: let it finish. */
async function finishAfterMove(wl: { status(): Promise<WorkloadStatus>; workloadId: string }) {
  await waitFor('the job working on the new instance', async () => ((await wl.status()).migration?.moves ?? 0) >= 1 && ticks(wl.workloadId).some((t) => t.attempt === 2), 240_000);
  writeFileSync(join(dirOf(wl.workloadId), 'finish'), '');
}

/** The move's facts from the result and the job's own ticks. */
function checkMove(id: string, attempts: WorkloadStatus['attempts'], reason: string) {
  assert.equal(attempts.length, 2, JSON.stringify(attempts));
  const [old, moved] = attempts as [WorkloadStatus['attempts'][0], WorkloadStatus['attempts'][0]];
  assert.equal(old.outcome, 'migrated');
  assert.match(old.reason ?? '', new RegExp(`^${reason}: moved to local/${moved.location}`));
  assert.equal(moved.move, reason);
  assert.equal(moved.outcome, 'completed');
  const t = ticks(id);
  const lastOld = t.filter((x) => x.attempt === 1).at(-1)!;
  const firstNew = t.find((x) => x.attempt === 2)!;
  assert.ok(lastOld.at >= Date.parse(moved.runningAt!), 'make-before-break: the job still worked on the old instance after the new one was running');
  assert.ok(Date.parse(old.terminatedAt!) >= lastOld.at - 50, 'the old instance ended after the job stopped there');
  // SIGTERM may land between the checkpoint write and its tick line: then the new run starts one further.
  assert.ok(firstNew.step > lastOld.step && firstNew.step <= lastOld.step + 2, `the job resumed from its SIGTERM checkpoint, nothing lost or repeated (${lastOld.step} → ${firstNew.step})`);
  assert.match(readLines(id, 'journal').at(-1) ?? '', /^finished at \d+$/);
  return { downtimeMs: firstNew.at - lastOld.at };
}

describe('live migration', () => {
  it('rebalance: a price drop in another region moves the running job there, and it pays', async () => {
    const wl = await env.client.launch({
      name: 'rebalance',
      command: MIGRATABLE_JOB(),
      gpu: { classes: ['L4'] },
      checkpoint: { dir: ckptRoot },
      placement: { rebalance: { interval: '2s' } },
    });
    const st = await running(wl, 5, wl.workloadId);
    assert.equal(st.offer?.location, 'us-east');
    await waitFor('a rebalance check that stays', async () => (await wl.status()).migration?.lastCheck?.move === false || undefined, 120_000);
    assert.match((await wl.status()).migration!.lastCheck!.why, /not cheaper than 0\.80/);
    // The operator's price drop: eu-north's L4 halves, well past the 10 % threshold and the move's cost.
    await env.admin.setCatalog({ ...TEST_CATALOG, instanceTypes: TEST_CATALOG.instanceTypes.map((t) => (t.type === 'gpu_1x_l4_eu' ? { ...t, pricePerHour: '0.40' } : t)) });
    try {
      await finishAfterMove(wl);
      const r = await wl.result();
      assert.equal(r.outcome, 'succeeded');
      assert.equal(r.offer?.location, 'eu-north');
      assert.equal(r.offer?.pricePerHour.amount, 40);
      const { downtimeMs } = checkMove(wl.workloadId, r.attempts, 'rebalance');
      assert.match(r.attempts[1]!.reason ?? '', /saves 0\.40\/h/);
      assert.ok(downtimeMs < 15_000, `downtime ${downtimeMs} ms`);
      const end = await wl.status();
      assert.equal(end.migration?.moves, 1);
      assert.equal(end.costBasis.length, 2, 'both instances are billed');
      assert.ok(end.costBasis.every((b) => b.terminatedAt));
      assert.deepEqual(await liveInstances(), []);
    } finally {
      await env.admin.setCatalog(TEST_CATALOG);
    }
  });

  it('residency: removing its country with an update moves the job within the deadline', async () => {
    const wl = await env.client.launch({
      name: 'residency',
      command: MIGRATABLE_JOB(),
      gpu: { classes: ['L4'] },
      checkpoint: { dir: ckptRoot },
      placement: { residencyDeadline: '2m' },
    });
    const st = await running(wl, 5, wl.workloadId);
    assert.equal(st.offer?.country, 'USA');
    await assert.rejects(wl.updatePlacement({ countries: ['XX'] }), (e: Error) => /placement\.countries\.0: not an ISO 3166-1 country code/.test(String((e as Error & { cause?: Error }).cause?.message)));
    const said = await wl.updatePlacement({ countries: ['DE'] });
    assert.match(said, /country USA is no longer in placement\.countries \(DEU\): the job moves before /);
    await finishAfterMove(wl);
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.offer?.location, 'eu-central');
    assert.equal(r.offer?.country, 'DEU');
    checkMove(wl.workloadId, r.attempts, 'residency');
    const end = await wl.status();
    assert.equal(end.migration?.residency, undefined, 'the deadline is cleared by the move');
    assert.deepEqual(await liveInstances(), []);
  });

  it('by hand: gpuflow migrate --to moves the job to the named region, and refuses what it cannot do', async () => {
    const wl = await env.client.launch({ name: 'by-hand', command: MIGRATABLE_JOB(), gpu: { classes: ['L4'] }, checkpoint: { dir: ckptRoot } });
    await running(wl, 5, wl.workloadId);
    const nowhere = await wl.migrate('local/nowhere');
    assert.deepEqual(nowhere, { moving: false, why: 'no satisfying offer with capacity on local/nowhere' });
    const moved = await runGpuflow(env.childEnv, ['migrate', wl.workloadId, '--to', 'local/eu-north', '--wait']);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /moving: asked by hand: gpu_1x_l4_eu on local\/eu-north at 0\.90\/h/);
    assert.match(moved.stdout, /running on local\/eu-north/);
    await finishAfterMove(wl);
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    checkMove(wl.workloadId, r.attempts, 'manual');
    assert.deepEqual(await liveInstances(), []);
  });
});
