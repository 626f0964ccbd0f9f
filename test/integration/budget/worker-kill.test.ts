/**
 * kill -9 of the worker mid-reservation: the budget Updates were applied, the activity never
 * completed. The restarted worker retries the activity with the same (workloadId, seq), which the
 * budget treats as already applied: nothing is counted twice and the ledger is exact.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { exactDecimal, ledgerSum } from '../../../src/money/billing.js';
import { killHard, startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

it('a worker killed mid-reservation, then restarted: the ledger is exact', async () => {
  // 3 × 0.16 fit exactly: a double-counted retry would be refused and fail its workload.
  // The first worker applies the reservation Updates, then stalls before completing the activity.
  const first = await env.spawnWorker({ env: { GPUFLOW_FAULT_RESERVE_DELAY_MS: '120000' } });
  await env.client.budgets.set({ project: 'kill' }, { cap: '0.48', alerts: [] });
  const handles = await Promise.all(
    [0, 1, 2].map((i) => env.client.launch({ name: `kill-${i}`, command: 'sleep 2; echo done', gpu: { classes: ['L4'] }, project: 'kill', lifecycle: { maxDuration: '12m' } })),
  );
  const mid = await waitFor('all three holds applied (activities still in flight)', async () => {
    const st = await env.client.budgets.status({ project: 'kill' });
    return st && st.holds.length === 3 ? st : undefined;
  }, 120_000, 200);
  assert.equal(exactDecimal(mid.reserved), '0.48');
  for (const h of handles) assert.equal((await h.status()).state, 'selecting', 'no instance before the reservation completes');
  await killHard(first);

  await env.spawnWorker();
  const results = await Promise.all(handles.map((h) => h.result()));
  assert.ok(results.every((r) => r.outcome === 'succeeded'), 'retried reservations were recognized, not refused as over the cap');

  for (const h of handles) {
    const history = await env.client.temporal.workflow.getHandle(h.workloadId).fetchHistory();
    const scheduled = new Set(
      (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'reserveBudgets').map((e) => String(e.eventId)),
    );
    const attempts = (history.events ?? [])
      .filter((e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
      .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    assert.ok(Math.max(...attempts) >= 2, `${h.workloadId}: the reservation activity was retried after the kill (attempts ${attempts})`);
  }

  const st = (await env.client.budgets.status({ project: 'kill' }))!;
  const spent = ledgerSum(results.map((r) => r.cost));
  assert.equal(exactDecimal(st.committed), exactDecimal(spent), 'committed is exactly the workloads’ costs');
  assert.equal(st.holds.length, 0);
  assert.equal(st.workloadsThisPeriod, 3);
  assert.deepEqual(st.counters, { reserves: 3, commits: 3 }, 'each reservation was applied once');
  const ledger = (await env.client.budgets.ledger({ project: 'kill' }, { entries: true }))!;
  assert.equal(ledger.entries!.length, 3);
  assert.equal((await env.admin.stats()).createsAccepted, 3, 'one instance per workload');
});
