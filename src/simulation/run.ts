/** A whole run: every job under every policy, the oracle beside them, and the comparison. */
import { performance } from 'node:perf_hooks';
import { add, toDecimal, toSnapshot, transformScale, type Money } from '../money/money.js';
import { STEPS_PER_HOUR } from './grid.js';
import type { Mix } from './mix.js';
import { oracleJob, type OracleOutcome } from './oracle.js';
import { ORACLE, type Policy } from './policies.js';
import { simulateJob, stepCostMoney, type JobOutcome } from './simulateJob.js';
import type { Trace } from './trace.js';

export interface PolicySummary {
  policy: string;
  description: string;
  cost: Money;
  idleWaste: Money;
  /** Jobs whose work got done. */
  completed: number;
  failed: number;
  /** Mean hours from submit to work done, over completed jobs. */
  meanCompletionHours: number;
  /** Hours from the first submit to the last job done. */
  makespanHours: number;
  preemptions: number;
  createFailures: number;
  lostWorkHours: number;
  /** cost / oracle cost (undefined without the oracle). */
  ratioToOracle?: number;
  /** Job-hours replayed per second of computation. */
  simulatedHoursPerSecond: number;
  elapsedMs: number;
}

export interface RunResult {
  mix: string;
  trace: string;
  jobs: number;
  summaries: PolicySummary[];
  outcomes: Record<string, JobOutcome[]>;
  oracle?: OracleOutcome[];
}

const zeroUsd = () => stepCostMoney(0);

/** a / b as a number (for display: both exact, the ratio is not money). */
export function moneyRatio(a: Money, b: Money): number {
  const sa = toSnapshot(a);
  const sb = toSnapshot(b);
  const scale = Math.max(sa.scale, sb.scale);
  const x = toSnapshot(transformScale(a, scale)).amount;
  const y = toSnapshot(transformScale(b, scale)).amount;
  return y === 0 ? (x === 0 ? 1 : Infinity) : x / y;
}

function summarize(policy: string, description: string, outcomes: { cost: Money; idleWaste?: Money; doneStep?: number; failed?: string; preemptions?: number; createFailures?: number; lostWorkSteps?: number; jobId: string }[], mix: Mix, elapsedMs: number, traceSteps: number): PolicySummary {
  const submit = new Map(mix.jobs.map((j) => [j.id, j.submitStep]));
  const done = outcomes.filter((o) => o.doneStep !== undefined);
  const firstSubmit = Math.min(...mix.jobs.map((j) => j.submitStep));
  const simulatedSteps = outcomes.reduce((n, o) => n + ((o.doneStep ?? traceSteps) - submit.get(o.jobId)!), 0);
  return {
    policy,
    description,
    cost: outcomes.reduce((s, o) => add(s, o.cost), zeroUsd()),
    idleWaste: outcomes.reduce((s, o) => (o.idleWaste ? add(s, o.idleWaste) : s), zeroUsd()),
    completed: done.length,
    failed: outcomes.length - done.length,
    meanCompletionHours: done.length ? done.reduce((n, o) => n + o.doneStep! - submit.get(o.jobId)!, 0) / done.length / STEPS_PER_HOUR : NaN,
    makespanHours: done.length ? (Math.max(...done.map((o) => o.doneStep!)) - firstSubmit) / STEPS_PER_HOUR : NaN,
    preemptions: outcomes.reduce((n, o) => n + (o.preemptions ?? 0), 0),
    createFailures: outcomes.reduce((n, o) => n + (o.createFailures ?? 0), 0),
    lostWorkHours: outcomes.reduce((n, o) => n + (o.lostWorkSteps ?? 0), 0) / STEPS_PER_HOUR,
    simulatedHoursPerSecond: elapsedMs > 0 ? simulatedSteps / STEPS_PER_HOUR / (elapsedMs / 1000) : Infinity,
    elapsedMs,
  };
}

export function runSimulation(mix: Mix, trace: Trace, policies: readonly Policy[], opts: { oracle?: boolean } = {}): RunResult {
  const outcomes: Record<string, JobOutcome[]> = {};
  const summaries: PolicySummary[] = [];
  for (const p of policies) {
    const t0 = performance.now();
    const list = mix.jobs.map((j) => simulateJob(j, p, trace));
    const elapsed = performance.now() - t0;
    outcomes[p.name] = list;
    summaries.push(summarize(p.name, p.description, list, mix, elapsed, trace.steps));
  }
  let oracle: OracleOutcome[] | undefined;
  if (opts.oracle) {
    const t0 = performance.now();
    oracle = mix.jobs.map((j, i) => {
      // The oracle may take as long as the slowest policy took for this job (the whole trace if none finished).
      const ends = policies.map((p) => outcomes[p.name]![i]!.doneStep).filter((s): s is number => s !== undefined);
      return oracleJob(j, trace, ends.length ? Math.max(...ends) : trace.steps);
    });
    const elapsed = performance.now() - t0;
    const s = summarize(ORACLE, 'hindsight: shortest path over time × market × saved work', oracle, mix, elapsed, trace.steps);
    for (const x of summaries) x.ratioToOracle = moneyRatio(x.cost, s.cost);
    s.ratioToOracle = 1;
    summaries.push(s);
  }
  return { mix: mix.name, trace: trace.source.description, jobs: mix.jobs.length, summaries, outcomes, ...(oracle ? { oracle } : {}) };
}

function usd(m: Money): string {
  return toDecimal(transformScale(m, 2));
}

/** The comparison as a Markdown table. */
export function formatTable(r: RunResult): string {
  const head = '| policy | total cost (USD) | × oracle | done / jobs | mean completion (h) | makespan (h) | preemptions | lost work (h) | idle waste (USD) | idle % of spend | failed creates |';
  const rule = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = r.summaries.map((s) => {
    const idlePct = moneyRatio(s.idleWaste, s.cost) * 100;
    return `| ${s.policy} | ${usd(s.cost)} | ${s.ratioToOracle !== undefined ? s.ratioToOracle.toFixed(3) : '-'} | ${s.completed} / ${s.completed + s.failed} | ${fmt(s.meanCompletionHours)} | ${fmt(s.makespanHours)} | ${s.preemptions} | ${s.lostWorkHours.toFixed(1)} | ${usd(s.idleWaste)} | ${Number.isFinite(idlePct) ? idlePct.toFixed(2) : '-'} | ${s.createFailures} |`;
  });
  return [head, rule, ...rows].join('\n');
}

function fmt(n: number): string {
  return Number.isFinite(n) ? n.toFixed(1) : '-';
}
