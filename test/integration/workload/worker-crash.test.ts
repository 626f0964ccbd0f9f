/** kill -9 of the worker mid-job: a new worker re-attaches; exactly one instance; none left running. */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { killHard, startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

it('survives kill -9 of the worker while the job runs', async () => {
  // The compiled worker (npm run build), as deployed; scripts/test.sh builds before testing.
  const first = await env.spawnWorker({ fromDist: true });
  // The job appends one line per start: a restarted job would show two "start" lines.
  const wl = await env.client.launch({
    name: 'crash',
    command: 'echo start >> "$GPUFLOW_CHECKPOINT_DIR/starts"; sleep 12; wc -l < "$GPUFLOW_CHECKPOINT_DIR/starts"',
    gpu: { classes: ['L4'] },
  });
  await waitFor('job running', async () => (await wl.status()).state === 'running', 90_000, 250);
  await new Promise((r) => setTimeout(r, 1500));
  await killHard(first);
  await env.spawnWorker({ fromDist: true });
  const result = await wl.result();
  assert.equal(result.outcome, 'succeeded');
  assert.equal(result.exitCode, 0);
  const stats = await env.admin.stats();
  assert.equal(stats.createsAccepted, 1, 'exactly one instance was created');
  assert.deepEqual(Object.values(stats.byRefId), [1]);
  assert.equal(stats.running, 0, 'no instance is left running');
  const logs = (await env.client.temporal.workflow.getHandle(wl.workloadId).fetchHistory()).events?.length ?? 0;
  assert.ok(logs > 0);
});
