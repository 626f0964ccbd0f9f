/**
 * Policies: what a run changes in each job's spec before replaying it. Only spot-tolerant jobs
 * (spec `spot` other than "never") have their market changed; a job that must not run on spot
 * stays on-demand under every policy, as it would in production.
 */
import { AutoShutdownSchema, type WorkloadSpec } from '../workload/spec.js';
import { DEFAULT_REBALANCE, type RebalanceSettings } from '../workflows/migrationPolicy.js';

export interface Policy {
  name: string;
  description: string;
  spot?: WorkloadSpec['spot'];
  strategy?: WorkloadSpec['recovery']['strategy'];
  /** job: as the job's spec says; off; on: the job's settings, or gpuflow's defaults where it has none. */
  autoShutdown?: 'job' | 'off' | 'on';
  /**
   * Live migration (placement.rebalance) for jobs that checkpoint: checked with the workflow's own
   * rule (decideMove) at each catalog sync while an instance runs.
   */
  migrate?: RebalanceSettings;
}

export const ORACLE = 'oracle';

export const POLICIES: readonly Policy[] = [
  { name: 'default', description: "each job's own spec (gpuflow defaults where it is silent)" },
  { name: 'on-demand-only', description: 'on-demand only, no auto-shutdown', spot: 'never', autoShutdown: 'off' },
  { name: 'spot-never', description: 'on-demand only, auto-shutdown as the job says', spot: 'never' },
  { name: 'spot-allow', description: 'cheapest of spot and on-demand', spot: 'allow' },
  { name: 'spot-only', description: 'spot only', spot: 'only' },
  { name: 'eager-next-region', description: 'spot allowed, recover in another region first', spot: 'allow', strategy: 'eager-next-region' },
  { name: 'failover', description: 'spot allowed, recover in the same region first', spot: 'allow', strategy: 'failover' },
  { name: 'migrate', description: 'spot allowed, checkpointing jobs move to cheaper markets (placement.rebalance, hourly)', spot: 'allow', migrate: { ...DEFAULT_REBALANCE, interval: 3_600_000 } },
  { name: 'auto-shutdown', description: 'the job as specified, auto-shutdown on', autoShutdown: 'on' },
  { name: 'no-auto-shutdown', description: 'the job as specified, auto-shutdown off', autoShutdown: 'off' },
];

export const POLICY_NAMES = [...POLICIES.map((p) => p.name), ORACLE];

/** The policies named (comma list or array); "all" for every one. Throws naming the unknown one. */
export function selectPolicies(names: readonly string[]): { policies: Policy[]; oracle: boolean } {
  const want = names.flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean);
  if (want.length === 0 || want.includes('all')) return { policies: [...POLICIES], oracle: true };
  for (const n of want) if (!POLICY_NAMES.includes(n)) throw new Error(`--policies: unknown policy "${n}"; use ${POLICY_NAMES.join(', ')} or all`);
  return { policies: POLICIES.filter((p) => want.includes(p.name)), oracle: want.includes(ORACLE) };
}

export function spotTolerant(spec: WorkloadSpec): boolean {
  return spec.spot !== 'never';
}

/** The spec the job runs with under `policy`. */
export function applyPolicy(spec: WorkloadSpec, policy: Policy): WorkloadSpec {
  let out = spec;
  if (policy.spot && spotTolerant(spec) && policy.spot !== spec.spot) {
    const { spotWait: _drop, ...rest } = out;
    out = { ...rest, spot: policy.spot };
  }
  if (policy.strategy && policy.strategy !== spec.recovery.strategy) out = { ...out, recovery: { ...out.recovery, strategy: policy.strategy } };
  if (policy.autoShutdown === 'off') out = { ...out, autoShutdown: 'off' };
  if (policy.autoShutdown === 'on' && out.autoShutdown === 'off') out = { ...out, autoShutdown: AutoShutdownSchema.parse({}) };
  return out;
}
