/**
 * Placement: rank offers, walk the candidates (failing over), and without capacity wait with
 * capped backoff and re-plan, up to maxPlacementPasses or the spec's retryUntilUp deadline. With
 * spot "allow" and spotWait, spot only until that wait is over.
 */
import { ApplicationFailure, condition, log } from '@temporalio/workflow';
import { NO_CAPACITY_REASON } from '../../routing/reasons.js';
import { dropTransientBlocks, releaseLostRegionBlocks, sameRegionFirst, type LostPlacement } from '../../workflows/recoveryPolicy.js';
import { PLAN, providerCalls } from '../activityOptions.js';
import { setState, type WorkloadContext } from '../context.js';
import type { WorkloadSpec } from '../specSchema.js';
import { whyChosen } from '../state.js';
import { provisionCandidate } from './provision.js';

const CANDIDATES_PER_PASS = 25;
const MAX_BACKOFF_MS = 300_000;

/** True once an instance runs; false when a stop came first. Throws when placement gives up. */
export async function place(ctx: WorkloadContext, lost?: LostPlacement): Promise<boolean> {
  const { run } = ctx;
  const { spec, blocked, attempts } = run;
  const placementStart = Date.now();
  const deadline = spec.retryUntilUp !== undefined ? run.startedAt + spec.retryUntilUp : undefined;
  const spotUntil = spec.spotWait !== undefined ? placementStart + spec.spotWait : undefined;
  let backoffs = 0;
  for (let pass = 0; ; pass++) {
    if (run.stopReason) return false;
    /** Spending-cap refusals this pass, by connection; if nothing else failed, waiting will not help. */
    const capRefused = new Map<string, string>();
    let otherFailures = 0;
    const waitingForSpot = spotUntil !== undefined && Date.now() < spotUntil;
    const planSpec: WorkloadSpec = waitingForSpot ? { ...spec, spot: 'only' } : spec;
    setState(ctx, 'selecting', `choosing an offer (pass ${pass + 1}${waitingForSpot ? ', spot only while waiting for spot' : ''})`);
    const plan = await providerCalls.planCandidates.executeWithOptions(
      { ...PLAN, summary: `rank offers, pass ${pass + 1}${waitingForSpot ? ' (spot only)' : ''}, ${blocked.length} scope(s) blocked` },
      [{ spec: planSpec, blocked: [...blocked], limit: CANDIDATES_PER_PASS }],
    );
    let candidates = plan.candidates;
    if (lost && spec.recovery.strategy === 'failover') candidates = sameRegionFirst(candidates, lost);
    if (candidates.length === 0) {
      const waitable = plan.rejectedReasons.some((r) => r.reason === NO_CAPACITY_REASON);
      if (pass === 0 && blocked.length === 0 && !waitingForSpot && !waitable) {
        const why = plan.rejectedReasons.map((r) => `${r.count}× ${r.reason}`).join('; ') || 'no offers at all';
        const unreachable = plan.unreachable.map((u) => `${u.connection}: ${u.error}`).join('; ');
        throw ApplicationFailure.nonRetryable(
          `no offer satisfies the spec (${plan.offersConsidered} considered: ${why})${unreachable ? `; unreachable: ${unreachable}` : ''}`,
          'NoMatchingOffer',
        );
      }
      // eager-next-region: nothing outside the lost region has capacity, so fall back to the full space now.
      if (releaseLostRegionBlocks(blocked) > 0) {
        log.info('no capacity outside the lost region: falling back to every region');
        continue;
      }
    }
    for (const [rank, candidate] of candidates.entries()) {
      if (run.stopReason) return false;
      if (capRefused.has(candidate.connection)) continue;
      const why = () =>
        whyChosen({ rank, pass, lost: !!lost, candidates: candidates.length, considered: plan.offersConsidered, recoveries: run.recoveries, attempts: attempts.length });
      const r = await provisionCandidate(ctx, candidate, why);
      if (r.kind === 'running') return true;
      if (r.kind === 'stopped') return false;
      if (r.kind === 'cap-refused') capRefused.set(candidate.connection, r.message);
      else otherFailures++;
    }
    if (capRefused.size > 0 && otherFailures === 0) {
      throw ApplicationFailure.nonRetryable(
        `every matching offer is on a connection whose spending cap is reached: ${[...capRefused.values()].join('; ')}`,
        'BudgetExceeded',
      );
    }
    const outOfTime = deadline !== undefined ? Date.now() >= deadline : pass + 1 >= run.maxPasses;
    if (outOfTime && !waitingForSpot) {
      const tried = attempts.map((a) => a.reason).filter(Boolean).join('; ');
      throw ApplicationFailure.nonRetryable(
        deadline !== undefined
          ? `no capacity before the retryUntilUp deadline (${attempts.length} attempts)${tried ? `: ${tried}` : ''}`
          : `no capacity after ${run.maxPasses} placement passes (${attempts.length} attempts)${tried ? `: ${tried}` : ''}`,
        'NoCapacity',
      );
    }
    // Nothing placed this pass: capacity may come back, so capacity blocks expire; back off first.
    if (candidates.length === 0) dropTransientBlocks(blocked);
    let wait = Math.min(MAX_BACKOFF_MS, 15_000 * 2 ** backoffs++);
    if (deadline !== undefined) wait = Math.min(wait, Math.max(1_000, deadline - Date.now()));
    if (waitingForSpot) wait = Math.min(wait, Math.max(1_000, spotUntil - Date.now()));
    setState(ctx, 'selecting', `no capacity${waitingForSpot ? ' for spot' : ''}: re-planning in ${Math.round(wait / 1000)} s`);
    if (await condition(() => !!run.stopReason, wait)) return false;
  }
}
