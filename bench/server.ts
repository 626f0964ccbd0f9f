/**
 * bench:server: the gpuflow server's overhead, side by side with its floor in one run.
 *
 *  1. Launch: the same workload through POST /v1/workloads (token auth, project role check,
 *     owner row, audit record) and straight through GpuflowClient.launch, interleaved so machine
 *     load hits both alike. Ratio of medians (target ≤ 1.05×).
 *  2. List: GET /v1/workloads with filters (project + state, tenant-wide) over 10,000 workloads
 *     in Temporal visibility; p50/p99 (target p99 ≤ 200 ms).
 *
 * No worker runs: launches are accepted by Temporal and stay pending, which is what is timed.
 *
 *   npm run bench:server [-- --launches 200 --workloads 10000 --lists 200]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startTestEnv } from '../test/helpers/environment.js';
import { startServerFixture } from '../test/helpers/serverFixture.js';

const { values } = parseArgs({
  options: {
    launches: { type: 'string', default: '200' },
    workloads: { type: 'string', default: '10000' },
    lists: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '32' },
  },
});
const LAUNCHES = Number(values.launches);
const WORKLOADS = Number(values.workloads);
const LISTS = Number(values.lists);
const C = Number(values.concurrency);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const SPEC = { command: 'sleep 1', gpu: { classes: ['L4'] } };

const env = await startTestEnv();
const fx = await startServerFixture(env, 'pglite:memory', { livePollMs: 0 });
try {
  const http = fx.as.ana!;
  // Warm both paths (connections, token cache, JIT).
  for (let i = 0; i < 20; i++) {
    await http('POST', '/v1/workloads', { name: 'warm-http', project: 'ml', ...SPEC });
    await env.client.launch({ name: 'warm-direct', project: 'ml', tenant: 'acme', ...SPEC });
  }
  const viaHttp: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < LAUNCHES; i++) {
    const order = i % 2 === 0 ? ['http', 'direct'] : ['direct', 'http'];
    for (const how of order) {
      const t0 = performance.now();
      if (how === 'http') {
        const r = await http('POST', '/v1/workloads', { name: 'bench-http', project: 'ml', ...SPEC });
        if (r.status !== 201) throw new Error(`launch failed: ${r.status} ${JSON.stringify(r.body)}`);
        viaHttp.push(performance.now() - t0);
      } else {
        await env.client.launch({ name: 'bench-direct', project: 'ml', tenant: 'acme', ...SPEC });
        direct.push(performance.now() - t0);
      }
    }
  }
  const ratio = pct(viaHttp, 50) / pct(direct, 50);
  console.log(`launch (${LAUNCHES} each, interleaved): HTTP p50 ${pct(viaHttp, 50).toFixed(2)} ms p99 ${pct(viaHttp, 99).toFixed(2)} ms; Temporal client p50 ${pct(direct, 50).toFixed(2)} ms p99 ${pct(direct, 99).toFixed(2)} ms; ratio of medians ${ratio.toFixed(3)}x (target <= 1.05x)`);

  // Fill visibility to WORKLOADS workloads across three projects (two tenants).
  const existing = 40 + 2 * LAUNCHES;
  // --lists 0: the launch figure only.
  let next = LISTS === 0 ? WORKLOADS : existing;
  const projects = [
    ['ml', 'acme'],
    ['vision', 'acme'],
    ['gx', 'globex'],
  ] as const;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < WORKLOADS) {
        const i = next++;
        const [project, tenant] = projects[i % 3]!;
        await env.client.launch({ name: `fill-${project}`, project, tenant, ...SPEC });
      }
    }),
  );
  console.log(`filled ${WORKLOADS} workloads in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // Visibility is eventually consistent: wait until it counts them all.
  for (;;) {
    const { count } = await env.client.temporal.workflow.count(`WorkflowType = 'workloadWorkflow'`);
    if (LISTS === 0 || count >= WORKLOADS) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  // ana: member of ml; tara: admin of tenant acme (ml and vision).
  for (const [label, who, path] of (LISTS === 0 ? [] : [
    ['project + state filter, 100 rows', 'ana', '/v1/workloads?project=ml&state=pending&limit=100'],
    ['tenant-wide (2 projects), 100 rows', 'tara', '/v1/workloads?tenant=acme&limit=100'],
    ['project, 1000 rows', 'tara', '/v1/workloads?project=vision&limit=1000'],
  ]) as readonly (readonly [string, 'ana' | 'tara', string])[]) {
    const caller = fx.as[who]!;
    const times: number[] = [];
    for (let i = 0; i < LISTS; i++) {
      const s = performance.now();
      const r = await caller('GET', path);
      if (r.status !== 200) throw new Error(`list failed: ${r.status}`);
      times.push(performance.now() - s);
    }
    console.log(`list over ${WORKLOADS} workloads, ${label} as ${who} (${path}): p50 ${pct(times, 50).toFixed(1)} ms p99 ${pct(times, 99).toFixed(1)} ms (target p99 <= 200 ms)`);
  }
} finally {
  await fx.close();
  await env.teardown();
}
