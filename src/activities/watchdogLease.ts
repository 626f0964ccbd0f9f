/**
 * Holds a node's watchdog lease for as long as the workflow wants the instance: one long,
 * heartbeating activity renewing every third of the lease (at most every minute). When the
 * workflow ends or is terminated from outside, heartbeats fail, this activity is cancelled and the
 * renewals stop, so the node's watchdog fires after the lease. One activity per instance instead
 * of one per renewal keeps workflow history small for long jobs.
 */
import { CancelledFailure, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { heartbeatSleep } from './heartbeatSleep.js';
import type { RenewWatchdogLeaseInput } from './types.js';
import { watchdogActivities, type WatchdogActivityDeps } from './watchdog.js';

export function renewalIntervalMs(leaseMs: number): number {
  return Math.max(1_000, Math.min(Math.floor(leaseMs / 3), 60_000));
}

export function watchdogLeaseActivities(deps: WatchdogActivityDeps) {
  const { renewWatchdogLease } = watchdogActivities(deps);
  return {
    async holdWatchdogLease(input: RenewWatchdogLeaseInput): Promise<void> {
      const ctx = Context.current();
      for (;;) {
        try {
          await renewWatchdogLease(input);
        } catch (e) {
          if (e instanceof CancelledFailure || ctx.cancellationSignal.aborted) throw e;
          if (e instanceof ApplicationFailure && e.nonRetryable) throw e;
          // An SSH blip: the lease has slack for two more tries before it runs out.
          ctx.log.warn('watchdog lease renewal failed; retrying at the next interval', { error: (e as Error).message });
        }
        await heartbeatSleep(renewalIntervalMs(input.leaseMs));
      }
    },
  };
}
