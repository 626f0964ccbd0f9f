/**
 * Sleeps inside a long activity in slices, heartbeating between them, so a wait longer than the
 * heartbeat timeout (a provider polled every minute) does not look like a dead worker. Rejects
 * when the activity is cancelled, e.g. because its workflow is gone.
 */
import { Context } from '@temporalio/activity';

const SLICE_MS = 5_000;

export async function heartbeatSleep(ms: number): Promise<void> {
  const ctx = Context.current();
  for (let left = ms; left > 0; left -= SLICE_MS) {
    ctx.heartbeat();
    await ctx.sleep(Math.min(SLICE_MS, left));
  }
  ctx.heartbeat();
}
