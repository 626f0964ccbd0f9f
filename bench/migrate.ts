/**
 * bench:migrate: the downtime of a live move (make-before-break: `migrate`, the same path a
 * rebalance or residency move takes) side by side with its peer, the break-before-make path a
 * preemption takes (recovery to a new instance), on the local cloud with the real dev server,
 * worker and sshd instances. Median of N runs each.
 *
 *   downtime   the job's last progress tick on the old instance → its first on the new one
 *              (the job ticks every 100 ms and checkpoints each tick; both are its own clock)
 *   move       the request (or the preemption) → the job ticking on the new instance
 *
 *   npm run bench:migrate [-- --runs 5]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startTestEnv, waitFor } from '../test/helpers/environment.js';
import { TEST_CATALOG } from '../test/helpers/testCatalog.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(values.runs);

const env = await startTestEnv({ catalog: { ...TEST_CATALOG, instanceTypes: TEST_CATALOG.instanceTypes.map((t) => ({ ...t, capacity: Object.fromEntries(Object.keys(t.capacity).map((r) => [r, 100])) })) } });
const ckpt = join(env.dir, 'checkpoints');
mkdirSync(ckpt, { recursive: true });
const JOB = [
  'mkdir -p "$GPUFLOW_CHECKPOINT_DIR"',
  'i=$(cat "$GPUFLOW_CHECKPOINT_DIR/step" 2>/dev/null || echo 0)',
  'while [ ! -e "$GPUFLOW_CHECKPOINT_DIR/finish" ]; do i=$((i+1)); echo "$i" > "$GPUFLOW_CHECKPOINT_DIR/step"; echo "tick $GPUFLOW_ATTEMPT $(date +%s%3N) $i" >> "$GPUFLOW_CHECKPOINT_DIR/ticks"; sleep 0.1; done',
].join('\n');
const dirOf = (id: string) => join(ckpt, id.replace(/[^A-Za-z0-9._-]/g, '_'));
const ticks = (id: string) => {
  const f = join(dirOf(id), 'ticks');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([, a, at]) => ({ attempt: Number(a), at: Number(at) })) : [];
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function once(kind: 'migrate' | 'preempt', i: number): Promise<{ downtime: number; move: number }> {
  // H100 spot: both regions have it, so the recovery has somewhere to go and the move a target.
  const wl = await env.client.launch({ name: `${kind}-${i}`, command: JOB, gpu: { classes: ['H100'] }, spot: 'only', checkpoint: { dir: ckpt } });
  const st = await waitFor('job ticking', async () => {
    const s = await wl.status();
    return s.state === 'running' && ticks(wl.workloadId).length >= 5 ? s : undefined;
  }, 240_000);
  const other = st.offer!.location === 'us-east' ? 'eu-central' : 'us-east';
  const t0 = Date.now();
  if (kind === 'migrate') {
    const v = await wl.migrate(`local/${other}`);
    if (!v.moving) throw new Error(`not moving: ${v.why}`);
  } else await env.admin.preempt(st.instance!.cloudId, 'bench');
  await waitFor('job ticking on the new instance', async () => ticks(wl.workloadId).some((t) => t.attempt === 2), 240_000, 50);
  const t1 = Date.now();
  writeFileSync(join(dirOf(wl.workloadId), 'finish'), '');
  await wl.result();
  const t = ticks(wl.workloadId);
  const lastOld = t.filter((x) => x.attempt === 1).at(-1)!.at;
  const firstNew = t.find((x) => x.attempt === 2)!.at;
  return { downtime: firstNew - lastOld, move: t1 - t0 };
}

try {
  await env.startWorker();
  const rows: Record<'migrate' | 'preempt', { downtime: number; move: number }[]> = { migrate: [], preempt: [] };
  for (let i = 0; i <= RUNS; i++) {
    for (const kind of ['migrate', 'preempt'] as const) {
      const r = await once(kind, i);
      if (i > 0) rows[kind].push(r); // the first round warms the worker up
      console.error(`${kind} ${i}: downtime ${r.downtime} ms, move ${r.move} ms`);
    }
  }
  console.log(`\nbench:migrate, ${RUNS} runs each, local cloud (boot ${TEST_CATALOG.bootDelayMs} ms, poll ${TEST_CATALOG.instancePollMs} ms), median ms:\n`);
  console.log('| path | job downtime | request → job working again |');
  console.log('|---|---:|---:|');
  console.log(`| live move (make-before-break, gpuflow migrate) | ${median(rows.migrate.map((r) => r.downtime))} | ${median(rows.migrate.map((r) => r.move))} |`);
  console.log(`| preemption recovery (break-before-make) | ${median(rows.preempt.map((r) => r.downtime))} | ${median(rows.preempt.map((r) => r.move))} |`);
} finally {
  await env.teardown();
}
