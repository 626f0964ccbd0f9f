/**
 * The workload workflow's steps against mocked activities on a real Temporal dev server: each
 * branch in seconds instead of a provisioning round trip. The fake cloud below records every call,
 * so the tests can check what continue-as-new and the end of a workload leave behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { InstanceLoss, InstanceRef, InstanceView } from '../../../src/activities/types.js';
import type { ReserveBudgetsInput, ReserveBudgetsResult } from '../../../src/budget/activities.js';
import { GpuflowClient } from '../../../src/client/gpuflowClient.js';
import { temporalConfigFromEnv, type TemporalConfig } from '../../../src/config/temporalConfig.js';
import { PER_SECOND, billedCost } from '../../../src/money/billing.js';
import { moneyFromDecimal, toJSON } from '../../../src/money/money.js';
import type { Offer } from '../../../src/routing/offer.js';
import { connectWorker } from '../../../src/temporal/connectWorker.js';
import { startDevServer, type DevServer } from '../../../src/temporal/devServer.js';
import { workflowsPath } from '../../../src/worker/worker.js';
import { parseWorkloadSpec, type WorkloadSpecInput } from '../../../src/workload/spec.js';
import { waitFor } from '../../helpers/environment.js';

const PRICE = toJSON(moneyFromDecimal('0.75', 'USD', 2));

function offer(location: string): Offer {
  return {
    connection: 'fake',
    provider: 'fake',
    instanceTypeId: `gpu_1x_l4@${location}`,
    type: 'gpu_1x_l4',
    location,
    country: 'USA',
    spot: false,
    gpu: { count: 1, type: 'L4' },
    pricePerHour: PRICE,
  } as unknown as Offer;
}

/** Sleeps in a heartbeating activity until `until()` or cancellation (which it reports, as real watchers do). */
async function heartbeatUntil(until: () => boolean): Promise<void> {
  const ctx = Context.current();
  while (!until()) {
    ctx.heartbeat();
    await ctx.sleep(100);
  }
}

/** An in-memory cloud and node behind the activity names the workflow calls. */
function fakeCloud() {
  const calls: Record<string, unknown[]> = {};
  const record = (name: string, input: unknown) => (calls[name] ??= []).push(input);
  const state = {
    capacityGoneIn: new Set<string>(),
    jobExit: undefined as number | undefined,
    utilization: [50],
    loss: undefined as InstanceLoss | undefined,
    created: 0,
    /** Activities running right now, by name. */
    active: new Map<string, number>(),
  };
  const instances = new Map<string, { location: string; createdAt: string; terminatedAt?: string }>();
  const view = (cloudId: string): InstanceView => {
    const i = instances.get(cloudId)!;
    return {
      instance: {
        cloudId,
        location: i.location,
        createdAt: i.createdAt,
        publicIp: '127.0.0.1',
        sshPort: 2222,
        sshUser: 'root',
        status: { lifecycleStatus: i.terminatedAt ? 'terminated' : 'running', messages: [] },
        ...(i.terminatedAt ? { terminatedAt: i.terminatedAt } : {}),
      },
      pollMs: 100,
      provisioningTimeoutMs: 60_000,
    } as unknown as InstanceView;
  };
  const tracked = <A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      record(name, a[0]);
      state.active.set(name, (state.active.get(name) ?? 0) + 1);
      try {
        return await fn(...a);
      } finally {
        state.active.set(name, state.active.get(name)! - 1);
      }
    };
  const activities = {
    planCandidates: tracked('planCandidates', async () => ({ candidates: [offer('us-east'), offer('eu-central')], offersConsidered: 2, rejectedReasons: [], unreachable: [] })),
    reserveBudgets: tracked('reserveBudgets', async (input: ReserveBudgetsInput): Promise<ReserveBudgetsResult> => ({
      billing: PER_SECOND,
      grants: input.holds.map((h) => ({ key: h.key, granted: toJSON(billedCost(PRICE, input.current?.desiredMs ?? 0, PER_SECOND)), capped: false })),
      refusals: [],
    })),
    settleBudgets: tracked('settleBudgets', async () => undefined),
    createInstance: tracked('createInstance', async (input: { offer: Offer; refId: string }) => {
      if (state.capacityGoneIn.has(input.offer.location)) {
        throw ApplicationFailure.nonRetryable(`no capacity in ${input.offer.location}`, 'InsufficientCapacityError', { scope: 'region' });
      }
      const cloudId = `i-${++state.created}`;
      instances.set(cloudId, { location: input.offer.location, createdAt: new Date().toISOString() });
      return view(cloudId);
    }),
    getInstance: tracked('getInstance', async (ref: InstanceRef) => view(ref.cloudId)),
    terminateInstance: tracked('terminateInstance', async (ref: InstanceRef) => {
      const i = instances.get(ref.cloudId)!;
      i.terminatedAt ??= new Date().toISOString();
      return view(ref.cloudId).instance;
    }),
    terminateByRefId: tracked('terminateByRefId', async () => 0),
    bootstrapInstance: tracked('bootstrapInstance', async () => undefined),
    installWatchdog: tracked('installWatchdog', async () => undefined),
    holdWatchdogLease: tracked('holdWatchdogLease', async () => heartbeatUntil(() => false)),
    watchInstance: tracked('watchInstance', async () => {
      await heartbeatUntil(() => state.loss !== undefined);
      const loss = state.loss!;
      state.loss = undefined;
      return loss;
    }),
    runJob: tracked('runJob', async () => {
      await heartbeatUntil(() => state.jobExit !== undefined);
      return { exitCode: state.jobExit!, reattached: false };
    }),
    sampleGpuUtilization: tracked('sampleGpuUtilization', async () => state.utilization),
    countSshSessions: tracked('countSshSessions', async () => 0),
    tailJobLogs: tracked('tailJobLogs', async () => 'step 1\nstep 2\n'),
  };
  return { activities, calls, state, instances, count: (name: string) => calls[name]?.length ?? 0 };
}

let server: DevServer;
let temporal: TemporalConfig;
let client: GpuflowClient;

before(async () => {
  server = await startDevServer({ headless: true });
  temporal = temporalConfigFromEnv({ address: server.address, namespace: server.namespace, taskQueue: 'unused' });
  client = await GpuflowClient.connect(temporal);
});

after(async () => {
  await client.close();
  await server.stop();
});

/** Runs `body` with a worker on a fresh task queue serving `cloud`'s activities. */
async function withWorker<T>(cloud: ReturnType<typeof fakeCloud>, body: (start: (spec: WorkloadSpecInput, historyLimit?: number) => Promise<string>) => Promise<T>): Promise<T> {
  const taskQueue = `steps-${randomBytes(4).toString('hex')}`;
  const connection = await connectWorker(temporal);
  const worker = await Worker.create({ connection, namespace: temporal.namespace, taskQueue, workflowsPath: workflowsPath(), activities: cloud.activities, shutdownGraceTime: '1s' });
  const start = async (spec: WorkloadSpecInput, historyLimit?: number) => {
    const workflowId = `steps-${randomBytes(4).toString('hex')}`;
    await client.temporal.workflow.start('workloadWorkflow', { taskQueue, workflowId, args: [{ spec: parseWorkloadSpec(spec), ...(historyLimit ? { historyLimit } : {}) }] });
    return workflowId;
  };
  try {
    return await worker.runUntil(body(start));
  } finally {
    await connection.close();
  }
}

const JOB = { command: 'train', gpu: { classes: ['L4'] } };

async function runsOf(workflowId: string): Promise<number> {
  let n = 0;
  for await (const _run of client.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) n++;
  return n;
}

async function pendingActivities(workflowId: string): Promise<string[]> {
  const d = await client.temporal.workflow.getHandle(workflowId).describe();
  return (d.raw.pendingActivities ?? []).map((p) => p.activityType?.name ?? '?');
}

describe('workload steps with mocked activities', () => {
  it('a finished workload leaves no pending activity, and its status shows the end as it is', async () => {
    const cloud = fakeCloud();
    await withWorker(cloud, async (start) => {
      const id = await start({ name: 'ends-clean', ...JOB, autoShutdown: { utilizationBelowPercent: 10, idleWindow: '1h', sampleInterval: '1s' } });
      const wl = client.handle(id);
      await waitFor('running with its watchers', async () => (await wl.status()).state === 'running' && cloud.count('holdWatchdogLease') === 1 && cloud.count('sampleGpuUtilization') > 0, 30_000, 100);
      const live = await wl.status();
      assert.equal(live.instance?.sshHost, '127.0.0.1');
      assert.ok(live.budgets?.length, 'holds listed while running');
      cloud.state.jobExit = 0;
      const r = await wl.result();
      assert.equal(r.outcome, 'succeeded');
      assert.deepEqual(await pendingActivities(id), [], 'no activity pending after completion');
      assert.equal(cloud.state.active.get('holdWatchdogLease'), 0, 'the lease holder ended');
      assert.equal(cloud.state.active.get('watchInstance'), 0, 'the instance watcher ended');
      const s = await wl.status();
      assert.equal(s.state, 'terminated');
      assert.equal(s.instance?.sshHost, undefined, 'no ssh line for a terminated instance');
      assert.ok(s.instance?.terminatedAt);
      assert.equal(s.gpuUtilization, undefined, 'no stale utilization');
      assert.equal(s.budgets, undefined, 'released holds are not listed');
      assert.equal(s.budgetsSettled, true);
      assert.deepEqual(s.attempts.map((a) => [a.outcome, !!a.terminatedAt]), [['completed', true]]);
      assert.match(s.costExact, /^\d+\.\d{8} USD$/);
      assert.equal(s.costExact, `${(Number(r.cost.amount) / 10 ** r.cost.scale).toFixed(8)} USD`);
      assert.equal(cloud.count('terminateInstance'), 1);
      assert.equal(cloud.count('settleBudgets'), 1);
    });
  });

  it('fails over when the first region has no capacity, sweeping the failed create', async () => {
    const cloud = fakeCloud();
    cloud.state.capacityGoneIn.add('us-east');
    cloud.state.jobExit = 0;
    await withWorker(cloud, async (start) => {
      const r = await client.handle(await start({ name: 'fails-over', ...JOB })).result();
      assert.equal(r.outcome, 'succeeded');
      assert.deepEqual(r.attempts.map((a) => [a.location, a.outcome]), [['us-east', 'failed-over'], ['eu-central', 'completed']]);
      assert.equal(cloud.count('terminateByRefId'), 1, 'the failed create is swept by its refId');
    });
  });

  it('recovers from a lost instance on a new one, terminating the lost one', async () => {
    const cloud = fakeCloud();
    await withWorker(cloud, async (start) => {
      const wl = client.handle(await start({ name: 'recovers', ...JOB }));
      await waitFor('running', async () => (await wl.status()).state === 'running', 30_000, 100);
      cloud.state.loss = { status: 'terminated', interruption: 'host-failure', reason: 'host-failure: gone', detectedAt: new Date().toISOString() };
      await waitFor('a second instance', async () => cloud.count('createInstance') === 2 && (await wl.status()).state === 'running', 30_000, 100);
      cloud.state.jobExit = 0;
      const r = await wl.result();
      assert.equal(r.recoveries, 1);
      assert.deepEqual(r.attempts.map((a) => a.outcome), ['interrupted', 'completed']);
      assert.ok(r.attempts.every((a) => a.terminatedAt), 'every attempt shows when its instance ended');
      assert.equal(cloud.count('terminateInstance'), 2);
    });
  });

  it('continues as new at every step of a long job: status, logs, auto-shutdown, holds and the instance survive, then stop', async () => {
    const cloud = fakeCloud();
    await withWorker(cloud, async (start) => {
      // historyLimit 1: every workflow task after the job attached continues as new.
      const id = await start({ name: 'long-job', ...JOB, autoShutdown: { utilizationBelowPercent: 10, idleWindow: '1h', sampleInterval: '1s' } }, 1);
      const wl = client.handle(id);
      await waitFor('three continued runs', async () => (await runsOf(id)) >= 4, 60_000, 250);
      const s = await wl.status();
      assert.equal(s.state, 'running');
      assert.equal(s.attempts.length, 1);
      assert.ok(s.budgets?.length, 'the holds are carried');
      assert.equal(cloud.count('createInstance'), 1, 'one instance for the whole life');
      assert.equal(cloud.count('bootstrapInstance'), 1, 'bootstrapped once');
      assert.equal(cloud.count('installWatchdog'), 1, 'the watchdog is installed once');
      assert.equal(cloud.count('terminateInstance'), 0, 'the instance lives through every run');
      assert.ok(cloud.count('runJob') >= 4, 'each run re-attaches to the job');
      assert.ok((cloud.calls.runJob as { run: number }[]).every((c) => c.run === 0), 'as the same run, never a restart');
      assert.match(await wl.logs(10), /step 2/);
      await wl.setAutoShutdown({ utilizationBelowPercent: 20, idleWindow: '2h', sampleInterval: '1s' });
      const next = { utilizationBelowPercent: 20, idleWindow: 7_200_000, sampleInterval: 1_000, requireNoSshSessions: false };
      const before = await runsOf(id);
      await waitFor('another run after the update', async () => (await runsOf(id)) > before, 60_000, 250);
      assert.deepEqual((await wl.status()).autoShutdown, next, 'the update is carried into the next runs');
      const seqs = (cloud.calls.reserveBudgets as ReserveBudgetsInput[]).map((c) => c.seq);
      assert.deepEqual(seqs, [...new Set(seqs)], 'budget sequence numbers never repeat across runs');
      await wl.stop('test');
      const r = await wl.result();
      assert.equal(r.outcome, 'stopped');
      assert.equal(cloud.count('terminateInstance'), 1);
      assert.equal(cloud.count('settleBudgets'), 1);
      assert.deepEqual(await pendingActivities(id), []);
    });
  });

  it('auto-shutdown counts the idle window across continued runs', async () => {
    const cloud = fakeCloud();
    cloud.state.utilization = [0];
    await withWorker(cloud, async (start) => {
      const id = await start({ name: 'idle-long', ...JOB, autoShutdown: { utilizationBelowPercent: 10, idleWindow: '4s', sampleInterval: '1s' } }, 1);
      const r = await client.handle(id).result();
      assert.equal(r.outcome, 'idle-shutdown');
      assert.ok((await runsOf(id)) >= 3, 'it continued as new while idle');
      assert.equal(cloud.count('createInstance'), 1);
      assert.equal(cloud.count('terminateInstance'), 1);
    });
  });
});
