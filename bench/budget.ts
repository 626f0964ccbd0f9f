/**
 * bench:budget: reservation throughput and latency through ONE budget entity workflow on the
 * Temporal dev server, with a worker in its own process.
 *
 * Simulated workloads run closed loops: reserve (update-with-start, validator, idempotent
 * updateId) → commit (actual cost, releasing the hold). Only reservations are timed and counted;
 * commits run at the same rate, so the entity serves twice the reported rate in Updates. The run
 * is long enough to continue-as-new several times. At the end the ledger must be exact.
 *
 *   npm run bench:budget [-- --reservations 3000 --concurrency 16]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BudgetClient } from '../src/budget/client.js';
import { budgetWorkflowId } from '../src/budget/config.js';
import { exactDecimal, ledgerJSON, ledgerSum, parseAmount } from '../src/money/billing.js';
import { fromJSON } from '../src/money/money.js';
import { startTestEnv } from '../test/helpers/environment.js';

const { values } = parseArgs({
  options: {
    reservations: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '100' },
  },
});
const N = Number(values.reservations);
const C = Number(values.concurrency);
const WARMUP = Number(values.warmup);
const KEY = 'project:bench';
const HOLD = ledgerJSON(parseAmount('hold', '0.80', 'USD'));
const COST = ledgerJSON(parseAmount('cost', '0.00022223', 'USD'));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const env = await startTestEnv();
try {
  const worker = await env.spawnWorker();
  const budgets = new BudgetClient(env.client.temporal, env.temporal.taskQueue);
  // The worker process bundles workflow code on start: wait until the entity answers.
  await budgets.set(KEY, { cap: ledgerJSON(parseAmount('cap', '1000000', 'USD')), period: 'month', alerts: [50, 80], onCap: 'stop', source: 'api' });

  let next = 0;
  let refused = 0;
  const latencies: number[] = [];
  async function loop(prefix: string, count: () => boolean, timed: boolean): Promise<void> {
    while (count()) {
      const i = next++;
      const workloadId = `${prefix}-${i}`;
      const t0 = performance.now();
      const r = await budgets.reserve(KEY, { workloadId, seq: 1, amount: HOLD, declared: true, what: '0.80 USD/h for 1h on bench' });
      if (timed) latencies.push(performance.now() - t0);
      if (!r.ok) {
        refused++;
        continue;
      }
      await budgets.commit(KEY, { workloadId, seq: 2, cost: COST, entry: { workloadId, project: 'bench', tenant: 'default', connections: ['bench'], billedMs: 1000 } });
    }
  }

  await Promise.all(Array.from({ length: Math.min(C, WARMUP) }, () => loop('warm', () => next < WARMUP, false)));
  next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, () => loop('wl', () => next < N, true)));
  const wallS = (performance.now() - t0) / 1000;

  const st = (await budgets.status(KEY))!;
  const expected = ledgerSum(Array.from({ length: N + WARMUP }, () => fromJSON(COST)));
  const runs: string[] = [];
  for await (const wf of env.client.temporal.workflow.list({ query: `WorkflowId = '${budgetWorkflowId(KEY)}'` })) runs.push(wf.status.name);
  latencies.sort((a, b) => a - b);
  const rate = N / wallS;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(`budget entity: ${KEY}, worker in its own process, dev server (SQLite, in memory)`);
  console.log(`reservations            ${N} (+${WARMUP} warm-up), ${C} concurrent callers, each followed by a commit`);
  console.log(`throughput              ${rate.toFixed(1)} reservations/s sustained over ${wallS.toFixed(1)} s (${(2 * rate).toFixed(0)} Updates/s incl. commits)   (target >= 50/s)`);
  console.log(`latency                 p50 ${p50.toFixed(1)} ms   p90 ${percentile(latencies, 90).toFixed(1)} ms   p99 ${p99.toFixed(1)} ms   max ${latencies[latencies.length - 1]!.toFixed(1)} ms   (target p99 <= 200 ms)`);
  console.log(`continue-as-new         ${runs.length} run(s) of the entity (${runs.filter((s) => s === 'CONTINUED_AS_NEW').length} continued as new)`);
  console.log(`refused                 ${refused}`);
  console.log(`ledger                  committed ${exactDecimal(st.committed)} (expected ${exactDecimal(expected)}), reserved ${exactDecimal(st.reserved)}, holds ${st.holds.length}`);
  const exact = exactDecimal(st.committed) === exactDecimal(expected) && st.holds.length === 0 && refused === 0;
  console.log(`ledger exact            ${exact ? 'yes' : 'NO'}`);
  if (!exact || rate < 50 || p99 > 200) process.exitCode = 1;
  worker.kill('SIGTERM');
} finally {
  await env.teardown();
}
