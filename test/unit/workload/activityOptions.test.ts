import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ms from 'ms';
import { HEARTBEAT_TIMEOUT_MS, RECOVERY_BOUND_MS, WORKLOAD_ACTIVITY_OPTIONS } from '../../../src/workload/activityOptions.js';

const toMs = (d: string | number | undefined): number | undefined => (d === undefined ? undefined : typeof d === 'number' ? d : ms(d as ms.StringValue));

/** What the server adds beside the heartbeat timeout (see activityOptions.ts): sticky queue 5 s, workflow task timeout 10 s. */
const STICKY_SCHEDULE_TO_START_MS = 5_000;
const WORKFLOW_TASK_TIMEOUT_MS = 10_000;

describe('workload activity options: a dead worker is noticed within the recovery bound', () => {
  for (const [name, o] of Object.entries(WORKLOAD_ACTIVITY_OPTIONS)) {
    it(`${name}: heartbeats, and its first retry comes within the bound`, () => {
      const hb = toMs(o.heartbeatTimeout);
      assert.ok(hb !== undefined && hb <= HEARTBEAT_TIMEOUT_MS, `${name} heartbeatTimeout ${String(o.heartbeatTimeout)}`);
      const first = toMs(o.retry?.initialInterval) ?? 1_000;
      assert.ok(hb + first <= RECOVERY_BOUND_MS - 10_000, `${name}: ${hb} + ${first} ms leaves room for the new worker`);
      assert.ok(toMs(o.startToCloseTimeout)! > hb, `${name}: a call may outlast one heartbeat interval`);
    });
  }

  it('a workflow task lost with the worker is retried within the bound too', () => {
    assert.ok(Math.max(STICKY_SCHEDULE_TO_START_MS, WORKFLOW_TASK_TIMEOUT_MS) + 1_000 <= RECOVERY_BOUND_MS - 10_000);
  });

  it('provider calls keep the 6-hour retry budget, so a long Retry-After is waited out', () => {
    for (const name of ['PROVIDER_CALL', 'PLAN', 'CREATE'] as const) assert.equal(toMs(WORKLOAD_ACTIVITY_OPTIONS[name].scheduleToCloseTimeout), 6 * 3_600_000);
  });
});
