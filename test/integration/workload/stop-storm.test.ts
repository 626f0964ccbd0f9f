/**
 * A stop / cancel / terminate storm: six running workloads each get a burst of concurrent stops,
 * cancels and Temporal terminates, mixed. Every workload must end (stopped, cancelled, or
 * terminated from outside) with exactly one instance made, and none may be left running: a
 * terminated workflow runs no cleanup, so its node's watchdog lease ends the instance — which is
 * why a workload must not read "running" before its watchdog is installed (the flake this caught:
 * a terminate landing while the install, started beside the job, was still retrying its SSH
 * connect left that instance running for good).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { WorkloadHandle } from '../../../src/client/gpuflowClient.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;
before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

type Blow = 'stop' | 'cancel' | 'terminate';
const LEASE_S = 15;
const STORMS: Blow[][] = [
  ['stop', 'stop', 'stop', 'stop', 'stop'],
  ['cancel', 'cancel', 'cancel'],
  ['stop', 'cancel', 'stop', 'cancel'],
  ['terminate', 'terminate'],
  ['stop', 'terminate', 'stop'],
  ['cancel', 'stop', 'terminate', 'cancel'],
];

it('survives concurrent stop, cancel and terminate of running workloads: all end, no orphan', { timeout: 240_000 }, async () => {
  const createsBefore = (await env.admin.stats()).createsAccepted;
  const wls: WorkloadHandle[] = await Promise.all(
    STORMS.map((_, i) => env.client.launch({ name: `storm-${i}`, command: 'sleep 300', gpu: { classes: ['L4'] }, watchdog: { lease: `${LEASE_S}s` } })),
  );
  // A terminate runs no cleanup: from the moment a workload reads "running", its node must hold the
  // watchdog lease that ends the instance without the workflow (the install used to run beside the job).
  const unguarded = new Set<string>();
  await waitFor(
    'all running',
    async () => {
      const st = await Promise.all(wls.map((w) => w.status()));
      for (const s of st) if (s.state === 'running' && !s.watchdogRenewedAt) unguarded.add(s.workloadId);
      return st.every((s) => s.state === 'running');
    },
    120_000,
    100,
  );
  assert.deepEqual([...unguarded], [], 'running without the watchdog installed');

  const hit = (w: WorkloadHandle, b: Blow): Promise<unknown> =>
    b === 'stop' ? w.stop('storm') : b === 'cancel' ? w.cancel() : env.client.temporal.workflow.getHandle(w.workloadId).terminate('storm');
  // Every blow at once; a late one may be refused (already terminating, or already closed), never hang.
  await Promise.allSettled(STORMS.flatMap((blows, i) => blows.map((b) => hit(wls[i]!, b))));

  for (const [i, w] of wls.entries()) {
    const desc = await waitFor(`storm-${i} closed`, async () => {
      const d = await env.client.temporal.workflow.getHandle(w.workloadId).describe();
      return d.status.name !== 'RUNNING' ? d : undefined;
    }, 60_000, 250);
    const outcome = await w.result().then(
      (r) => r.outcome,
      (e: unknown) => (e instanceof WorkflowFailedError ? (e.cause?.name ?? 'failed') : String(e)),
    );
    const blows = STORMS[i]!;
    // Whichever blow landed first decides; a terminate may also come after the workflow ended by itself.
    if (desc.status.name === 'TERMINATED') assert.ok(blows.includes('terminate'), `storm-${i} terminated without a terminate`);
    else if (blows.every((b) => b === 'stop')) assert.equal(outcome, 'stopped', `storm-${i}`);
    else if (blows.every((b) => b === 'cancel')) assert.match(String(outcome), /Cancel/, `storm-${i}: ${String(outcome)}`);
    else assert.match(String(outcome), /^stopped$|Cancel/, `storm-${i}: ${String(outcome)}`);
  }
  const stats = await env.admin.stats();
  assert.equal(stats.createsAccepted - createsBefore, STORMS.length, 'one instance per workload, no more');
  // Cleaned up by the workflows, or (terminated ones) by their node watchdog once the lease runs out.
  try {
    await waitFor('no instance left running', async () => (await env.admin.stats()).running === 0, (LEASE_S + 90) * 1000, 500);
  } catch (e) {
    // Say what is left and whose it is.
    const { LocalCredential } = await import('../../../src/providers/local/index.js');
    const c = await new LocalCredential({ refId: 'diag', url: env.cloud.url, token: env.cloud.token }).makeClient('');
    const left = (await c.listInstances({})).filter((x) => x.status.lifecycleStatus !== 'terminated');
    const closed = await Promise.all(wls.map(async (w) => `${w.workloadId}: ${(await env.client.temporal.workflow.getHandle(w.workloadId).describe()).status.name}`));
    throw new Error(`${(e as Error).message}: ${JSON.stringify(left.map((x) => ({ id: x.cloudId, s: x.status.lifecycleStatus, tags: x.tags })))}; workflows ${closed.join(', ')}`);
  }
});
