/**
 * bench:cost: the cost simulator's comparison table. A spot-tolerant mix
 * (src/simulation/mixes/spot-tolerant.yaml) replayed on a week-long trace generated from the
 * SkyPilot catalogs in data/skypilot-catalog with the published spot-interruption bands, every
 * policy beside its floor (on-demand only) and its peer (the hindsight oracle); then the same with
 * the hazard rates × 20 (a stress test: GPU spot interrupted far more often than the bands say),
 * and the default policy's ratios over seeds 1-5. Checks the targets and prints them.
 *
 *   npm run bench:cost [-- --seed 1 --hours 168 --stress 20 --seeds 5]
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseMixText } from '../src/simulation/mix.js';
import { POLICIES } from '../src/simulation/policies.js';
import { formatTable, moneyRatio, runSimulation, type RunResult } from '../src/simulation/run.js';
import { simulateJob } from '../src/simulation/simulateJob.js';
import { skypilotTrace } from '../src/simulation/skypilotTrace.js';
import { STEPS_PER_HOUR } from '../src/simulation/grid.js';
import type { Trace } from '../src/simulation/trace.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    hours: { type: 'string', default: '168' },
    stress: { type: 'string', default: '20' },
    seeds: { type: 'string', default: '5' },
    mix: { type: 'string', default: 'src/simulation/mixes/spot-tolerant.yaml' },
  },
});
const SEED = Number(values.seed);
const HOURS = Number(values.hours);
const STRESS = Number(values.stress);
const SEEDS = Number(values.seeds);
const CATALOG = 'data/skypilot-catalog';
const mix = parseMixText(readFileSync(values.mix, 'utf8'), values.mix);

function buildTrace(seed: number, hazardScale: number): { trace: Trace; ms: number } {
  const t0 = performance.now();
  const trace = skypilotTrace(CATALOG, { seed, hours: HOURS, model: { hazardScale } });
  // The router's catalog views (one indexed catalog per sync), built once per trace like a worker's synced catalogs.
  for (let s = 0; s < trace.steps; s += trace.syncEverySteps) trace.catalogAt(s);
  return { trace, ms: performance.now() - t0 };
}

/** Job-hours replayed per second over every policy, best of `reps` (the machine is shared). */
function throughput(trace: Trace, reps = 5): number {
  let best = 0;
  for (let r = 0; r < reps; r++) {
    let steps = 0;
    const t0 = performance.now();
    for (const p of POLICIES) for (const j of mix.jobs) {
      const o = simulateJob(j, p, trace);
      steps += (o.doneStep ?? trace.steps) - j.submitStep;
    }
    best = Math.max(best, steps / STEPS_PER_HOUR / ((performance.now() - t0) / 1000));
  }
  return best;
}

function row(r: RunResult, name: string) {
  const s = r.summaries.find((x) => x.policy === name);
  if (!s) throw new Error(`no ${name} in the run`);
  return s;
}

function report(title: string, trace: Trace, prepMs: number): RunResult {
  const r = runSimulation(mix, trace, POLICIES, { oracle: true });
  const spot = trace.markets.filter((m) => m.offer.spot);
  const oracle = row(r, 'oracle');
  console.log(`\n### ${title}\n`);
  console.log(`trace: ${r.trace}; ${trace.markets.length} GPU markets (${spot.length} spot, ${spot.reduce((n, m) => n + m.preemptions.length, 0)} preemption events); built in ${prepMs.toFixed(0)} ms`);
  console.log(`mix: ${r.mix}, ${r.jobs} jobs; oracle computed in ${oracle.elapsedMs.toFixed(0)} ms\n`);
  console.log(formatTable(r));
  return r;
}

function targets(r: RunResult, simHoursPerSecond: number): void {
  const def = row(r, 'default');
  const od = row(r, 'on-demand-only');
  const vsOracle = def.ratioToOracle!;
  const vsOnDemand = moneyRatio(od.cost, def.cost);
  const idle = moneyRatio(def.idleWaste, def.cost) * 100;
  const check = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log('\ntargets (default policy):');
  console.log(`  within 10 % of the oracle:       ${vsOracle.toFixed(3)}× oracle: ${check(vsOracle <= 1.1)}`);
  console.log(`  ≥ 3× cheaper than on-demand only: ${vsOnDemand.toFixed(2)}× cheaper: ${check(vsOnDemand >= 3)}`);
  console.log(`  idle waste ≤ 1 % of spend:        ${idle.toFixed(2)} %: ${check(idle <= 1)}`);
  console.log(`  thousands of simulated h/s:       ${Math.round(simHoursPerSecond).toLocaleString('en-US')} job-hours/s over all ${POLICIES.length} policies (best of 5): ${check(simHoursPerSecond >= 1000)}`);
}

console.log(`bench:cost ${new Date().toISOString()} node ${process.version}`);
const published = buildTrace(SEED, 1);
const main = report(`published interruption bands (hazard × 1), seed ${SEED}`, published.trace, published.ms);
targets(main, throughput(published.trace));

const stressed = buildTrace(SEED, STRESS);
const stress = report(`stress: hazard × ${STRESS}, seed ${SEED}`, stressed.trace, stressed.ms);
targets(stress, throughput(stressed.trace));

console.log(`\n### default policy over seeds 1-${SEEDS}\n`);
console.log('| seed | hazard | default × oracle | on-demand-only ÷ default | idle % of spend | preemptions |');
console.log('|---:|---:|---:|---:|---:|---:|');
for (const scale of [1, STRESS]) {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = runSimulation(mix, buildTrace(seed, scale).trace, POLICIES, { oracle: true });
    const def = row(r, 'default');
    console.log(`| ${seed} | × ${scale} | ${def.ratioToOracle!.toFixed(3)} | ${moneyRatio(row(r, 'on-demand-only').cost, def.cost).toFixed(2)} | ${(moneyRatio(def.idleWaste, def.cost) * 100).toFixed(2)} | ${def.preemptions} |`);
  }
}
