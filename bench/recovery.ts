/**
 * bench:recovery: time from an injected spot preemption to the job running again, on the local
 * cloud with the real dev server and worker; median of N runs, split into
 *
 *   detection      preemption → the workflow knows (the watcher polls at the provider's instance poll time)
 *   re-routing     detection → create of the replacement asked (terminate the lost instance, re-plan)
 *   create call    create asked → create answered (the provider's API)
 *   provisioning   create answered → instance running (the provider's own boot time, polled)
 *   bootstrap      running → job launched again (SSH, job install, watchdog)
 *
 * Orchestration overhead = everything except the provider's create call and provisioning.
 *
 *   npm run bench:recovery [-- --runs 10]
 */
import { parseArgs } from 'node:util';
import { startTestEnv, waitFor } from '../test/helpers/environment.js';
import { TEST_CATALOG } from '../test/helpers/testCatalog.js';
import type { WorkloadStatus } from '../src/workflows/messages.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const RUNS = Number(values.runs);

// Plenty of spot H100s in both regions, so every run has somewhere to recover to.
const catalog = {
  ...TEST_CATALOG,
  instanceTypes: TEST_CATALOG.instanceTypes.map((t) => ({ ...t, capacity: Object.fromEntries(Object.keys(t.capacity).map((r) => [r, 100])) })),
};
const env = await startTestEnv({ catalog });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const at = (iso: string | undefined, what: string) => {
  if (!iso) throw new Error(`missing ${what}`);
  return Date.parse(iso);
};

try {
  await env.startWorker();
  const pollMs = catalog.instancePollMs;
  const rows: { detection: number; rerouting: number; create: number; provisioning: number; bootstrap: number; total: number }[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const wl = await env.client.launch({ name: `recover-${i}`, command: 'sleep 600', gpu: { classes: ['H100'] }, spot: 'only' });
    const first = await waitFor('job running', async () => {
      const s = await wl.status();
      return s.state === 'running' && s.attempts[0]?.jobStartedAt ? s : undefined;
    }, 60_000);
    await new Promise((r) => setTimeout(r, 500)); // the job is really up, the watcher is polling
    const t0 = Date.now();
    await env.admin.preempt(first.instance!.cloudId, 'bench');
    const st: WorkloadStatus = await waitFor('job running again', async () => {
      const s = await wl.status();
      return s.attempts[1]?.jobStartedAt ? s : undefined;
    }, 120_000, 50);
    const lost = st.attempts[0]!;
    const next = st.attempts[1]!;
    const row = {
      detection: at(lost.interruptedAt, 'interruptedAt') - t0,
      rerouting: at(next.plannedAt, 'plannedAt') - at(lost.interruptedAt, 'interruptedAt'),
      create: at(next.createdAt, 'createdAt') - at(next.plannedAt, 'plannedAt'),
      provisioning: at(next.runningAt, 'runningAt') - at(next.createdAt, 'createdAt'),
      bootstrap: at(next.jobStartedAt, 'jobStartedAt') - at(next.runningAt, 'runningAt'),
      total: at(next.jobStartedAt, 'jobStartedAt') - t0,
    };
    await wl.stop('bench');
    await wl.result().catch(() => undefined);
    if (i === 0) continue; // warm-up: module loading, sshd host keys
    rows.push(row);
    console.log(`run ${i}: ${Object.entries(row).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
  }
  const m = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k]));
  const overhead = median(rows.map((r) => r.detection + r.rerouting + r.bootstrap));
  console.log(`\nmedian of ${rows.length} preemptions (local cloud: instance poll ${pollMs} ms, boot ${catalog.bootDelayMs} ms)`);
  console.log(`detection            ${m('detection')} ms   (target <= one poll interval, ${pollMs} ms)`);
  console.log(`re-routing           ${m('rerouting')} ms`);
  console.log(`create call          ${m('create')} ms   (provider API)`);
  console.log(`provisioning         ${m('provisioning')} ms   (provider boot, polled)`);
  console.log(`bootstrap            ${m('bootstrap')} ms`);
  console.log(`preemption → running ${m('total')} ms`);
  console.log(`orchestration overhead (detection + re-routing + bootstrap) ${overhead} ms   (target <= 2000 ms)`);
} finally {
  await env.teardown();
}
