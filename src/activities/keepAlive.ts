/**
 * Every activity heartbeats while it runs, whatever it is waiting on (a provider request, an SSH
 * command, the budget entity), so a short heartbeat timeout tells a dead worker from a slow call:
 * an attempt whose worker died is lost within the heartbeat timeout instead of its start-to-close
 * timeout (see src/workload/activityOptions.ts for the bound).
 *
 * The beat repeats the details the activity last heartbeated itself (superviseService keeps its
 * failure count there), or the previous attempt's until it has sent any.
 */
import { Context } from '@temporalio/activity';

/** How often the keep-alive beats; the worker throttles what it sends (maxHeartbeatThrottleInterval). */
export const KEEP_ALIVE_INTERVAL_MS = 1_000;

/** Runs `fn` as the activity's body, heartbeating every KEEP_ALIVE_INTERVAL_MS until it settles. */
export async function withKeepAlive<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current() as { -readonly [K in keyof Context]: Context[K] };
  const send = ctx.heartbeat;
  let details: unknown = ctx.info.heartbeatDetails;
  // Context.heartbeat is an instance field: recording what the activity sends keeps the beat's details current.
  ctx.heartbeat = (d?: unknown) => {
    details = d;
    send(d);
  };
  send(details);
  const beat = setInterval(() => send(details), KEEP_ALIVE_INTERVAL_MS);
  try {
    return await fn();
  } finally {
    clearInterval(beat);
    ctx.heartbeat = send;
  }
}

/** The same activities, each run under withKeepAlive. */
export function keptAlive<A extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: A): A {
  const out: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(activities)) out[name] = (...args) => withKeepAlive(() => fn(...args));
  return out as A;
}
